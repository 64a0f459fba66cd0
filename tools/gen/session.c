/*
 * gen/session.c - splitting conversations into flow records by the
 * exporter's active and inactive timeouts.
 */
#include "config.h"

#include <string.h>

#include "session.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

/* Smallest packet of a protocol: the IP header plus the L4 header. */
static uint64_t min_packet(uint8_t proto, int v6) {
  uint64_t ip = v6 ? 40 : 20;
  return ip + (proto == 6 ? 20 : 8);
}

/* a * b / c without overflow (the product can pass 2^64 for days-long
 * sessions of terabytes). */
static uint64_t muldiv(uint64_t a, uint64_t b, uint64_t c) {
  return (uint64_t)((unsigned __int128)a * b / c);
}

static int is_single_shot(uint8_t outcome) {
  switch ((gen_outcome)outcome) {
  case GEN_TCP_NOREPLY:
  case GEN_TCP_REFUSED:
  case GEN_TCP_OPEN_PROBE:
  case GEN_TCP_UNREACH:
  case GEN_UDP_UNREACH:
    return 1;
  case GEN_TCP_OK:
  case GEN_TCP_RESET:
  case GEN_TCP_SYNFLOOD:
  case GEN_UDP_OK:
  case GEN_UDP_NOREPLY:
  case GEN_ICMP_ECHO:
  case GEN_ICMP_NOREPLY:
    return 0;
  }
  return 0;
}

static int has_reply(const gen_session *s) {
  switch ((gen_outcome)s->outcome) {
  case GEN_TCP_NOREPLY:
  case GEN_UDP_NOREPLY:
  case GEN_ICMP_NOREPLY:
    return 0;
  case GEN_TCP_SYNFLOOD:
    return s->rev_packets > 0;
  case GEN_TCP_OK:
  case GEN_TCP_RESET:
  case GEN_TCP_REFUSED:
  case GEN_TCP_OPEN_PROBE:
  case GEN_TCP_UNREACH:
  case GEN_UDP_OK:
  case GEN_UDP_UNREACH:
  case GEN_ICMP_ECHO:
    return 1;
  }
  return 0;
}

void gen_session_init(gen_session *s, const nfh_addr *client,
                      uint16_t client_port, const nfh_addr *server,
                      uint16_t server_port, uint8_t proto, gen_outcome outcome,
                      uint64_t start_ms, uint32_t activity) {
  memset(s, 0, sizeof(*s));
  s->client = *client;
  s->server = *server;
  s->client_port = client_port;
  s->server_port = server_port;
  s->proto = proto;
  s->outcome = (uint8_t)outcome;
  s->start_ms = start_ms;
  s->activity = activity;
  s->rtt_ms = 20;
}

void gen_session_start(gen_session *s, gen_rng *rng) {
  int v6 = s->client.family == 6;
  uint64_t minp = min_packet(s->proto, v6);
  s->rng = gen_rng_fork(rng);
  switch ((gen_outcome)s->outcome) {
  case GEN_TCP_OK:
  case GEN_TCP_RESET:
    /* SYN, ACK and FIN at least, each way. */
    if (s->fwd_packets < 3)
      s->fwd_packets = 3;
    if (s->rev_packets < 2)
      s->rev_packets = 2;
    break;
  case GEN_TCP_NOREPLY:
    if (s->fwd_packets < 1 || s->fwd_packets > 3)
      s->fwd_packets = 1;
    s->rev_packets = s->rev_bytes = 0;
    s->fwd_bytes = s->fwd_packets * (v6 ? 80 : 60);
    break;
  case GEN_TCP_REFUSED:
  case GEN_TCP_UNREACH:
    s->fwd_packets = 1;
    s->fwd_bytes = v6 ? 80 : 60;
    s->rev_packets = 1;
    s->rev_bytes = s->outcome == GEN_TCP_REFUSED ? minp : (v6 ? 128 : 56);
    s->duration_ms = 0;
    break;
  case GEN_TCP_OPEN_PROBE:
    s->fwd_packets = 2;
    s->fwd_bytes = v6 ? 80 + 60 : 60 + 40;
    s->rev_packets = 1;
    s->rev_bytes = v6 ? 80 : 60;
    break;
  case GEN_UDP_UNREACH:
    s->fwd_packets = 1;
    if (s->fwd_bytes < minp)
      s->fwd_bytes = minp;
    s->rev_packets = 1;
    s->rev_bytes = v6 ? 48 + s->fwd_bytes : 28 + s->fwd_bytes;
    if (s->rev_bytes > 576)
      s->rev_bytes = 576;
    s->duration_ms = 0;
    break;
  case GEN_TCP_SYNFLOOD:
  case GEN_UDP_OK:
  case GEN_UDP_NOREPLY:
  case GEN_ICMP_ECHO:
  case GEN_ICMP_NOREPLY:
    break;
  }
  if (!has_reply(s))
    s->rev_packets = s->rev_bytes = 0;
  if (s->fwd_packets == 0)
    s->fwd_packets = 1;
  if (s->fwd_bytes < s->fwd_packets * minp)
    s->fwd_bytes = s->fwd_packets * minp;
  if (has_reply(s) && s->rev_packets == 0)
    s->rev_packets = 1;
  if (s->rev_bytes < s->rev_packets * minp)
    s->rev_bytes = s->rev_packets * minp;
  s->left[0] = s->fwd_packets;
  s->left[1] = s->fwd_bytes;
  s->left[2] = s->rev_packets;
  s->left[3] = s->rev_bytes;
  memset(s->carry, 0, sizeof(s->carry));
  s->cur_ms = s->start_ms;
  s->end_ms = s->start_ms + s->duration_ms;
  s->gaps = s->idle_mean_ms > 0 && !is_single_shot(s->outcome);
  s->chunk_end_ms = s->end_ms;
  if (s->gaps) {
    uint64_t len = 1000 + (uint64_t)gen_rng_exp(&s->rng, s->idle_mean_ms);
    if (s->cur_ms + len < s->end_ms)
      s->chunk_end_ms = s->cur_ms + len;
  }
  s->step = 0;
  s->done = 0;
}

