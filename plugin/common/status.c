/* status.c - messages and names for nfh_status. */
#include "config.h"

#include <nfhunt/status.h>

const char *nfh_strerror(nfh_status status) {
  /* A switch rather than a table: -Wswitch then flags any status that the
   * map gains without this function learning it. */
  switch (status) {
#define NFH_STATUS_MSG_(name, num, msg)                                       \
  case NFH_##name:                                                            \
    return msg;
    NFH_STATUS_MAP(NFH_STATUS_MSG_)
#undef NFH_STATUS_MSG_
  }
  return "unknown status";
}

const char *nfh_status_name(nfh_status status) {
  switch (status) {
#define NFH_STATUS_NAME_(name, num, msg)                                      \
  case NFH_##name:                                                            \
    return #name;
    NFH_STATUS_MAP(NFH_STATUS_NAME_)
#undef NFH_STATUS_NAME_
  }
  return "UNKNOWN";
}
