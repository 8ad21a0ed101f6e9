/* retry.h - when to try a failed notification again, and when to give up (SPEC 3).
 *
 * Exponential backoff with full jitter (the AWS architecture blog's "full jitter"): after
 * the n-th failed attempt the delay is uniform in [RETRY_MIN_MS, min(cap, base * 2^(n-1))],
 * base 1 s and cap 10 min, so a crowd of notifications that failed together spreads out
 * instead of hammering a recovering receiver in step. A server's Retry-After (429, 503;
 * delta-seconds or HTTP-date) is honoured as a lower bound, itself capped at 1 h so that
 * a confused server cannot park a notification for a year. A notification is dead after
 * the channel's max_attempts attempts, or when the next attempt would start later than
 * max_age after the notification was queued, with its last error. The randomness is an
 * argument: the daemon passes a random 64-bit number, tests pass fixed ones. */
#ifndef SLAD_RETRY_H
#define SLAD_RETRY_H

#include <stdint.h>

#include "civil.h"
#include "conf.h"

#define RETRY_BASE_MS            1000
#define RETRY_CAP_MS             (10 * 60 * 1000)
#define RETRY_MIN_MS             100 /* no retry sooner than this: never a busy loop */
#define RETRY_AFTER_MAX_MS       (60 * 60 * 1000)
#define RETRY_DEFAULT_ATTEMPTS   10
#define RETRY_DEFAULT_MAX_AGE_MS CIVIL_MS_PER_DAY

/* What one attempt came to (channel_classify), and what becomes of the notification
 * (retry_decide). */
enum retry_outcome {
    RETRY_SENT,  /* delivered */
    RETRY_AGAIN, /* failed, may work later */
    RETRY_DEAD,  /* failed for good */
};

/* "sent", "retry", "dead": the result label of slad_notification_attempts_total. */
const char *retry_outcome_name(enum retry_outcome outcome);

struct retry_policy {
    int max_attempts;           /* attempts in all, the first included */
    int64_t max_age_ms;         /* since the notification was queued; 0: no limit */
    int64_t base_ms, cap_ms;    /* backoff */
    int64_t retry_after_max_ms; /* longest Retry-After honoured */
};

/* The policy of channel ch (its max_attempts and max_age), or the defaults for NULL. */
void retry_policy_init(struct retry_policy *p, const struct conf_channel *ch);

/* The delay after the failures-th failed attempt (failures >= 1), from random. Always in
 * [RETRY_MIN_MS, min(cap_ms, base_ms * 2^(failures-1))] (the upper bound never below
 * RETRY_MIN_MS). */
int64_t retry_backoff_ms(const struct retry_policy *p, int failures, uint64_t random);

/* A Retry-After header value: delta-seconds ("120") or an HTTP-date (IMF-fixdate "Sun, 06
 * Nov 1994 08:49:37 GMT", and the obsolete RFC 850 and asctime forms RFC 9110 asks
 * recipients to accept). *ret_delay_ms is the wait from now_ms (0 for a date in the past;
 * huge values saturate at DURATION_MAX_MS). -EINVAL for anything else. */
int retry_after_parse(const char *value, int64_t now_ms, int64_t *ret_delay_ms);

#define RETRY_ERROR_MAX 384

struct retry_decision {
    enum retry_outcome outcome;       /* SENT, AGAIN or DEAD */
    int64_t next_attempt_ms;          /* AGAIN: when to try next; else SLAD_NO_TIME */
    char last_error[RETRY_ERROR_MAX]; /* "" when sent; else reason, with why it gave up */
};

/* Decide after attempt number attempts (1 for the first) of a notification queued at
 * created_ms came to outcome at now_ms. retry_after_ms is what the server asked for
 * (-1: nothing), reason what went wrong (may be NULL). */
void retry_decide(const struct retry_policy *p, enum retry_outcome outcome, int64_t retry_after_ms,
                  const char *reason, int attempts, int64_t created_ms, int64_t now_ms,
                  uint64_t random, struct retry_decision *ret);

#endif
