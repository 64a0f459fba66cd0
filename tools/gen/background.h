/*
 * gen/background.h - benign traffic at an organisation's edge.
 *
 * Classes, each a label of its own ("benign_*") so that false alarms can
 * be traced to the trap that caused them:
 *   browsing      users to many web servers (HTTPS mostly), diurnal,
 *                 heavy-tailed response sizes; dual-stack users use IPv6
 *   dns           users to the two internal resolvers, the resolvers
 *                 recursing out to many authoritative servers: a benign
 *                 fan-out on port 53
 *   ntp           a few servers polling a few pool servers at fixed
 *                 intervals (64 s to 512 s): periodic
 *   saas          agents on many hosts keeping in touch with three SaaS
 *                 endpoints every 60/120/300 s: periodic, popular
 *   cdn           big downloads from a few CDN addresses
 *   cloudsync     uploads to three cloud-storage endpoints: big outbound
 *   backup        one or two servers uploading tens of GB to one offsite
 *                 host every night
 *   monitoring    one poller reaching every monitored host every 5
 *                 minutes (ICMP, SNMP, HTTP), all answered: a benign
 *                 fan-out
 *   public_web    the DMZ web server and its many external clients
 *   ssh           admins' interactive SSH sessions, long and idle in
 *                 places, split by the exporter's timeouts
 *   ibr           internet background radiation: single probes from
 *                 many sources to the DMZ
 *
 * Volumes are per user (or per second) at the diurnal peak; the curve
 * goes from 5% at night to 100% late morning and afternoon, weekends at
 * 30%. Local time is the process's (TZ), as for nfcapd's file names.
 */
#ifndef NFH_GEN_BACKGROUND_H
#define NFH_GEN_BACKGROUND_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/status.h>

#include "engine.h"
#include "param.h"

/* The knobs; gen_bg_params_defaults fills them. A rate of 0 switches a
 * class off. */
typedef struct gen_bg_params {
  double browse_rate;   /* page visits per user-hour at peak (20) */
  uint32_t web_hosts;   /* external web servers (20000) */
  double dns_miss;      /* resolver cache misses (0.3) */
  uint32_t auth_hosts;  /* authoritative servers (5000) */
  uint32_t ntp_clients; /* internal NTP clients (6) */
  uint32_t ntp_servers; /* pool servers (4) */
  double saas_share;    /* share of users running each SaaS agent (0.4) */
  double cdn_rate;      /* downloads per user-hour at peak (0.3) */
  double sync_rate;     /* uploads per user-hour at peak (0.2) */
  uint32_t backup_hosts;  /* servers backed up nightly (2) */
  double backup_hour;     /* local start hour (1.0 = 01:00) */
  gen_range backup_size;  /* bytes per host and night (5G-40G) */
  gen_range backup_rate;  /* bytes/s per stream (30M-100M) */
  uint32_t monitored;     /* user hosts the poller watches (256) */
  double poll_interval;   /* seconds (300) */
  double public_rate;     /* DMZ web connections per second at peak (2) */
  uint32_t admins;        /* users doing SSH (4) */
  double ssh_rate;        /* sessions per admin-hour at peak (0.3) */
  double ibr_rate;        /* background radiation probes per minute (20) */
  double weekend;         /* weekend factor (0.3) */
} gen_bg_params;

void gen_bg_params_defaults(gen_bg_params *p);

/* Applies "key=value" settings (the field names above) to p. Returns
 * NFH_OK or NFH_ESYNTAX with a message in why. */
nfh_status gen_bg_params_set(gen_bg_params *p, const char *text, char *why,
                             size_t len);

typedef struct gen_bg gen_bg;

/* Creates the background and its labels in w->labels (w is borrowed
 * for the life of the background). Returns NFH_OK or NFH_ENOMEM. */
nfh_status gen_bg_create(const gen_world *w, const gen_bg_params *p,
                         gen_bg **out);

void gen_bg_destroy(gen_bg *bg);

/* Adds the sessions starting in [t0, t1) to the engine. Returns NFH_OK
 * or the engine's failure. */
nfh_status gen_bg_slot(gen_bg *bg, uint64_t t0, uint64_t t1);

/* The diurnal activity factor (0..1) at a time, local time of the
 * process, with the weekend factor applied. Exposed for tests. */
double gen_diurnal(uint64_t ms, double weekend);

#endif
