/* berth/common.h: contexts, errors, logging, versions and features.
 *
 * Conventions for the whole API (see docs/architecture.md):
 * - a fallible call returns 0 on success and a negative BERTH_E* code on
 *   failure, and fills *err when err is not NULL (free it with
 *   berth_error_free());
 * - what a call hands out through an out-parameter belongs to the caller and
 *   is freed with the matching berth_X_free(); strings from getters are
 *   borrowed and live as long as their object;
 * - options structs start with their size; initialise them with their INIT
 *   macro, and pass NULL for the defaults.
 */
#ifndef BERTH_COMMON_H
#define BERTH_COMMON_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(BERTH_BUILDING) && defined(__GNUC__)
#define BERTH_EXTERN __attribute__((visibility("default")))
#else
#define BERTH_EXTERN
#endif

#if defined(__GNUC__)
#define BERTH_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define BERTH_PRINTF(fmt, args)
#endif

/* ---- errors ---------------------------------------------------------- */

/* Error codes: every fallible call returns 0 or one of these. */
typedef enum {
	BERTH_OK = 0,
	BERTH_ERROR = -1,        /* failure that fits no other code */
	BERTH_EINVAL = -2,       /* malformed input or argument */
	BERTH_ENOTFOUND = -3,    /* the named thing does not exist */
	BERTH_EEXISTS = -4,      /* the named thing exists already */
	BERTH_ENOMEM = -5,       /* out of memory */
	BERTH_EOS = -6,          /* a system call failed; see berth_error_errno() */
	BERTH_EPERM = -7,        /* not allowed */
	BERTH_EBUSY = -8,        /* locked or in use */
	BERTH_EUNSUPPORTED = -9, /* this build or host cannot do it */
	BERTH_ECANCELED = -10,   /* a callback asked to stop */
	BERTH_EAUTH = -11,       /* authentication failed */
	BERTH_ENETWORK = -12,    /* a network peer failed or could not be reached */
	BERTH_EINTEGRITY = -13,  /* content does not match its digest or size */
	BERTH_ESTATE = -14,      /* not allowed in the object's current state */
	BERTH_ESCAPE = -15,      /* a path would leave the root it must stay in */
	BERTH_ETIMEOUT = -16,    /* the time allowed ran out */
} berth_errcode;

/* An error: a code, the errno behind it (0 when none), and a message that
 * says what was being done to what. Errors chain: each layer that passes an
 * error up adds its own context in front ("pulling busybox: fetching layer
 * sha256:ab..: registry answered 401"). */
typedef struct berth_error berth_error;

/* The whole message, outermost context first. Never NULL for a non-NULL error. */
BERTH_EXTERN const char *berth_error_message(const berth_error *err);
/* The BERTH_E* code; BERTH_OK for NULL. */
BERTH_EXTERN int berth_error_code(const berth_error *err);
/* The errno of the failed system call, or 0. */
BERTH_EXTERN int berth_error_errno(const berth_error *err);
/* The next error in the chain (the cause of this one), borrowed; NULL at the end.
 * Each link's berth_error_message() covers that link and its causes. */
BERTH_EXTERN const berth_error *berth_error_cause(const berth_error *err);
/* Frees the whole chain. NULL is allowed. */
BERTH_EXTERN void berth_error_free(berth_error *err);
/* A stable name for a code ("EINVAL", "ENOTFOUND", ...); "EUNKNOWN" for others.
 * Codes run without gaps from 0 downwards, so a binding can list them all by
 * counting down until the name is "EUNKNOWN". */
BERTH_EXTERN const char *berth_error_code_name(int code);
/* A short description of a code ("invalid argument", ...). */
BERTH_EXTERN const char *berth_strerror(int code);

/* Frees a string the library handed out through an out-parameter (state
 * JSON, a mount path, ...). NULL is allowed. */
BERTH_EXTERN void berth_string_free(char *s);

/* ---- logging --------------------------------------------------------- */

typedef enum {
	BERTH_LOG_ERROR = 0,
	BERTH_LOG_WARN = 1,
	BERTH_LOG_INFO = 2,
	BERTH_LOG_DEBUG = 3,
} berth_log_level;

/* Receives the library's log lines; the library itself never prints.
 * `module` names the module ("common", "image", ...). Called from the
 * thread that called into the library, and also from threads the library
 * runs for that call (a pull's downloads and unpacks), possibly from two at
 * once: it must be thread-safe. Never from a container's process. See
 * docs/threading.md. */