/* Share of a counter for a record covering 'len' ms of the session:
 * proportional to time, with the rounding error carried over so that a
 * continuous session's records add up exactly to its totals. */
static uint64_t take(gen_session *s, int k, double share, int last,
                     uint64_t min) {
  uint64_t v;
  if (last && !s->gaps) {
    v = s->left[k];
  } else {
    double want = share * (double)(k < 2 ? (k == 0 ? s->fwd_packets
                                                   : s->fwd_bytes)
                                          : (k == 2 ? s->rev_packets
                                                    : s->rev_bytes)) +
                  s->carry[k];
    v = (uint64_t)want;
    s->carry[k] = want - (double)v;
    if (v > s->left[k])
      v = s->left[k];
  }
  if (v < min)
    v = min;
  s->left[k] = s->left[k] > v ? s->left[k] - v : 0;
  return v;
}

/* The continuous case: counter k's share of what is left for 'len' of
 * the 'rest' milliseconds, at least 'min' (a record has a packet, and
 * each packet its headers), even when that exceeds the totals: a session
 * with fewer packets than records gets one more here and there. */
static uint64_t portion(gen_session *s, int k, uint64_t len, uint64_t rest,
                        uint64_t min) {
  uint64_t v = muldiv(s->left[k], len, rest);
  if (v < min)
    v = min;
  s->left[k] = s->left[k] > v ? s->left[k] - v : 0;
  return v;
}

static uint8_t tcp_flags(const gen_session *s, int reply, int first, int last,
                         uint64_t packets) {
  switch ((gen_outcome)s->outcome) {
  case GEN_TCP_OK:
  case GEN_TCP_RESET: {
    uint8_t f = TH_ACK;
    if (packets > 2 || (!first && packets > 1))
      f |= TH_PSH;
    if (first)
      f |= TH_SYN;
    if (first && !reply && packets == 1)
      f = TH_SYN;
    if (last) {
      if (s->outcome == GEN_TCP_OK)
        f |= TH_FIN;
      else if (reply)
        f |= TH_RST;
    }
    return f;
  }
  case GEN_TCP_NOREPLY:
  case GEN_TCP_UNREACH:
    return TH_SYN;
  case GEN_TCP_REFUSED:
    return reply ? (TH_RST | TH_ACK) : TH_SYN;
  case GEN_TCP_OPEN_PROBE:
    return reply ? (TH_SYN | TH_ACK) : (TH_SYN | TH_RST);
  case GEN_TCP_SYNFLOOD:
    return reply ? (TH_SYN | TH_ACK) : TH_SYN;
  case GEN_UDP_OK:
  case GEN_UDP_NOREPLY:
  case GEN_UDP_UNREACH:
  case GEN_ICMP_ECHO:
  case GEN_ICMP_NOREPLY:
    return 0;
  }
  return 0;
}

