/* faultvfs.c - the fault-injecting VFS shim (faultvfs.h). Its own bookkeeping uses libc's
 * malloc, never SQLite's, so that allocation-failure tests do not trip over it. */
#include "faultvfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#define SECTOR 512

/* One write or truncate since the file's last sync. */
struct pending {
    bool truncate;
    sqlite3_int64 off;      /* write offset, or the new size */
    sqlite3_int64 len;      /* write length */
    sqlite3_int64 old_size; /* the file's size before */
    unsigned char *old;     /* write: the len bytes before (those below old_size);
                               truncate: the old_size - off bytes cut off */
    unsigned char *data;    /* write: the bytes written */
};

struct fv_file {
    sqlite3_file base;
    sqlite3_file *real; /* the real VFS's file, right after this struct */
    char *path;         /* NULL: not tracked for power loss */
    struct pending *pending;
    size_t n_pending, cap_pending;
    struct fv_file *next_open; /* tracked open files */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fv_vfs;
static struct fv_file *open_files;

static struct {
    unsigned mask;
    long k, seen;
    bool persistent, fired;
} inj;

static struct {
    bool armed, happened;
    long cut, seen;
    enum faultvfs_loss loss;
    uint64_t rng;
    char dir[PATH_MAX];
} pl;

/* splitmix64: a seeded, portable sequence. */
static uint64_t rnd(void)
{
    uint64_t z = (pl.rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static bool inject(unsigned op)
{
    if (!(inj.mask & op))
        return false;
    inj.seen++;
    if (inj.fired)
        return inj.persistent;
    if (inj.seen == inj.k) {
        inj.fired = true;
        return true;
    }
    return false;
}

void faultvfs_fail_at(unsigned mask, long k, bool persistent)
{
    inj.mask = k > 0 ? mask : 0;
    inj.k = k;
    inj.seen = 0;
    inj.persistent = persistent;
    inj.fired = false;
}

bool faultvfs_failed(void)
{
    return inj.fired;
}

static void pending_clear(struct fv_file *f)
{
    for (size_t i = 0; i < f->n_pending; i++) {
        free(f->pending[i].old);
        free(f->pending[i].data);
    }
    f->n_pending = 0;
}

static void die(const char *what)
{
    fprintf(stderr, "faultvfs: %s: %s\n", what, strerror(errno));
    abort();
}

static struct pending *pending_add(struct fv_file *f)
{
    if (f->n_pending == f->cap_pending) {
        size_t cap = f->cap_pending ? 2 * f->cap_pending : 16;
        struct pending *p = realloc(f->pending, cap * sizeof(*p));
        if (!p)
            die("out of memory");
        f->pending = p;
        f->cap_pending = cap;
    }
    struct pending *p = &f->pending[f->n_pending++];
    memset(p, 0, sizeof(*p));
    return p;
}

static sqlite3_int64 real_size(struct fv_file *f)
{
    sqlite3_int64 size = 0;
    if (f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK)
        die("file size");
    return size;
}

/* The bytes [off, off + len) as they are now; the file holds them all. */
static unsigned char *read_range(struct fv_file *f, sqlite3_int64 off, sqlite3_int64 len)
{
    unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);
    if (!buf)
        die("out of memory");
    for (sqlite3_int64 done = 0; done < len;) {
        int n = len - done > (1 << 20) ? (1 << 20) : (int)(len - done);
        if (f->real->pMethods->xRead(f->real, buf + done, n, off + done) != SQLITE_OK)
            die("reading what a write replaces");
        done += n;
    }
    return buf;
}

static void remember_write(struct fv_file *f, const void *data, int len, sqlite3_int64 off)
{
    struct pending *p = pending_add(f);
    p->off = off;
    p->len = len;
    p->old_size = real_size(f);
    sqlite3_int64 keep = p->old_size - off;
    keep = keep < 0 ? 0 : keep > len ? len : keep;
    p->old = read_range(f, off, keep);
    p->data = malloc(len > 0 ? (size_t)len : 1);
    if (!p->data)
        die("out of memory");
    memcpy(p->data, data, (size_t)len);
}

static void remember_truncate(struct fv_file *f, sqlite3_int64 size)
{
    struct pending *p = pending_add(f);
    p->truncate = true;
    p->off = size;
    p->old_size = real_size(f);
    p->old = read_range(f, size, p->old_size > size ? p->old_size - size : 0);
}

/* A file image growing as needed. */
struct image {
    unsigned char *buf;
    sqlite3_int64 size, cap;
};

static void image_reserve(struct image *im, sqlite3_int64 size)
{
    if (size < 1)
        size = 1; /* never a NULL buffer, even for an empty file */
    if (size <= im->cap)
        return;
    unsigned char *b = realloc(im->buf, (size_t)size);
    if (!b)
        die("out of memory");
    memset(b + im->cap, 0, (size_t)(size - im->cap));
    im->buf = b;
    im->cap = size;
}

/* Bytes [a, b) of write p reach the disk. A gap before them reads as zeros. */
static void image_apply(struct image *im, const struct pending *p, sqlite3_int64 a, sqlite3_int64 b)
{
    image_reserve(im, b);
    if (a > im->size)
        memset(im->buf + im->size, 0, (size_t)(a - im->size));
    memcpy(im->buf + a, p->data + (a - p->off), (size_t)(b - a));
    if (b > im->size)
        im->size = b;
}

/* The end of the sector piece of write p starting at a. */
static sqlite3_int64 piece_end(const struct pending *p, sqlite3_int64 a)
{
    sqlite3_int64 b = (a / SECTOR + 1) * SECTOR;
    return b < p->off + p->len ? b : p->off + p->len;
}

/* Replay op p, or the first `pieces` sectors of it (-1: all; a truncate is all or nothing). */
static void replay(struct image *im, const struct pending *p, long pieces)
{
    if (p->truncate) {
        if (pieces != 0 && im->size > p->off)
            im->size = p->off;
        return;
    }
    long i = 0;
    for (sqlite3_int64 a = p->off; a < p->off + p->len && (pieces < 0 || i < pieces); i++) {
        sqlite3_int64 b = piece_end(p, a);
        image_apply(im, p, a, b);
        a = b;
    }
}

static long count_pieces(const struct pending *p)
{
    if (p->truncate)
        return 1;
    long n = 0;
    for (sqlite3_int64 a = p->off; a < p->off + p->len; n++)
        a = piece_end(p, a);
    return n;
}

/* The content at the last sync: the current content with every remembered op undone. */
static void synced_image(struct fv_file *f, struct image *im)
{
    im->size = real_size(f);
    image_reserve(im, im->size);
    unsigned char *now = read_range(f, 0, im->size);
    memcpy(im->buf, now, (size_t)im->size);
    free(now);
    for (size_t i = f->n_pending; i-- > 0;) {
        const struct pending *p = &f->pending[i];
        image_reserve(im, p->old_size);
        if (p->truncate) {
            if (p->old_size > p->off)
                memcpy(im->buf + p->off, p->old, (size_t)(p->old_size - p->off));
        } else {
            sqlite3_int64 keep = p->old_size - p->off;
            keep = keep < 0 ? 0 : keep > p->len ? p->len : keep;
            memcpy(im->buf + p->off, p->old, (size_t)keep);
        }
        im->size = p->old_size;
    }
}

static void write_image(struct fv_file *f)
{
    struct image im = {0};
    synced_image(f, &im);
    if (pl.loss == FAULTVFS_PREFIX && f->n_pending > 0) {
        size_t last = (size_t)(rnd() % (f->n_pending + 1));
        for (size_t i = 0; i < last; i++)
            replay(&im, &f->pending[i], -1);
        if (last < f->n_pending)
            replay(&im, &f->pending[last],
                   (long)(rnd() % (uint64_t)count_pieces(&f->pending[last])));
    } else if (pl.loss == FAULTVFS_SECTORS) {
        for (size_t i = 0; i < f->n_pending; i++) {
            const struct pending *p = &f->pending[i];
            if (p->truncate) {
                replay(&im, p, (long)(rnd() & 1));
                continue;
            }
            for (sqlite3_int64 a = p->off; a < p->off + p->len;) {
                sqlite3_int64 b = piece_end(p, a);
                if (rnd() & 1)
                    image_apply(&im, p, a, b);
                a = b;
            }
        }
    }
    const char *base = strrchr(f->path, '/');
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", pl.dir, base ? base + 1 : f->path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        die(path);
    for (sqlite3_int64 done = 0; done < im.size;) {
        ssize_t n = write(fd, im.buf + done, (size_t)(im.size - done));
        if (n < 0)
            die(path);
        done += n;
    }
    close(fd);
    free(im.buf);
}

/* Count a tracked mutating op; at the cut, write the images before the op happens. */
static void powerloss_tick(void)
{
    pl.seen++;
    if (pl.cut > 0 && pl.seen == pl.cut && !pl.happened) {
        for (struct fv_file *f = open_files; f; f = f->next_open)
            write_image(f);
        pl.happened = true;
    }
}

static bool tracking(const struct fv_file *f)
{
    return pl.armed && !pl.happened && f->path;
}

void faultvfs_powerloss_arm(long cut, enum faultvfs_loss loss, uint64_t seed, const char *image_dir)
{
    faultvfs_powerloss_disarm();
    pl.armed = true;
    pl.cut = cut;
    pl.loss = loss;
    pl.rng = seed;
    snprintf(pl.dir, sizeof(pl.dir), "%s", image_dir ? image_dir : ".");
}

void faultvfs_powerloss_disarm(void)
{
    for (struct fv_file *f = open_files; f; f = f->next_open)
        pending_clear(f);
    pl.armed = false;
    pl.happened = false;
    pl.seen = 0;
    pl.cut = 0;
}

bool faultvfs_powerloss_happened(void)
{
    return pl.happened;
}

long faultvfs_powerloss_ops(void)
{
    return pl.seen;
}

/* The io methods: inject, remember, pass through. */
static struct fv_file *fvf(sqlite3_file *file)
{
    return (struct fv_file *)file;
}

static int fv_close(sqlite3_file *file)
{
    struct fv_file *f = fvf(file);
    for (struct fv_file **pp = &open_files; *pp; pp = &(*pp)->next_open)
        if (*pp == f) {
            *pp = f->next_open;
            break;
        }
    pending_clear(f);
    free(f->pending);
    free(f->path);
    return f->real->pMethods->xClose(f->real);
}

static int fv_read(sqlite3_file *file, void *buf, int amt, sqlite3_int64 off)
{
    struct fv_file *f = fvf(file);
    if (inject(FAULTVFS_READ))
        return SQLITE_IOERR_READ;
    return f->real->pMethods->xRead(f->real, buf, amt, off);
}

static int fv_write(sqlite3_file *file, const void *buf, int amt, sqlite3_int64 off)
{
    struct fv_file *f = fvf(file);
    if (f->path && pl.armed)
        powerloss_tick();
    if (inject(FAULTVFS_WRITE))
        return SQLITE_IOERR_WRITE;
    if (tracking(f))
        remember_write(f, buf, amt, off);
    return f->real->pMethods->xWrite(f->real, buf, amt, off);
}

static int fv_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    struct fv_file *f = fvf(file);
    if (f->path && pl.armed)
        powerloss_tick();
    if (inject(FAULTVFS_TRUNCATE))
        return SQLITE_IOERR_TRUNCATE;
    if (tracking(f))
        remember_truncate(f, size);
    return f->real->pMethods->xTruncate(f->real, size);
}

static int fv_sync(sqlite3_file *file, int flags)
{
    struct fv_file *f = fvf(file);
    if (f->path && pl.armed)
        powerloss_tick();
    if (inject(FAULTVFS_SYNC))
        return SQLITE_IOERR_FSYNC;
    int rc = f->real->pMethods->xSync(f->real, flags);
    if (rc == SQLITE_OK)
        pending_clear(f);
    return rc;
}

static int fv_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    struct fv_file *f = fvf(file);
    if (inject(FAULTVFS_FILESIZE))
        return SQLITE_IOERR_FSTAT;
    return f->real->pMethods->xFileSize(f->real, size);
}

