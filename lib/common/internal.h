/* Internal API of libberth, shared by every module and never installed.
 * Public names start with berth_, internal ones with bt_. */
#ifndef BERTH_INTERNAL_H
#define BERTH_INTERNAL_H

#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include <berth/berth.h>

#define BT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define BT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct berth_ctx {
	char *root;
	char *runroot;
	berth_log_fn log;
	void *log_userdata;
	berth_log_level log_level;
};

/* ---- errors (error.c) -----------------------------------------------
 * Each returns `code` (or the wrapped code) so a caller can write
 * `return bt_error_set(err, BERTH_EINVAL, 0, "...")`. With err == NULL they
 * only return the code. */
int bt_error_set(berth_error **err, int code, int sys_errno, const char *fmt, ...)
	BT_PRINTF(4, 5);
/* From errno: the code follows errno (ENOENT: ENOTFOUND, EEXIST: EEXISTS,
 * EACCES/EPERM: EPERM, ENOMEM: ENOMEM, EBUSY/EAGAIN: EBUSY, else EOS), and the
 * message ends with strerror(errno). */
int bt_error_os(berth_error **err, const char *fmt, ...) BT_PRINTF(2, 3);
/* Adds context in front of *err with `code` (the code being passed up) and
 * returns it: the returned code and berth_error_code(*err) always agree
 * (ENOMEM for both when the error itself cannot be made); the cause keeps
 * its own code. */
int bt_error_wrap(berth_error **err, int code, const char *fmt, ...) BT_PRINTF(3, 4);
int bt_error_code_from_errno(int e);
/* Drops an error a caller has handled (err may be NULL). */
void bt_error_clear(berth_error **err);

/* ---- options structs (opts.c) ---------------------------------------
 * Copies a caller's options struct into `dst` (already holding the
 * defaults, known_size bytes). A smaller (older) struct fills only its
 * prefix; a larger (newer) one is accepted when the unknown tail is zero. */
int bt_opts_copy(void *dst, size_t known_size, const void *src, const char *what,
		 berth_error **err);
/* The other way, for structs the library fills (their size field set by the
 * caller's INIT macro): as much of src as dst's size covers; dst keeps its
 * size. */
void bt_opts_copy_out(void *dst, const void *src, size_t known_size);

/* ---- logging (log.c) ------------------------------------------------- */
void bt_log(const berth_ctx *ctx, berth_log_level level, const char *module,
	    const char *fmt, ...) BT_PRINTF(4, 5);
#define bt_log_error(ctx, mod, ...) bt_log(ctx, BERTH_LOG_ERROR, mod, __VA_ARGS__)
#define bt_log_warn(ctx, mod, ...) bt_log(ctx, BERTH_LOG_WARN, mod, __VA_ARGS__)
#define bt_log_info(ctx, mod, ...) bt_log(ctx, BERTH_LOG_INFO, mod, __VA_ARGS__)
#define bt_log_debug(ctx, mod, ...) bt_log(ctx, BERTH_LOG_DEBUG, mod, __VA_ARGS__)

/* ---- host information (info.c) ---------------------------------------
 * A berth_info is a list of facts any module can hand out (the cgroup
 * module's own view, for one). bt_info_add takes value over; -1 when value
 * is NULL (so a failed strdup can be passed straight in) or out of memory. */
berth_info *bt_info_new(void);
int bt_info_add(berth_info *info, const char *key, char *value);

/* ---- strings (str.c) ------------------------------------------------- */
char *bt_strdup_printf(const char *fmt, ...) BT_PRINTF(1, 2);
char *bt_strdup_vprintf(const char *fmt, va_list ap) BT_PRINTF(1, 0);
/* The time now as RFC 3339 with nanoseconds in UTC, as the runtime-spec
 * and Docker write it ("2026-12-03T13:26:26.123456789Z"); NULL without memory. */
char *bt_now_rfc3339(void);
/* A growing vector of strings it owns; start from { 0 }. */
struct bt_strv {
	char **v;
	size_t n, cap;
};
/* Appends s, taking it over. -1 when s is NULL (so a failed strdup can be
 * passed straight in) or out of memory, s then freed. */
int bt_strv_add(struct bt_strv *sv, char *s);
/* Frees v[0..n) and v. NULL is allowed. */
void bt_strv_free(char **v, size_t n);
/* Room for one more element in array v holding n of *cap elements of size
 * bytes: v itself while n < *cap, else v moved to twice the room (first
 * elements at the start), *cap updated. NULL when out of memory (v and *cap
 * then unchanged). */
void *bt_grow(void *v, size_t n, size_t *cap, size_t size, size_t first);

/* ---- files (fs.c) ---------------------------------------------------- */
int bt_mkdir_p(const char *path, mode_t mode, berth_error **err);
/* Reads a whole file, NUL-terminated; refuses files larger than max bytes. */
int bt_read_file(const char *path, size_t max, char **out, size_t *len, berth_error **err);
/* Replaces path so that a crash at any point leaves the old content or the
 * new, never a mix: temp file in the same directory, write, fsync, rename,
 * fsync of the directory. */
