/* Contexts: where the store lives and where log lines go. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The default for a store directory: the system path for root, else the
 * XDG directory for the user, as podman does. */
static char *default_dir(const char *system_path, const char *xdg_var, const char *home_rel)
{
	const char *base, *home;

	if (geteuid() == 0)
		return strdup(system_path);
	base = getenv(xdg_var);
	if (base && base[0] == '/')
		return bt_strdup_printf("%s/berth", base);
	home = getenv("HOME");
	if (home && home[0] == '/' && home_rel)
		return bt_strdup_printf("%s/%s/berth", home, home_rel);
	return bt_strdup_printf("/tmp/berth-%u", (unsigned)geteuid());
}

static int pick_dir(const char *given, const char *what, char **out, const char *system_path,
		    const char *xdg_var, const char *home_rel, berth_error **err)
{
	size_t len;

	if (given) {
		if (given[0] != '/')
			return bt_error_set(err, BERTH_EINVAL, 0,
					    "%s \"%s\": must be an absolute path", what, given);
		*out = strdup(given);
		/* "/var/lib/berth/" and "/var/lib/berth" name one store */
		if (*out)
			for (len = strlen(*out); len > 1 && (*out)[len - 1] == '/'; len--)
				(*out)[len - 1] = '\0';
	} else {
		*out = default_dir(system_path, xdg_var, home_rel);
	}
	return *out ? 0 : bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", what);
}

int berth_ctx_new(berth_ctx **out, const berth_ctx_opts *given, berth_error **err)
{
	berth_ctx_opts opts = BERTH_CTX_OPTS_INIT;
	berth_ctx *ctx;
	int rc;

	*out = NULL;
	if ((rc = bt_opts_copy(&opts, sizeof(opts), given, "berth_ctx_opts", err)) < 0)
		return rc;
	if ((unsigned)opts.log_level > BERTH_LOG_DEBUG)
		return bt_error_set(err, BERTH_EINVAL, 0, "berth_ctx_opts: log level %d out of range",
				    (int)opts.log_level);
	if (!(ctx = calloc(1, sizeof(*ctx))))
		return bt_error_set(err, BERTH_ENOMEM, 0, "creating a context: out of memory");
	if ((rc = pick_dir(opts.root, "store root", &ctx->root, "/var/lib/berth",
			   "XDG_DATA_HOME", ".local/share", err)) < 0 ||
	    (rc = pick_dir(opts.runroot, "run root", &ctx->runroot, "/run/berth",
			   "XDG_RUNTIME_DIR", NULL, err)) < 0) {
		berth_ctx_free(ctx);
		return rc;
	}
	ctx->log = opts.log;
	ctx->log_userdata = opts.log_userdata;
	ctx->log_level = opts.log_level;
	bt_log_debug(ctx, "common", "context: root %s, runroot %s", ctx->root, ctx->runroot);
	*out = ctx;
	return 0;
}

void berth_ctx_free(berth_ctx *ctx)
{
	if (!ctx)
		return;
	free(ctx->root);
	free(ctx->runroot);
	free(ctx);
}

const char *berth_ctx_root(const berth_ctx *ctx)
{
	return ctx->root;
}

const char *berth_ctx_runroot(const berth_ctx *ctx)
{
	return ctx->runroot;
}

berth_log_level berth_ctx_log_level(const berth_ctx *ctx)
{
	return ctx->log_level;
}

/* ---- manifests leaving the content store ----------------------------------- */

static bt_manifests_removed_fn removed_fns[4];

void bt_on_manifests_removed(bt_manifests_removed_fn fn)
{
	for (size_t i = 0; i < BT_ARRAY_SIZE(removed_fns); i++) {
		bt_manifests_removed_fn cur = __atomic_load_n(&removed_fns[i], __ATOMIC_ACQUIRE);

		if (cur == fn)
			return;
		if (!cur && __atomic_compare_exchange_n(&removed_fns[i], &cur, fn, false, __ATOMIC_ACQ_REL,
						       __ATOMIC_ACQUIRE))
			return;
		if (cur == fn)
			return;
	}
}

int bt_manifests_removed(berth_ctx *ctx, char *const *digests, size_t n, uint64_t *freed,
			 berth_error **err)
{
	int rc = 0;

	for (size_t i = 0; i < BT_ARRAY_SIZE(removed_fns); i++) {
		bt_manifests_removed_fn fn = __atomic_load_n(&removed_fns[i], __ATOMIC_ACQUIRE);
		berth_error *e = NULL;
		int r;

		if (!fn)
			break;
		r = fn(ctx, digests, n, freed, rc < 0 ? &e : err);
		berth_error_free(e);
		if (rc == 0 && r < 0)
			rc = r;
	}
	return rc;
}
