/*
 * nfhunt/nfhunt.h - the nfhunt engine library: the headers of the hunt
 * (reading, the flow model, the engine and its plugins, state, report).
 * The helpers a detector or tool may use besides (blob.h, door.h,
 * hll.h, homeguess.h, hugemem.h, jsonflow.h) are included one by one.
 */
#ifndef NFHUNT_NFHUNT_H
#define NFHUNT_NFHUNT_H

#include <nfhunt/conn.h>
#include <nfhunt/engine.h>
#include <nfhunt/filelist.h>
#include <nfhunt/finding.h>
#include <nfhunt/flow.h>
#include <nfhunt/plugin.h>
#include <nfhunt/reader.h>
#include <nfhunt/report.h>
#include <nfhunt/state.h>
#include <nfhunt/status.h>
#include <nfhunt/writer.h>

#endif
