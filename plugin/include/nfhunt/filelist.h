/*
 * nfhunt/filelist.h - choosing capture files the way nfdump does.
 *
 *   -r FILE        one file (a directory means -R DIR)
 *   -R DIR         every nfcapd file below DIR, recursively
 *   -R DIR/FIRST   from FIRST to the end of DIR's tree
 *   -R A:B         from file A to file B; B is relative to the flow root
 *                  that A lies in (A's directory minus as many levels as
 *                  B names), so "2024/01/01/nfcapd.x:2024/01/02/nfcapd.y"
 *                  spans days of a -S hierarchy
 *   -M /base/s1:s2 the same selection in each source directory (s2 is
 *                  relative to /base); without -r/-R, every file of each
 *
 * Files are ordered by the time slot in their name (nfcapd.YYYYMMDDhhmm,
 * optionally seconds), then by path, so several sources interleave in
 * time. Skipped in directory walks: nfcapd.current.*, names starting with
 * '.', names containing "pcap", and files that do not start with the
 * nfcapd magic number (such as nfhunt's own findings files).
 */
#ifndef NFHUNT_FILELIST_H
#define NFHUNT_FILELIST_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nfh_filelist nfh_filelist;

/* Creates an empty list; NFH_OK or NFH_ENOMEM (*out NULL). */
nfh_status nfh_filelist_create(nfh_filelist **out);

/* Frees the list; NULL is a no-op. */
void nfh_filelist_destroy(nfh_filelist *list);

/* Sets the -M sources ("/base/s1:s2"); later add calls resolve their
 * paths against each source. NFH_OK, NFH_ENOTFOUND (a source directory
 * does not exist) or NFH_ENOMEM. */
nfh_status nfh_filelist_set_sources(nfh_filelist *list, const char *spec);

/* Adds the files of a -r argument. A missing explicit file is kept in the
 * list (opening it reports the error, as for any unreadable file).
 * NFH_OK, NFH_ENOMEM or NFH_EIO. */
nfh_status nfh_filelist_add_file(nfh_filelist *list, const char *spec);

/* Adds the files of a -R argument (see above). NFH_OK, NFH_ENOTFOUND,
 * NFH_ESYNTAX (a range whose ends cannot be ordered), NFH_ENOMEM. */
nfh_status nfh_filelist_add_range(nfh_filelist *list, const char *spec);

/* Adds every file of each -M source (the default without -r/-R). */
nfh_status nfh_filelist_add_sources(nfh_filelist *list);

/* Sorts by time slot and removes duplicates (one path named twice, or
 * one file reached by two paths); call once after adding. */
void nfh_filelist_finish(nfh_filelist *list);

size_t nfh_filelist_count(const nfh_filelist *list);

/* How many files nfh_filelist_finish dropped as the same file as another
 * under another name (a hard link, a symlink), and the first such pair:
 * *dropped names it, *kept the name it is read under (borrowed until the
 * list is destroyed; NULL when none, or when out of memory for a copy).
 * Either pointer may be NULL. */
size_t nfh_filelist_same_files(const nfh_filelist *list, const char **dropped,
                               const char **kept);

/* How many paths nfh_filelist_finish dropped because the selection named
 * them more than once (-r FILE twice, -M naming one directory twice),
 * and the first (borrowed until the list is destroyed). 'first' may be
 * NULL. */
size_t nfh_filelist_named_twice(const nfh_filelist *list, const char **first);

/* How many directories below a flow root could not be read (permission
 * denied...), their files not selected, and the first one's path with
 * the reason ("/flows/2024/03: Permission denied"; borrowed until the
 * list is destroyed, NULL when none or out of memory). */
size_t nfh_filelist_unreadable_dirs(const nfh_filelist *list,
                                    const char **first);

/* Whether the file of path 'path' (as nfh_filelist_path gives it) was
 * there when it was selected (a walk found it, or a named file existed):
 * one gone when it is opened was removed meanwhile, not mistyped. A
 * linear search: for the rare file that fails. */
int nfh_filelist_was_there(const nfh_filelist *list, const char *path);

/* Path of file i (< count); borrowed until the list is destroyed. */
const char *nfh_filelist_path(const nfh_filelist *list, size_t i);

/* Detail of the last failure ("-R /x: no such directory"); "" if none. */
const char *nfh_filelist_error(const nfh_filelist *list);

/* Parses nfdump's -t syntax, local time:
 *   YYYY/MM/dd[.hh[:mm[:ss]]][-YYYY/MM/dd[.hh[:mm[:ss]]]]
 * and ISO 8601 YYYY-MM-DD[Thh[:mm[:ss]]] for either end; an end given
 * only to the day, hour or minute covers that whole day, hour or minute.
 * A single time means "from then on". Sets epoch milliseconds
 * (*end_ms = UINT64_MAX when open). NFH_OK or NFH_ESYNTAX. */
nfh_status nfh_parse_time_window(const char *spec, uint64_t *start_ms,
                                 uint64_t *end_ms);

/* The time slot of an nfcapd file name (basename nfcapd.YYYYMMDDhhmm or
 * ...hhmmss), local time, as epoch seconds; -1 if the name has none. */
int64_t nfh_file_slot_time(const char *path);

#ifdef __cplusplus
}
#endif
#endif