static int fv_lock(sqlite3_file *file, int level)
{
    struct fv_file *f = fvf(file);
    if (inject(FAULTVFS_LOCK))
        return SQLITE_IOERR_LOCK;
    return f->real->pMethods->xLock(f->real, level);
}

static int fv_unlock(sqlite3_file *file, int level)
{
    return fvf(file)->real->pMethods->xUnlock(fvf(file)->real, level);
}

static int fv_check_reserved_lock(sqlite3_file *file, int *out)
{
    return fvf(file)->real->pMethods->xCheckReservedLock(fvf(file)->real, out);
}

static int fv_file_control(sqlite3_file *file, int op, void *arg)
{
    return fvf(file)->real->pMethods->xFileControl(fvf(file)->real, op, arg);
}

static int fv_sector_size(sqlite3_file *file)
{
    return fvf(file)->real->pMethods->xSectorSize(fvf(file)->real);
}

static int fv_device_characteristics(sqlite3_file *file)
{
    return fvf(file)->real->pMethods->xDeviceCharacteristics(fvf(file)->real);
}

static int fv_shm_map(sqlite3_file *file, int region, int size, int extend, void volatile **pp)
{
    struct fv_file *f = fvf(file);
    if (inject(FAULTVFS_SHMMAP))
        return SQLITE_IOERR_SHMMAP;
    return f->real->pMethods->xShmMap(f->real, region, size, extend, pp);
}