typedef void (*berth_log_fn)(berth_log_level level, const char *module,
			     const char *message, void *userdata);

/* Parses "error", "warn"/"warning", "info" or "debug". */
BERTH_EXTERN int berth_log_level_parse(const char *name, berth_log_level *out,
				       berth_error **err);
/* "error", "warn", "info" or "debug". */
BERTH_EXTERN const char *berth_log_level_name(berth_log_level level);

/* ---- contexts -------------------------------------------------------- */

/* A context holds a store and its settings; every other object belongs to
 * one. A context may be used from several threads at once. */
typedef struct berth_ctx berth_ctx;

typedef struct {
	size_t size;               /* sizeof(berth_ctx_opts): set by the INIT macro */
	const char *root;          /* store root; NULL: /var/lib/berth for root,
				      else $XDG_DATA_HOME/berth (~/.local/share/berth) */
	const char *runroot;       /* ephemeral state; NULL: /run/berth for root,
				      else $XDG_RUNTIME_DIR/berth */
	berth_log_fn log;          /* NULL: logs are dropped */
	void *log_userdata;
	berth_log_level log_level; /* lines above this level are not formatted */
} berth_ctx_opts;

#define BERTH_CTX_OPTS_INIT { sizeof(berth_ctx_opts), NULL, NULL, NULL, NULL, BERTH_LOG_WARN }

/* Creates a context. Nothing is created on disk until a module needs it.
 * The log callback may already be called before this returns, so its
 * userdata must be ready. Errors: EINVAL for a relative root or runroot or
 * bad options. */
BERTH_EXTERN int berth_ctx_new(berth_ctx **out, const berth_ctx_opts *opts,
			       berth_error **err);
/* Frees a context; the objects made from it must be freed first. NULL is allowed. */
BERTH_EXTERN void berth_ctx_free(berth_ctx *ctx);
/* The store root and run root in use (absolute paths), borrowed. */
BERTH_EXTERN const char *berth_ctx_root(const berth_ctx *ctx);
BERTH_EXTERN const char *berth_ctx_runroot(const berth_ctx *ctx);
BERTH_EXTERN berth_log_level berth_ctx_log_level(const berth_ctx *ctx);

/* ---- versions and features ------------------------------------------- */

/* The library's version as "MAJOR.MINOR.PATCH"; any of the out-pointers may be
 * NULL. Compare with BERTH_VERSION_* from berth/version.h to detect a
 * mismatch between headers and the loaded library. */
BERTH_EXTERN const char *berth_version(int *major, int *minor, int *patch);

/* 1 when this build has the feature and the host can provide it now,
 * else 0. Names: "seccomp", "digest" (sha256 through libcrypto), "isal"
 * (gzip layers inflated with ISA-L rather than zlib; BERTH_INFLATE=zlib in
 * the environment turns it off). Unknown names give 0. */
BERTH_EXTERN int berth_has_feature(const char *name);
/* The feature names this version knows, NULL-terminated, static. */
BERTH_EXTERN const char *const *berth_feature_names(void);

/* ---- host information ----------------------------------------------- */

/* What `berth info` shows: facts about the library, the store and the host
 * kernel as ordered key/value pairs, so new facts never change the ABI.
 * Keys: "version", "root", "runroot", "kernel", "namespaces" (space
 * separated: cgroup ipc mnt net pid time user uts), "overlayfs" (yes/no),
 * "cgroup.mode" (v1, v2, hybrid or none), "cgroup.v1.controllers",
 * "cgroup.v2.controllers", "seccomp" (yes/no: kernel and build), "features",
 * "inflate.gzip" (what gzip layers are inflated with: isa-l, zlib or none). */
typedef struct berth_info berth_info;

BERTH_EXTERN int berth_info_new(const berth_ctx *ctx, berth_info **out, berth_error **err);
BERTH_EXTERN size_t berth_info_count(const berth_info *info);
/* The i-th key or value, borrowed; NULL when i is out of range. */
BERTH_EXTERN const char *berth_info_key(const berth_info *info, size_t i);
BERTH_EXTERN const char *berth_info_value(const berth_info *info, size_t i);
/* The value for a key, borrowed; NULL when absent. */
BERTH_EXTERN const char *berth_info_lookup(const berth_info *info, const char *key);
BERTH_EXTERN void berth_info_free(berth_info *info);

#ifdef __cplusplus
}
#endif

#endif