int gen_session_next(gen_session *s, const gen_timeouts *t, gen_rec out[2]) {
  if (s->done)
    return 0;
  int v6 = s->client.family == 6;
  uint64_t active = t->active_ms ? t->active_ms : 60000;
  uint64_t t0 = s->cur_ms, t1;
  int last;
  if (is_single_shot(s->outcome)) {
    t1 = s->end_ms;
    last = 1;
  } else {
    t1 = t0 + active - 1;
    if (t1 >= s->chunk_end_ms)
      t1 = s->chunk_end_ms;
    last = t1 >= s->end_ms;
  }
  /* With idle gaps the session's active time is not known in advance:
   * each record takes its share of the totals by time. */
  double share = (double)(t1 - t0 + 1) / (double)(s->duration_ms + 1);
  uint64_t minp = min_packet(s->proto, v6);
  uint64_t fp, fb, rp = 0, rb = 0;
  if (!s->gaps && !last) {
    /* Continuous: a share of what is left, proportional to time, so
     * the records add up to the session's totals exactly. */
    uint64_t rest = s->end_ms - t0 + 1, len = t1 - t0 + 1;
    fp = portion(s, 0, len, rest, 1);
    fb = portion(s, 1, len, rest, fp * minp);
    if (s->rev_packets) {
      rp = portion(s, 2, len, rest, 1);
      rb = portion(s, 3, len, rest, rp * minp);
    }
  } else {
    fp = take(s, 0, share, last, 1);
    fb = take(s, 1, share, last, fp * minp);
    if (s->rev_packets) {
      rp = take(s, 2, share, last, 1);
      rb = take(s, 3, share, last, rp * minp);
    }
  }
  int first = s->step == 0;

  /* The request direction. */
  gen_rec *f = &out[0];
  memset(f, 0, sizeof(*f));
  f->first_ms = t0;
  f->last_ms = fp > 1 ? t1 : t0;
  f->packets = fp;
  f->bytes = fb;
  f->src = s->client;
  f->dst = s->server;
  f->activity = s->activity;
  f->proto = s->proto;
  f->tos = s->tos;
  f->in_if = s->in_if;
  f->out_if = s->out_if;
  if (s->proto == 1 || s->proto == 58) {
    f->src_port = 0;
    f->dst_port = s->proto == 1 ? 8 << 8 : 128 << 8;
  } else {
    f->src_port = s->client_port;
    f->dst_port = s->server_port;
    if (s->proto == 6)
      f->tcp_flags = tcp_flags(s, 0, first, last, fp);
  }
  int n = 1;

  if (rp) {
    gen_rec *r = &out[1];
    memset(r, 0, sizeof(*r));
    uint64_t rtt = first ? s->rtt_ms : 0;
    r->first_ms = t0 + rtt;
    if (r->first_ms > t1)
      r->first_ms = t1;
    r->last_ms = rp > 1 ? (t1 > r->first_ms ? t1 : r->first_ms) : r->first_ms;
    if (rp > 1 && last && s->proto == 6)
      r->last_ms = t1; /* the server's FIN (or RST) */
    r->packets = rp;
    r->bytes = rb;
    r->src = s->server;
    r->dst = s->client;
    r->activity = s->activity;
    r->tos = s->tos;
    r->in_if = s->out_if;
    r->out_if = s->in_if;
    if (s->outcome == GEN_TCP_UNREACH || s->outcome == GEN_UDP_UNREACH) {
      r->proto = v6 ? 58 : 1;
      /* IPv4 3/13 (administratively prohibited) or 3/3 (port
       * unreachable); ICMPv6 1/1 or 1/4. */
      if (v6)
        r->dst_port = s->outcome == GEN_TCP_UNREACH ? (1 << 8 | 1)
                                                    : (1 << 8 | 4);
      else
        r->dst_port = s->outcome == GEN_TCP_UNREACH ? (3 << 8 | 13)
                                                    : (3 << 8 | 3);
    } else if (s->proto == 1 || s->proto == 58) {
      r->proto = s->proto;
      r->dst_port = s->proto == 1 ? 0 : 129 << 8;
    } else {
      r->proto = s->proto;
      r->src_port = s->server_port;
      r->dst_port = s->client_port;
      if (s->proto == 6)
        r->tcp_flags = tcp_flags(s, 1, first, last, rp);
    }
    n = 2;
  }

  s->step++;
  if (last) {
    s->done = 1;
    return n;
  }
  if (t1 >= s->chunk_end_ms) {
    /* An idle gap longer than the inactive timeout: the next packets
     * open new cache entries. */
    uint64_t idle = t->inactive_ms ? t->inactive_ms : 15000;
    uint64_t gap = idle + 1000 + (uint64_t)gen_rng_exp(&s->rng, (double)idle);
    s->cur_ms = t1 + gap;
    if (s->cur_ms >= s->end_ms) {
      s->cur_ms = s->end_ms;
      s->chunk_end_ms = s->end_ms;
    } else {
      uint64_t len = 1000 + (uint64_t)gen_rng_exp(&s->rng, s->idle_mean_ms);
      s->chunk_end_ms = s->cur_ms + len < s->end_ms ? s->cur_ms + len
                                                     : s->end_ms;
    }
  } else {
    /* Cut by the active timeout: the next record starts with the next
     * packet, a few milliseconds later. */
    s->cur_ms = t1 + 1 + gen_rng_range(&s->rng, 0, 20);
    if (s->cur_ms > s->end_ms)
      s->cur_ms = s->end_ms;
  }
  return n;
}
