/*
 * nfhunt/nfhunt.h - the nfhunt engine library, all public headers.
 */
#ifndef NFHUNT_NFHUNT_H
#define NFHUNT_NFHUNT_H

#include <nfhunt/filelist.h>
#include <nfhunt/flow.h>
#include <nfhunt/reader.h>
#include <nfhunt/status.h>

#endif