static int fv_shm_lock(sqlite3_file *file, int off, int n, int flags)
{
    return fvf(file)->real->pMethods->xShmLock(fvf(file)->real, off, n, flags);
}

static void fv_shm_barrier(sqlite3_file *file)
{
    fvf(file)->real->pMethods->xShmBarrier(fvf(file)->real);
}

static int fv_shm_unmap(sqlite3_file *file, int delete_flag)
{
    return fvf(file)->real->pMethods->xShmUnmap(fvf(file)->real, delete_flag);
}

/* Version 2: no xFetch, so every read goes through fv_read. */
static const sqlite3_io_methods fv_io = {
    .iVersion = 2,
    .xClose = fv_close,
    .xRead = fv_read,
    .xWrite = fv_write,
    .xTruncate = fv_truncate,
    .xSync = fv_sync,
    .xFileSize = fv_file_size,
    .xLock = fv_lock,
    .xUnlock = fv_unlock,
    .xCheckReservedLock = fv_check_reserved_lock,
    .xFileControl = fv_file_control,
    .xSectorSize = fv_sector_size,
    .xDeviceCharacteristics = fv_device_characteristics,
    .xShmMap = fv_shm_map,
    .xShmLock = fv_shm_lock,
    .xShmBarrier = fv_shm_barrier,
    .xShmUnmap = fv_shm_unmap,
};

