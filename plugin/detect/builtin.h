/*
 * builtin.h - detectors linked into the program instead of loaded.
 *
 * nfhunt loads every detector from a module (nfh_engine_load_module).
 * A harness that links the detectors' sources in (the fuzzers: one
 * sanitized binary, no dlopen) hands their descriptors to the engine
 * here; they are checked and run exactly as loaded ones.
 */
#ifndef NFH_DETECT_BUILTIN_H
#define NFH_DETECT_BUILTIN_H

#include <nfhunt/engine.h>
#include <nfhunt/plugin.h>

/* Adds the detector of descriptor d (static storage, as an entry
 * returns it); 'origin' names it in messages and nfh_plugin_info.path.
 * Returns NFH_OK, or as nfh_engine_load_module does for a bad
 * descriptor (NFH_EINVAL for NULL). */
nfh_status nfh__engine_add_builtin(nfh_engine *engine,
                                   const nfh_plugin_descriptor *d,
                                   const char *origin);

#endif
