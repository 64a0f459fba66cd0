/* badabi.c - a module built for another major ABI: the host must refuse
 * it before calling anything. */
#include <stddef.h>

#include <nfhunt/plugin.h>

static const nfh_plugin_descriptor descriptor = {
    .abi_version = (uint32_t)(NFH_PLUGIN_ABI_MAJOR + 98) << 16,
    .struct_size = sizeof(nfh_plugin_descriptor),
    .name = "badabi",
    .version = "0",
    .description = "wrong ABI on purpose",
};

const nfh_plugin_descriptor *nfh_plugin_entry(void);

const nfh_plugin_descriptor *nfh_plugin_entry(void) { return &descriptor; }
