/* evidence.c - a finding's evidence as JSON; see evidence.h. */
#include "config.h"

#include "evidence.h"

json_t *nfh__evidence_parse(const char *text, json_error_t *err) {
  json_t *j = json_loads(text, 0, err);
  if (!j)
    j = json_loads(text, JSON_DECODE_INT_AS_REAL, err);
  return j;
}