static int fv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out)
{
    struct fv_file *f = fvf(file);
    memset(f, 0, sizeof(*f));
    f->real = (sqlite3_file *)(f + 1);
    int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out);
    if (rc != SQLITE_OK || !f->real->pMethods) {
        f->base.pMethods = NULL;
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    f->base.pMethods = &fv_io;
    if (name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL))) {
        f->path = strdup(name);
        if (!f->path)
            die("out of memory");
        f->next_open = open_files;
        open_files = f;
    }
    return SQLITE_OK;
}

/* The VFS methods other than xOpen go straight to the real VFS. */
static int fv_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int fv_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int fv_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *fv_dl_open(sqlite3_vfs *vfs, const char *name)
{
    return real_vfs->xDlOpen(real_vfs, name);
}

static void fv_dl_error(sqlite3_vfs *vfs, int n, char *msg)
{
    real_vfs->xDlError(real_vfs, n, msg);
}

static void (*fv_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
    return real_vfs->xDlSym(real_vfs, h, sym);
}

static void fv_dl_close(sqlite3_vfs *vfs, void *h)
{
    real_vfs->xDlClose(real_vfs, h);
}

static int fv_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    return real_vfs->xRandomness(real_vfs, n, out);
}

static int fv_sleep(sqlite3_vfs *vfs, int us)
{
    return real_vfs->xSleep(real_vfs, us);
}

static int fv_current_time(sqlite3_vfs *vfs, double *out)
{
    return real_vfs->xCurrentTime(real_vfs, out);
}

static int fv_get_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    return real_vfs->xGetLastError(real_vfs, n, out);
}

static int fv_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

int faultvfs_register(void)
{
    if (real_vfs)
        return SQLITE_OK;
    sqlite3_vfs *real = sqlite3_vfs_find(NULL);
    if (!real)
        return SQLITE_ERROR;
    fv_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(struct fv_file) + real->szOsFile,
        .mxPathname = real->mxPathname,
        .zName = "faultvfs",
        .xOpen = fv_open,
        .xDelete = fv_delete,
        .xAccess = fv_access,
        .xFullPathname = fv_full_pathname,
        .xDlOpen = fv_dl_open,
        .xDlError = fv_dl_error,
        .xDlSym = fv_dl_sym,
        .xDlClose = fv_dl_close,
        .xRandomness = fv_randomness,
        .xSleep = fv_sleep,
        .xCurrentTime = fv_current_time,
        .xGetLastError = fv_get_last_error,
        .xCurrentTimeInt64 = fv_current_time_int64,
    };
    real_vfs = real;
    int rc = sqlite3_vfs_register(&fv_vfs, 1);
    if (rc != SQLITE_OK)
        real_vfs = NULL;
    return rc;
}