int bt_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 berth_error **err);
/* The same without the fsyncs, for files that die with a crash anyway. */
int bt_write_file_volatile(const char *path, const void *data, size_t len, mode_t mode,
			   berth_error **err);
int bt_fsync_dir(const char *dir, berth_error **err);
/* Writes back everything of the file system of the directory path: one
 * call for a whole tree of new files (an unpacked layer), where an fsync
 * per file would cost far more. */
int bt_syncfs(const char *path, berth_error **err);
/* Removes the temp files a killed bt_write_file_atomic/_volatile of path
 * left (.<name>.tmp* beside it); the caller holds the lock every writer of
 * path holds, so none is in use. Returns the bytes freed; failures logged. */
uint64_t bt_sweep_atomic_temps(const berth_ctx *ctx, const char *path);
/* The bytes of those temp files, removing nothing (disk usage). */
uint64_t bt_atomic_temps_size(const char *path);
/* Removes path and everything below it. Never follows symlinks and never
 * descends into another file system (a mount point gives EBUSY). A missing
 * path is not an error. */
int bt_rm_rf(const char *path, berth_error **err);
/* Bytes (blocks) used by directory path and everything below it, as du
 * counts them, except that a hardlinked file counts a share per name. 0
 * when path is no directory. */
int64_t bt_tree_size(const char *path);
/* Writes all of data, retrying short writes and EINTR: 0, or -1 with errno. */
int bt_write_all(int fd, const void *data, size_t len);
/* Removes everything below dirfd (not dirfd itself), as bt_rm_rf does. */
int bt_rm_dir_contents(int dirfd, const char *what, berth_error **err);
#ifdef BERTH_TEST_HOOKS
/* Test builds only: called by bt_write_file_atomic between the fsync of the
 * temp file and the rename, to let tests crash the process there. */
extern void (*bt_test_hook_before_rename)(const char *tmp_path);
#endif

/* ---- locks (lock.c) --------------------------------------------------
 * Advisory locks on a lock file, between processes and between threads
 * (each call opens its own file description). The lock belongs to the open
 * file description: a forked child that does not exec must close the fd,
 * or the lock lives on in it. */
/* NOCREATE: a missing lock file is ENOTFOUND, not made (so a lock taken
 * on something being removed cannot bring its directory back to life) */
enum { BT_LOCK_SHARED = 1, BT_LOCK_EXCLUSIVE = 2, BT_LOCK_NOWAIT = 4, BT_LOCK_NOCREATE = 8 };
/* Creates the lock file when missing; returns the held lock's fd in *fd. */
int bt_lock_acquire(const char *path, int flags, int *fd, berth_error **err);
void bt_lock_release(int fd);

/* ---- paths (path.c) -------------------------------------------------- */
/* Joins rel below root lexically: leading slashes and "." are dropped and
 * repeated slashes folded; any ".." component is refused with ESCAPE. */
int bt_path_join(const char *root, const char *rel, char **out, berth_error **err);

enum {
	/* Refuse any path, symlink target or ".." that would leave the root. */
	BT_RESOLVE_BENEATH = 0,
	/* Resolve as if the root were "/" (a container's view): ".." stops at the
	 * root and absolute symlinks start again from it. */
	BT_RESOLVE_IN_ROOT = 1,
};
/* Opens rel below the directory rootfd, following symlinks only within it
 * (openat2 where the kernel has it, else a walk one component at a time).
 * open_flags as for openat(2); O_NOFOLLOW applies to the last component. */
int bt_path_open(int rootfd, const char *rel, int open_flags, mode_t mode, int resolve,
		 int *fd, berth_error **err);
/* The walk bt_path_open falls back to; exposed for tests. */
int bt_path_open_walk(int rootfd, const char *rel, int open_flags, mode_t mode, int resolve,
		      int *fd, berth_error **err);

/* ---- JSON (json.c) --------------------------------------------------- */
/* Parses a document; errors name `what`, the line and the column. */
int bt_json_parse(const char *buf, size_t len, const char *what, json_t **out,
		  berth_error **err);
int bt_json_load_file(const char *path, size_t max_size, json_t **out, berth_error **err);
int bt_json_write_atomic(const char *path, const json_t *json, berth_error **err);
/* As bt_write_file_volatile: never a mix, but no fsync. */
int bt_json_write_volatile(const char *path, const json_t *json, berth_error **err);
/* Member `key` of object `obj`, checked for type (JSON_NULL meaning any).
 * `path` names obj in errors ("linux.namespaces[2]"; "" for the top).
 * A missing member gives *out = NULL and 0, or EINVAL when required. */
int bt_json_member(const json_t *obj, const char *path, const char *key, json_type type,
		   bool required, json_t **out, berth_error **err);
int bt_json_string(const json_t *obj, const char *path, const char *key, bool required,
		   const char **out, berth_error **err);
