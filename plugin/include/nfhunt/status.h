/*
 * nfhunt/status.h - the one status type of the nfhunt library.
 *
 * Every library call that can fail returns an nfh_status. NFH_OK is zero.
 * New values are only ever appended; no value is renumbered or removed,
 * so a status stored in a log or state file keeps its meaning.
 */
#ifndef NFHUNT_STATUS_H
#define NFHUNT_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/* XX(name, number, message): one line per status, feeding the enum,
 * nfh_strerror() and nfh_status_name() so the three cannot drift. */
#define NFH_STATUS_MAP(XX)                                                    \
  XX(OK, 0, "success")                                                        \
  XX(END, 1, "no more data")                                                  \
  XX(ENOMEM, 2, "out of memory")                                              \
  XX(EINVAL, 3, "invalid argument")                                           \
  XX(EIO, 4, "input/output error")                                            \
  XX(ENOTFOUND, 5, "not found")                                               \
  XX(ETRUNC, 6, "file truncated")                                             \
  XX(EMAGIC, 7, "not an nfcapd file (bad magic)")                             \
  XX(ELAYOUT, 8, "unsupported file layout")                                   \
  XX(ECODEC, 9, "unsupported compression")                                    \
  XX(EENCRYPTED, 10, "encrypted file")                                        \
  XX(ECORRUPT, 11, "corrupt file structure")                                  \
  XX(EDECOMPRESS, 12, "corrupt compressed data")                              \
  XX(ETOOBIG, 13, "size beyond limit")                                        \
  XX(ERANGE, 14, "value out of range")                                        \
  XX(ESYNTAX, 15, "syntax error")                                             \
  XX(EBUSY, 16, "resource busy")                                              \
  XX(EPLUGIN, 17, "plugin error")                                             \
  XX(EABI, 18, "plugin ABI mismatch")                                         \
  XX(ESTATE, 19, "state store error")

typedef enum nfh_status {
#define NFH_STATUS_ENUM_(name, num, msg) NFH_##name = num,
  NFH_STATUS_MAP(NFH_STATUS_ENUM_)
#undef NFH_STATUS_ENUM_
} nfh_status;

/* A static English message for a status; never NULL, also for a value
 * this library version does not know ("unknown status"). */
const char *nfh_strerror(nfh_status status);

/* The symbolic name without prefix ("ECORRUPT"); never NULL. */
const char *nfh_status_name(nfh_status status);

#ifdef __cplusplus
}
#endif
#endif /* NFHUNT_STATUS_H */
