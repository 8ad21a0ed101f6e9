/* faultvfs.h - a test-only SQLite VFS over the default one ("unix") that injects I/O errors
 * at the k-th operation and simulates power loss.
 *
 * Registered as the default VFS, so that store_open (which names none) goes through it.
 * Everything passes through to the real VFS unless armed.
 *
 * Power loss: while armed, every write and truncate of the main database, its WAL and its
 * rollback journal is remembered (offset, bytes before, bytes after) until that file's
 * next xSync. At the cut (the n-th write, truncate or sync of those files, before it is
 * done) the shim writes what the disk could hold after a power cut into another directory:
 * the synced content plus, depending on the mode, none, an in-order prefix (the last write
 * torn at a 512-byte sector) or a random subset of the 512-byte sectors of the unsynced
 * writes. Writes never change bytes outside their range (SQLite's powersafe overwrite).
 * Not modelled: directory entries (a created or deleted file is taken as durable). */
#ifndef SLAD_TEST_FAULTVFS_H
#define SLAD_TEST_FAULTVFS_H

#include <stdbool.h>
#include <stdint.h>

/* Operations that may fail (a mask). */
enum faultvfs_op {
    FAULTVFS_READ = 1 << 0,
    FAULTVFS_WRITE = 1 << 1,
    FAULTVFS_SYNC = 1 << 2,
    FAULTVFS_TRUNCATE = 1 << 3,
    FAULTVFS_FILESIZE = 1 << 4,
    FAULTVFS_LOCK = 1 << 5,
    FAULTVFS_SHMMAP = 1 << 6,
    FAULTVFS_ALL = (1 << 7) - 1
};

/* Register the shim as the default VFS (idempotent). 0 or an SQLite error code. */
int faultvfs_register(void);

/* Make the k-th (from 1) operation in mask fail with its SQLITE_IOERR_* code; with
 * persistent every later one fails too. k = 0 disarms. Counting starts here. */
void faultvfs_fail_at(unsigned mask, long k, bool persistent);
/* Whether the armed failure happened since faultvfs_fail_at. */
bool faultvfs_failed(void);

enum faultvfs_loss {
    FAULTVFS_DROP,   /* every unsynced write is lost */
    FAULTVFS_PREFIX, /* unsynced writes reach the disk in order up to one torn write */
    FAULTVFS_SECTORS /* each 512-byte sector of an unsynced write survives or not */
};

/* Track writes from now on; before the cut-th (from 1) write, truncate or sync of a
 * tracked file, write the power-loss image of each tracked open file into image_dir
 * (same base names), choosing with seed. cut = 0: track and count only. */
void faultvfs_powerloss_arm(long cut, enum faultvfs_loss loss, uint64_t seed,
                            const char *image_dir);
/* Stop tracking; forget what was remembered. */
void faultvfs_powerloss_disarm(void);
/* Whether the image was written. */
bool faultvfs_powerloss_happened(void);
/* Tracked writes, truncates and syncs counted since faultvfs_powerloss_arm. */
long faultvfs_powerloss_ops(void);

#endif