int bt_json_int(const json_t *obj, const char *path, const char *key, bool required,
		long long *out, berth_error **err);
int bt_json_bool(const json_t *obj, const char *path, const char *key, bool required,
		 bool *out, berth_error **err);
const char *bt_json_type_name(const json_t *json);

/* ---- libraries opened on first use (dl.c) ----------------------------
 * A module lists the functions it needs with their soname; the first
 * bt_dl_load() opens the library (thread-safe), later calls only check.
 *   static struct { CURL *(*easy_init)(void); } curl;
 *   static const bt_dl_sym curl_syms[] = {
 *           { "curl_easy_init", (void **)&curl.easy_init }, { NULL, NULL } };
 *   static bt_dl_lib curl_lib = BT_DL_LIB(BERTH_LIBCURL_SONAME, curl_syms); */
typedef struct {
	const char *name;
	void **ptr;
} bt_dl_sym;
typedef struct {
	const char *soname;
	const bt_dl_sym *symbols; /* ends with { NULL, NULL } */
	int tried, loaded;
	char error[256];
} bt_dl_lib;
#define BT_DL_LIB(soname, symbols) { soname, symbols, 0, 0, "" }
/* 0 when every symbol was found; else EUNSUPPORTED naming the library. */
int bt_dl_load(bt_dl_lib *lib, berth_error **err);

/* ---- gzip streams (gzip.c) -------------------------------------------
 * Inflates a gzip stream (its members one after another, as gzip reads
 * them) with ISA-L where this build has it and the library loads, else
 * with zlib; BERTH_INFLATE=zlib or =isal in the environment forces one.
 * Every member's header, CRC-32 and ISIZE are checked; zeros after the
 * last member are ignored, any other trailing byte is an error. */
typedef struct bt_gunzip bt_gunzip;
/* The input: *buf gets the next bytes (valid until the next call); their
 * count, 0 at the end, -1 on a failure the callback reports itself. */
typedef ssize_t (*bt_gunzip_read_fn)(void *ud, const void **buf);
/* "isa-l" or "zlib": what bt_gunzip_new would use now; NULL when neither. */
const char *bt_gunzip_engine(void);
int bt_gunzip_new(bt_gunzip_read_fn read, void *ud, bt_gunzip **out, berth_error **err);
/* Fills out with up to len bytes (less only at the end): the count, 0 at
 * the end of the stream, -1 on bad data (*why says what, valid until the
 * next call; NULL when the read callback failed). */
ssize_t bt_gunzip_read(bt_gunzip *g, void *out, size_t len, const char **why);
void bt_gunzip_free(bt_gunzip *g);

/* ---- digests (digest.c) ---------------------------------------------
 * sha256/sha512 through libcrypto, which is loaded on first use. Digests are
 * written as OCI digests: "sha256:" followed by lowercase hex. */
typedef struct bt_digester bt_digester;
#define BT_DIGEST_MAX 136 /* "sha512:" + 128 hex + NUL, rounded up */
int bt_digester_new(const char *algorithm, bt_digester **out, berth_error **err);
void bt_digester_update(bt_digester *d, const void *data, size_t len);
/* Writes the digest into out (BT_DIGEST_MAX bytes). The digester may then only be freed. */
void bt_digester_final(bt_digester *d, char out[BT_DIGEST_MAX]);
void bt_digester_free(bt_digester *d);
int bt_digest_buffer(const char *algorithm, const void *data, size_t len,
		     char out[BT_DIGEST_MAX], berth_error **err);
/* Checks the form of an OCI digest: a known algorithm and hex of its length. */
int bt_digest_validate(const char *digest, berth_error **err);
/* Whether libcrypto could be loaded (loading it when not yet done). */
bool bt_digest_available(void);

/* ---- manifests leaving the content store (ctx.c) ---------------------
 * A module that keeps data derived from an image's manifest (storage: the
 * layers it unpacked, held "image:<digest>") registers here once, from a
 * constructor, so that the image module tells it which manifests a
 * collection removed without knowing the module: the resources layer's
 * modules stay side by side, none includes another's internals. The
 * callbacks run with the content store's gc lock held (no pull brings the
 * manifests back meanwhile), so they must not call into the image module
 * nor wait for a lock whose holder may wait for the gc lock: a callback
 * that cannot act at once leaves the work to its own sweep. */
typedef int (*bt_manifests_removed_fn)(berth_ctx *ctx, char *const *digests, size_t n,
				       uint64_t *freed, berth_error **err);
/* Registers fn (at most 4 in all; registering one twice is a no-op). */
void bt_on_manifests_removed(bt_manifests_removed_fn fn);
/* Calls every registered fn in turn; the first failure is returned, all run.
 * *freed (may be NULL) grows by the bytes they freed (prune reports them). */
int bt_manifests_removed(berth_ctx *ctx, char *const *digests, size_t n, uint64_t *freed,
			 berth_error **err);

#endif
