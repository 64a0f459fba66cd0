/* path.c - what a path names; see path.h. */
#include "config.h"

#include <sys/stat.h>

#include "path.h"

int nfh__is_special_file(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && !S_ISREG(sb.st_mode);
}
