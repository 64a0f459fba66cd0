/*
 * hunt/files.h - where nfhunt(1) finds its input and puts its findings
 * in an nfcapd flow directory.
 *
 * nfcapd -x hands over the new file as "%d" (the flow directory) and
 * "%f": before nfdump 1.7.8 %f is relative to %d ("2024/03/01/
 * nfcapd.202403011005" with -S 1), from 1.7.8 on it is absolute. So
 * "%d/%f", as nfcapd(1) suggests, reads "/flows//flows/2024/..." with a
 * newer nfcapd. hunt_rotated takes either form.
 *
 * The findings of capture file DIR/nfcapd.STAMP go to
 * DIR/.nfhunt.STAMP.stat.json. Every nfdump release skips that name when
 * it walks a directory (-R): up to 1.7.7 nfdump skips names containing
 * ".stat", from 1.7.8 on names starting with '.'. Any other file there
 * that is not a capture file ends nfdump's file list silently (it stops
 * at the first file it cannot open). nfexpire deletes only
 * nfcapd.YYYYMMDDhhmm[ss] files, so hunt_sweep_reports removes the
 * findings whose capture file is gone, and nfexpire can then remove the
 * emptied directories.
 */
#ifndef NFH_HUNT_FILES_H
#define NFH_HUNT_FILES_H

#include <stddef.h>
#include <stdint.h>

#define HUNT_REPORT_PREFIX ".nfhunt."
#define HUNT_REPORT_SUFFIX ".stat.json"

/* Resolves nfcapd -x's arguments. Two arguments (flowdir = "%d", file =
 * "%f"): file is taken as is when absolute, else below flowdir. One
 * argument (file = "%d/%f", flowdir NULL): a "//" in it separates %d
 * from an absolute %f; without one, the flow directory is the file's
 * directory less the nfcapd -S subdirectories that the file's time slot
 * (local time, as nfcapd names them) gives. Sets *dir_out and *file_out
 * (malloc'd; the caller frees). 0, or -1 (out of memory, or an empty argument).
 */
int hunt_rotated(const char *flowdir, const char *file, char **dir_out,
                 char **file_out);

/* The findings file beside a capture file (malloc'd): DIR/.nfhunt.STAMP
 * .stat.json for DIR/nfcapd.STAMP, DIR/.nfhunt.NAME.stat.json for any
 * other name. NULL when out of memory. */
char *hunt_report_path(const char *capture);

/* Walks 'root' and removes every findings file whose capture file no
 * longer exists, and temporary files of report writers that died more
 * than an hour ago. *removed gets the count. 0, or -1 when root cannot
 * be walked (errno set). */
int hunt_sweep_reports(const char *root, uint64_t *removed);

#endif
