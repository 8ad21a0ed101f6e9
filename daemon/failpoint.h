/* failpoint.h - named points where a test build can die as kill -9 would, to prove that
 * a crash at the worst instant loses nothing acknowledged and repeats nothing recorded.
 *
 * Compiled in only with `meson setup -Dfailpoints=true` (SLAD_FAILPOINTS defined); in
 * other builds FAILPOINT() is empty. When compiled in, the environment variable
 * SLAD_FAILPOINT=name kills the process with SIGKILL at the first hit of that point,
 * SLAD_FAILPOINT=name:N at the N-th. Points: "mid-batch" (just before the COMMIT of a
 * batch that holds writes) and "after-commit-before-reply" (after a COMMIT that answers
 * or deliveries wait for), in daemon/batch.c; "sync-on-thread" (a commit is in the WAL,
 * the commit thread is about to fdatasync it; its answers are still held), in
 * daemon/walsync.c; "after-2xx-before-record" (a receiver said 2xx, the outcome is not
 * written yet), in daemon/deliver.c.
 *
 * A hold point stops the thread that reaches it instead, for tests that need a long read
 * still running (never a sleep whose length the test guesses): SLAD_FAILPOINT_HOLD=name:PATH
 * makes the thread wait at name while the file PATH exists, and adds a line to PATH.held
 * when it starts waiting (how the test counts the threads held). Points: "reader-run" (a reader
 * thread took a report and is about to read it, daemon/reader.c), "sync-on-thread" (the
 * commit thread about to fdatasync, daemon/walsync.c: commits stay in the WAL, undurable). */
#ifndef SLAD_FAILPOINT_H
#define SLAD_FAILPOINT_H

#ifdef SLAD_FAILPOINTS
#define FAILPOINT(name)          failpoint_hit(name)
#define FAILPOINT_HOLD(name)     failpoint_hold(name)
#define FAILPOINT_VERSION_SUFFIX " failpoints"
#else
#define FAILPOINT(name)          ((void)0)
#define FAILPOINT_HOLD(name)     ((void)0)
#define FAILPOINT_VERSION_SUFFIX ""
#endif

/* Count a hit of name; SIGKILL ourselves when it is the one SLAD_FAILPOINT asks for. */
void failpoint_hit(const char *name);
/* Wait here while SLAD_FAILPOINT_HOLD names this point and its file exists. Any thread. */
void failpoint_hold(const char *name);

#endif
