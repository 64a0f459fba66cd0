/*
 * evidence.h - reading a finding's evidence (a JSON object as text, from
 * a detector) the same way where the engine accepts it and where the
 * report embeds it.
 */
#ifndef NFH_REPORT_EVIDENCE_H
#define NFH_REPORT_EVIDENCE_H

#include <jansson.h>

/* The JSON value of 'text' (new reference), or NULL with *err set.
 * Integers beyond 64 bits signed are valid JSON that jansson refuses as
 * integers: a detector may print a u64 counter, and a corrupt file can
 * make it that big. Such a text is read with every integer as a real
 * instead of being lost with its finding. */
json_t *nfh__evidence_parse(const char *text, json_error_t *err);

#endif
