/* A container's volumes, bind mounts and tmpfs mounts: -v, --mount,
 * --tmpfs, --volumes-from and the image's VOLUMEs parsed into one list,
 * the volumes created and held ("container:<id>", berth_volume_hold) so
 * that their removal is refused while the container exists, the mounts
 * added to the runtime-spec config (whose targets the runtime resolves
 * inside the root) and recorded as Docker's inspect shows them (Mounts).
 * At each start the volumes are mounted (a driver's mount made) and an
 * empty one takes the image's content at its path; at the end they are
 * unmounted, and removal releases them. */
#include "container-internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <berth/volume.h>

#define PATH_LEN_MAX 4096

struct mnt {
	const char *type;   /* "volume", "bind", "tmpfs" */
	char *name;         /* a volume's; NULL: anonymous, named when made */
	char *source;       /* a bind's host path */
	char *dest;
	char *mode;         /* as given after the second ':' ("ro,nocopy"), for Mode */
	char *propagation;  /* a bind's; NULL: rprivate */
	char *tmpfs_opts;   /* a tmpfs's mount options, comma-separated */
	struct bt_strv vol_opts, vol_labels;
	bool ro, nocopy, must_exist, weak; /* weak: from --volumes-from or the image,
					      yields to the user's own mounts */
	bool anonymous, created, held;
};

struct mnts {
	struct mnt *v;
	size_t n, cap;
};

static void mnt_free(struct mnt *m)
{
	free(m->name);
	free(m->source);
	free(m->dest);
	free(m->mode);
	free(m->propagation);
	free(m->tmpfs_opts);
	bt_strv_free(m->vol_opts.v, m->vol_opts.n);
	bt_strv_free(m->vol_labels.v, m->vol_labels.n);
}

static void mnts_free(struct mnts *l)
{
	for (size_t i = 0; i < l->n; i++)
		mnt_free(&l->v[i]);
	free(l->v);
}

static struct mnt *mnts_add(struct mnts *l)
{
	struct mnt *v = bt_grow(l->v, l->n, &l->cap, sizeof(*v), 8);

	if (!v)
		return NULL;
	l->v = v;
	memset(&v[l->n], 0, sizeof(*v));
	return &v[l->n++];
}

static int nomem(berth_error **err)
{
	return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
}

/* An absolute path in the container that is not / and has no "..". */
static int check_dest(const char *dest, const char *spec, berth_error **err)
{
	if (!dest || dest[0] != '/')
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid mount config: mount path must be absolute: \"%.200s\" in \"%.200s\"",
				    dest ? dest : "", spec);
	if (strspn(dest, "/") == strlen(dest))
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid specification: destination can't be '/' in '%.200s'", spec);
	if (strlen(dest) >= PATH_LEN_MAX || strstr(dest, "/../") ||
	    (strlen(dest) >= 3 && !strcmp(dest + strlen(dest) - 3, "/..")))
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid mount path \"%.200s\": no \"..\" and shorter than %d",
				    dest, PATH_LEN_MAX);
	return 0;
}

static bool is_propagation(const char *w)
{
	static const char *const p[] = { "private", "rprivate", "shared", "rshared", "slave", "rslave" };

	for (size_t i = 0; i < BT_ARRAY_SIZE(p); i++)
		if (!strcmp(w, p[i]))
			return true;
	return false;
}

/* The mode words of -v: ro, rw, nocopy, z, Z and a bind's propagation. */
static int parse_mode(struct mnt *m, const char *mode, const char *spec, berth_error **err)
{
	char *copy = strdup(mode), *save = NULL;
	int rc = 0;

	if (!copy || !(m->mode = strdup(mode))) {
		free(copy);
		return nomem(err);
	}
	for (char *w = strtok_r(copy, ",", &save); w && rc == 0; w = strtok_r(NULL, ",", &save)) {
		if (!strcmp(w, "ro") || !strcmp(w, "rw"))
			m->ro = !strcmp(w, "ro");
		else if (!strcmp(w, "nocopy"))
			m->nocopy = true;
		else if (is_propagation(w) && !strcmp(m->type, "bind")) {
			free(m->propagation);
			rc = (m->propagation = strdup(w)) ? 0 : nomem(err);
		}
		else if (strcmp(w, "z") && strcmp(w, "Z"))
			rc = bt_error_set(err, BERTH_EINVAL, 0, "invalid mode: %.100s in \"%.200s\"", w, spec);
	}
	free(copy);
	return rc;
}

/* -v src:dest[:mode] or -v dest. */
static int parse_v(struct mnts *l, const char *spec, berth_error **err)
{
	char *copy = strdup(spec), *parts[4] = { 0 }, *save = NULL;
	struct mnt *m = mnts_add(l);
	size_t n = 0;
	int rc = 0;

	if (!copy || !m) {
		free(copy);
		return nomem(err);
	}
	for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
		if (n < BT_ARRAY_SIZE(parts))
			parts[n++] = p;
	if (n == 0 || n > 3) {
		rc = bt_error_set(err, BERTH_EINVAL, 0, "invalid volume specification: '%.200s'", spec);
		goto out;
	}
	m->type = n == 1 ? "volume" : parts[0][0] == '/' ? "bind" : "volume";
	m->anonymous = n == 1;
	if (!(m->dest = strdup(parts[n == 1 ? 0 : 1])) || (n > 1 && parts[0][0] == '/' && !(m->source = strdup(parts[0]))) ||
	    (n > 1 && parts[0][0] != '/' && !(m->name = strdup(parts[0])))) {
		rc = nomem(err);
		goto out;
	}
	if ((rc = check_dest(m->dest, spec, err)) == 0 && n == 3)
		rc = parse_mode(m, parts[2], spec, err);
out:
	free(copy);
	return rc;
}

static bool bool_word(const char *v, bool *out)
{
	if (!v || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return false;
	return true;
}

/* tmpfs-size: bytes, or with Docker's k/m/g (powers of 1024). */
static bool size_word(const char *v, char *out, size_t len)
{
	size_t digits = strspn(v, "0123456789");

	if (!digits || digits > 18 || (v[digits] && (strchr("kKmMgG", v[digits]) == NULL || v[digits + 1])))
		return false;
	snprintf(out, len, "size=%s", v);
	return true;
}

static int add_tmpfs_opt(struct mnt *m, const char *opt)
{
	char *joined = m->tmpfs_opts ? bt_strdup_printf("%s,%s", m->tmpfs_opts, opt) : strdup(opt);

	if (!joined)
		return -1;
	free(m->tmpfs_opts);
	m->tmpfs_opts = joined;
	return 0;
}

/* One key of --mount; 1 when unknown. */
static int mount_key(struct mnt *m, const char *key, const char *val, const char *spec, berth_error **err)
{
	char buf[64];
	bool b;

	if (!strcmp(key, "type")) {
		if (!val || (strcmp(val, "volume") && strcmp(val, "bind") && strcmp(val, "tmpfs")))
			return bt_error_set(err, BERTH_EINVAL, 0, "invalid mount type \"%.100s\" in \"%.200s\" (volume, bind, tmpfs)",
					    val ? val : "", spec);
		m->type = !strcmp(val, "volume") ? "volume" : !strcmp(val, "bind") ? "bind" : "tmpfs";
	} else if (!strcmp(key, "source") || !strcmp(key, "src")) {
		free(m->source);
		if (!(m->source = strdup(val ? val : "")))
			return nomem(err);
	} else if (!strcmp(key, "target") || !strcmp(key, "destination") || !strcmp(key, "dst")) {
		free(m->dest);
		if (!(m->dest = strdup(val ? val : "")))
			return nomem(err);
	} else if ((!strcmp(key, "readonly") || !strcmp(key, "ro")) && bool_word(val, &b)) {
		m->ro = b;
	} else if (!strcmp(key, "volume-nocopy") && bool_word(val, &b)) {
		m->nocopy = b;
	} else if (!strcmp(key, "volume-opt") && val && strchr(val, '=')) {
		if (bt_strv_add(&m->vol_opts, strdup(val)) < 0)
			return nomem(err);
	} else if (!strcmp(key, "volume-label") && val) {
		if (bt_strv_add(&m->vol_labels, strdup(val)) < 0)
			return nomem(err);
	} else if (!strcmp(key, "volume-driver") && val && !strcmp(val, "local")) {
		return 0;
	} else if (!strcmp(key, "bind-propagation") && val && is_propagation(val)) {
		free(m->propagation);
		if (!(m->propagation = strdup(val)))
			return nomem(err);
	} else if (!strcmp(key, "tmpfs-size") && val && size_word(val, buf, sizeof(buf))) {
		if (add_tmpfs_opt(m, buf) < 0)
			return nomem(err);
	} else if (!strcmp(key, "tmpfs-mode") && val && *val && strspn(val, "01234567") == strlen(val) && strlen(val) <= 4) {
		snprintf(buf, sizeof(buf), "mode=%s", val);
		if (add_tmpfs_opt(m, buf) < 0)
			return nomem(err);
	} else if (!strcmp(key, "consistency")) {
		return 0;
	} else {
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid field '%.100s%s%.100s' in --mount \"%.200s\"", key,
				    val ? "=" : "", val ? val : "", spec);
	}
	return 0;
}

/* --mount type=...,source=...,target=...: the fields checked against the type. */
static int mount_check(struct mnt *m, const char *spec, berth_error **err)
{
	int rc;

	if (!m->dest || !*m->dest)
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid --mount \"%.200s\": target is required", spec);
	if ((rc = check_dest(m->dest, spec, err)) < 0)
		return rc;
	if (strcmp(m->type, "volume") && (m->vol_opts.n || m->vol_labels.n || m->nocopy))
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid --mount \"%.200s\": volume options with type=%s", spec, m->type);
	if (strcmp(m->type, "tmpfs") && m->tmpfs_opts)
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid --mount \"%.200s\": tmpfs options with type=%s", spec, m->type);
	if (strcmp(m->type, "bind") && m->propagation)
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid --mount \"%.200s\": bind-propagation with type=%s", spec, m->type);
	if (!strcmp(m->type, "tmpfs") && m->source && *m->source)
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid --mount \"%.200s\": a tmpfs has no source", spec);
	if (!strcmp(m->type, "bind")) {
		struct stat st;

		if (!m->source || m->source[0] != '/')
			return bt_error_set(err, BERTH_EINVAL, 0, "invalid --mount \"%.200s\": a bind source must be an absolute path", spec);
		m->must_exist = true;
		if (stat(m->source, &st) < 0)
			return bt_error_set(err, BERTH_EINVAL, errno,
					    "invalid mount config for type \"bind\": bind source path does not exist: %.200s",
					    m->source);
	}
	if (!strcmp(m->type, "volume")) {
		m->anonymous = !m->source || !*m->source;
		if (!m->anonymous) {
			m->name = m->source;
			m->source = NULL;
		}
	}
	return 0;
}

static int parse_mount(struct mnts *l, const char *spec, berth_error **err)
{
	char *copy = strdup(spec), *save = NULL;
	struct mnt *m = mnts_add(l);
	int rc = 0;

	if (!copy || !m) {
		free(copy);
		return nomem(err);
	}
	m->type = "volume";
	for (char *f = strtok_r(copy, ",", &save); f && rc == 0; f = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(f, '=');

		if (eq)
			*eq = '\0';
		rc = mount_key(m, f, eq ? eq + 1 : NULL, spec, err);
	}
	free(copy);
	return rc ? rc : mount_check(m, spec, err);
}

/* Whether opts (comma-separated) are all tmpfs options Docker takes:
 * flags the kernel applies to any mount and tmpfs's own keys; never
 * bind/rbind, which would make the mount a bind of a host path. */
static bool tmpfs_opts_valid(const char *opts, const char **bad, size_t *badlen)
{
	static const char *const flags[] = { "ro", "rw", "suid", "nosuid", "dev", "nodev", "exec", "noexec",
					     "sync", "async", "dirsync", "atime", "noatime", "diratime",
					     "nodiratime", "relatime", "norelatime", "strictatime", "nostrictatime" };
	static const char *const keys[] = { "size=", "mode=", "uid=", "gid=", "nr_inodes=", "nr_blocks=", "mpol=" };

	for (const char *w = opts; w && *w; w = strchr(w, ',') ? strchr(w, ',') + 1 : NULL) {
		size_t n = strcspn(w, ","), i;
		bool ok = false;

		for (i = 0; !ok && i < sizeof(flags) / sizeof(flags[0]); i++)
			ok = strlen(flags[i]) == n && !strncmp(w, flags[i], n);
		for (i = 0; !ok && i < sizeof(keys) / sizeof(keys[0]); i++)
			ok = n > strlen(keys[i]) && !strncmp(w, keys[i], strlen(keys[i]));
		if (!ok) {
			*bad = w;
			*badlen = n;
			return false;
		}
	}
	return true;
}

/* --tmpfs /path[:options], Docker's defaults first. */
static int parse_tmpfs(struct mnts *l, const char *spec, berth_error **err)
{
	const char *colon = strchr(spec, ':'), *bad;
	struct mnt *m = mnts_add(l);
	size_t badlen;

	if (!m)
		return nomem(err);
	if (colon && !tmpfs_opts_valid(colon + 1, &bad, &badlen))
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid --tmpfs \"%.200s\": unknown option \"%.*s\"", spec,
				    (int)(badlen > 100 ? 100 : badlen), bad);
	m->type = "tmpfs";
	if (!(m->dest = colon ? strndup(spec, (size_t)(colon - spec)) : strdup(spec)) ||
	    add_tmpfs_opt(m, "noexec,nosuid,nodev") < 0 || (colon && colon[1] && add_tmpfs_opt(m, colon + 1) < 0))
		return nomem(err);
	for (const char *w = colon ? colon + 1 : NULL; w && *w; w = strchr(w, ',') ? strchr(w, ',') + 1 : NULL)
		if (!strncmp(w, "ro", 2) && (w[2] == ',' || !w[2]))
			m->ro = true;
	return check_dest(m->dest, spec, err);
}

/* --volumes-from container[:ro|rw]: its volumes and binds at the same
 * paths, read-only or read-write as asked, else as it has them. */
static int parse_volumes_from(berth_ctx *ctx, struct mnts *l, const char *spec, berth_error **err)
{
	const char *colon = strrchr(spec, ':');
	char *name = colon ? strndup(spec, (size_t)(colon - spec)) : strdup(spec);
	int force = -1, rc;
	struct bt_ct *ct;
	json_t *e;
	size_t i;

	if (!name)
		return nomem(err);
	if (colon && strcmp(colon + 1, "ro") && strcmp(colon + 1, "rw")) {
		free(name);
		return bt_error_set(err, BERTH_EINVAL, 0, "invalid --volumes-from \"%.200s\": mode must be ro or rw", spec);
	}
	if (colon)
		force = !strcmp(colon + 1, "ro");
	rc = bt_ct_open(ctx, name, &ct, err);
	free(name);
	if (rc < 0)
		return rc;
	json_array_foreach(json_object_get(ct->config, "Mounts"), i, e) {
		const char *type = json_string_value(json_object_get(e, "Type"));
		const char *src = json_string_value(json_object_get(e, "Name"));
		struct mnt *m;

		if (!type || !strcmp(type, "tmpfs"))
			continue;
		if (!(m = mnts_add(l))) {
			rc = nomem(err);
			break;
		}
		m->type = !strcmp(type, "bind") ? "bind" : "volume";
		m->weak = true;
		m->ro = force >= 0 ? force : !json_is_true(json_object_get(e, "RW"));
		m->nocopy = true;
		if (!strcmp(type, "bind"))
			src = json_string_value(json_object_get(e, "Source"));
		if (!src || !(m->dest = strdup(json_string_value(json_object_get(e, "Destination")) ?: "")) ||
		    !(*(strcmp(type, "bind") ? &m->name : &m->source) = strdup(src)) ||
		    !(m->mode = strdup(m->ro ? "ro" : ""))) {
			rc = nomem(err);
			break;
		}
		if (!strcmp(type, "bind") && json_string_value(json_object_get(e, "Propagation")) &&
		    !(m->propagation = strdup(json_string_value(json_object_get(e, "Propagation")))))
			rc = nomem(err);
	}
	bt_ct_close(ct);
	return rc;
}

/* The image's VOLUMEs: an anonymous volume each. */
static int image_volumes(struct mnts *l, const json_t *image, berth_error **err)
{
	const json_t *vols = json_object_get(json_object_get(image, "config"), "Volumes");
	const char *dest;
	json_t *v;

	json_object_foreach((json_t *)vols, dest, v) {
		struct mnt *m = mnts_add(l);

		if (!m || !(m->dest = strdup(dest)))
			return nomem(err);
		m->type = "volume";
		m->anonymous = m->weak = true;
		if (check_dest(dest, "the image's Volumes", err) < 0)
			return BERTH_EINVAL;
	}
	return 0;
}

static bool same_path(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	return la == lb && !strncmp(a, b, la);
}

/* Two mounts of the user's at one path are an error; a weak one (from
 * --volumes-from or the image) at a path the user mounts is dropped. */
static int dedupe(struct mnts *l, berth_error **err)
{
	bool *drop = calloc(l->n ? l->n : 1, sizeof(*drop));
	size_t out = 0;

	if (!drop)
		return nomem(err);
	/* decided on the whole list first: compacting while comparing would
	 * compare with entries already moved or freed */
	for (size_t i = 0; i < l->n; i++)
		for (size_t j = 0; j < l->n && !drop[i]; j++) {
			if (i == j || !same_path(l->v[i].dest, l->v[j].dest))
				continue;
			if (!l->v[i].weak && !l->v[j].weak) {
				free(drop);
				return bt_error_set(err, BERTH_EINVAL, 0, "Duplicate mount point: %.200s", l->v[i].dest);
			}
			/* the weak one yields; of two weak ones the later */
			drop[i] = l->v[i].weak && (!l->v[j].weak || j < i);
		}
	for (size_t i = 0; i < l->n; i++)
		if (drop[i])
			mnt_free(&l->v[i]);
		else
			l->v[out++] = l->v[i];
	l->n = out;
	free(drop);
	return 0;
}

/* The components of a path: parents (fewer) are mounted before children. */
static size_t depth(const char *p)
{
	size_t d = 0;

	for (; *p; p++)
		d += *p == '/' && p[1] && p[1] != '/';
	return d;
}

/* The spec's mounts, parents before children and otherwise in their order
 * (a stable insertion sort: the lists are short), as Docker sorts them: a
 * volume on /etc goes under the generated /etc/hosts, a user's /dev/shm
 * over the default one. */
static void sort_spec_mounts(json_t *mounts)
{
	size_t n = json_array_size(mounts);
	json_t **v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return; /* left in the order they came */
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(mounts, i));
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0; j--) {
			json_t *t = v[j];

			if (depth(json_string_value(json_object_get(v[j - 1], "destination")) ?: "") <=
			    depth(json_string_value(json_object_get(t, "destination")) ?: ""))
				break;
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	json_array_clear(mounts);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(mounts, v[i]);
	free(v);
}

static int collect(berth_ctx *ctx, const berth_container_create_opts *o, const json_t *image, struct mnts *l,
		   berth_error **err)
{
	int rc = 0;

	for (const char *const *s = o->volumes_from; s && *s && rc == 0; s++)
		rc = parse_volumes_from(ctx, l, *s, err);
	for (const char *const *s = o->volumes; s && *s && rc == 0; s++)
		rc = parse_v(l, *s, err);
	for (const char *const *s = o->mounts; s && *s && rc == 0; s++)
		rc = parse_mount(l, *s, err);
	for (const char *const *s = o->tmpfs; s && *s && rc == 0; s++)
		rc = parse_tmpfs(l, *s, err);
	if (rc == 0)
		rc = image_volumes(l, image, err);
	if (rc == 0)
		rc = dedupe(l, err);
	return rc;
}

/* The parse and checks of bt_ct_mounts_apply alone, nothing made: what the
 * fuzz target of mount specs drives (--volumes-from needs a store). */
int bt_ct_mounts_check(const berth_container_create_opts *o, const json_t *image, berth_error **err)
{
	struct mnts l = { 0 };
	int rc;

	if (o->volumes_from && o->volumes_from[0])
		return bt_error_set(err, BERTH_EINVAL, 0, "--volumes-from needs a store to check against");
	rc = collect(NULL, o, image, &l, err);
	mnts_free(&l);
	return rc;
}

/* ---- the volumes made and held ------------------------------------------ */

static void holder_of(const char *id, char holder[128])
{
	snprintf(holder, 128, BT_CT_HOLDER "%s", id);
}

/* sv's strings as a NULL-terminated array (borrowed); NULL without memory. */
static const char **terminated(const struct bt_strv *sv)
{
	const char **a = calloc(sv->n + 1, sizeof(*a));

	for (size_t i = 0; a && i < sv->n; i++)
		a[i] = sv->v[i];
	return a;
}

/* Creates (when missing) and holds m's volume. */
static int realize_volume(berth_ctx *ctx, const char *id, struct mnt *m, berth_error **err)
{
	berth_volume_create_opts vo = BERTH_VOLUME_CREATE_OPTS_INIT;
	const char *anon[] = { BERTH_VOLUME_ANONYMOUS_LABEL "=", NULL };
	const char **labels = terminated(&m->vol_labels), **opts = terminated(&m->vol_opts);
	char holder[128], *name = NULL;
	int rc;

	if (!labels || !opts) {
		rc = nomem(err);
		goto out;
	}
	vo.labels = m->anonymous ? anon : labels;
	vo.options = opts;
	if ((rc = berth_volume_create(ctx, m->name, &vo, &name, err)) < 0)
		goto out;
	if (!m->name) {
		m->name = name;
		m->created = true;
	} else {
		free(name);
	}
	holder_of(id, holder);
	if ((rc = berth_volume_hold(ctx, m->name, holder, err)) == 0)
		m->held = true;
out:
	free(labels);
	free(opts);
	return rc;
}

/* Undoes what realize did for l (a failed create). */
static void unrealize(berth_ctx *ctx, const char *id, struct mnts *l)
{
	char holder[128];

	holder_of(id, holder);
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].held)
			berth_volume_release(ctx, l->v[i].name, holder, NULL);
		if (l->v[i].created)
			berth_volume_remove(ctx, l->v[i].name, 0, NULL);
	}
}

/* The volume's _data, from its inspect. */
static int volume_path(berth_ctx *ctx, const char *name, char **out, berth_error **err)
{
	json_t *j = NULL;
	char *text;
	int rc;

	*out = NULL;
	if ((rc = berth_volume_inspect(ctx, name, 0, &text, err)) < 0)
		return rc;
	rc = bt_json_parse(text, strlen(text), "a volume's inspect", &j, err);
	berth_string_free(text);
	if (rc == 0 && !(*out = strdup(json_string_value(json_object_get(j, "Mountpoint")) ?: "")))
		rc = nomem(err);
	json_decref(j);
	return rc;
}

/* A -v bind's source is made when missing, as Docker does. */
static int bind_source(struct mnt *m, berth_error **err)
{
	struct stat st;

	if (m->must_exist || stat(m->source, &st) == 0)
		return 0;
	return bt_mkdir_p(m->source, 0755, err);
}

/* The spec's mount and the record's for m. */
static int describe(berth_ctx *ctx, const struct mnt *m, json_t *spec_mounts, json_t *rec_mounts, berth_error **err)
{
	const char *prop = m->propagation ? m->propagation : "rprivate";
	char *source = NULL;
	json_t *sm, *rm;
	int rc = 0;

	if (!strcmp(m->type, "volume") && (rc = volume_path(ctx, m->name, &source, err)) < 0)
		return rc;
	if (!strcmp(m->type, "tmpfs")) {
		char *copy = strdup(m->tmpfs_opts ? m->tmpfs_opts : ""), *save = NULL;

		sm = json_pack("{s:s, s:s, s:s, s:[]}", "destination", m->dest, "type", "tmpfs", "source", "tmpfs", "options");
		for (char *w = copy ? strtok_r(copy, ",", &save) : NULL; sm && w; w = strtok_r(NULL, ",", &save))
			json_array_append_new(json_object_get(sm, "options"), json_string(w));
		free(copy);
	} else {
		sm = json_pack("{s:s, s:s, s:s, s:[s, s, s]}", "destination", m->dest, "type", "bind", "source",
			       source ? source : m->source, "options", "rbind", m->ro ? "ro" : "rw", prop);
	}
	rm = json_pack("{s:s, s:s?, s:s, s:s, s:s?, s:s, s:b, s:s}", "Type", m->type, "Name", m->name, "Source",
		       source ? source : m->source ? m->source : "", "Destination", m->dest, "Driver",
		       !strcmp(m->type, "volume") ? "local" : NULL, "Mode", m->mode ? m->mode : "", "RW", !m->ro,
		       "Propagation", !strcmp(m->type, "bind") ? prop : "");
	free(source);
	if (!sm || !rm || json_array_append_new(spec_mounts, sm) < 0 || json_array_append_new(rec_mounts, rm) < 0) {
		if (!sm)
			json_decref(rm);
		return nomem(err);
	}
	return 0;
}

/* HostConfig's Binds, Mounts, Tmpfs and VolumesFrom: what was asked. */
static void record_asked(const berth_container_create_opts *o, json_t *record)
{
	json_t *host = json_object_get(record, "HostConfig"), *tmpfs = json_object();
	static const struct {
		const char *key;
		size_t off;
	} lists[] = {
		{ "Binds", offsetof(berth_container_create_opts, volumes) },
		{ "VolumesFrom", offsetof(berth_container_create_opts, volumes_from) },
	};

	for (size_t i = 0; i < BT_ARRAY_SIZE(lists); i++) {
		const char *const *v = *(const char *const *const *)((const char *)o + lists[i].off);
		json_t *a = v ? json_array() : json_null();

		for (; v && *v; v++)
			json_array_append_new(a, json_string(*v));
		json_object_set_new(host, lists[i].key, a);
	}
	for (const char *const *s = o->tmpfs; s && *s; s++) {
		const char *colon = strchr(*s, ':');
		char *dest = colon ? strndup(*s, (size_t)(colon - *s)) : strdup(*s);

		if (dest)
			json_object_set_new(tmpfs, dest, json_string(colon ? colon + 1 : ""));
		free(dest);
	}
	json_object_set_new(host, "Tmpfs", tmpfs);
}

int bt_ct_mounts_apply(berth_ctx *ctx, const char *id, const berth_container_create_opts *o, const json_t *image,
		       json_t *spec, json_t *record, berth_error **err)
{
	struct mnts l = { 0 };
	json_t *rec_mounts = json_array(), *populate = json_array();
	int rc;

	if (!rec_mounts || !populate) {
		rc = nomem(err);
		goto out;
	}
	if ((rc = collect(ctx, o, image, &l, err)) < 0)
		goto out;
	for (size_t i = 0; i < l.n && rc == 0; i++) {
		struct mnt *m = &l.v[i];

		if (!strcmp(m->type, "volume"))
			rc = realize_volume(ctx, id, m, err);
		else if (!strcmp(m->type, "bind"))
			rc = bind_source(m, err);
		if (rc == 0)
			rc = describe(ctx, m, json_object_get(spec, "mounts"), rec_mounts, err);
		if (rc == 0 && !strcmp(m->type, "volume") && !m->nocopy)
			json_array_append_new(populate, json_pack("{s:s, s:s}", "Name", m->name, "Destination", m->dest));
	}
	if (rc < 0) {
		unrealize(ctx, id, &l);
		goto out;
	}
	if (l.n)
		sort_spec_mounts(json_object_get(spec, "mounts"));
	record_asked(o, record);
	json_object_set(record, "Mounts", rec_mounts);
	json_object_set(record, "MountsPopulate", populate);
out:
	json_decref(rec_mounts);
	json_decref(populate);
	mnts_free(&l);
	return rc;
}

/* ---- start, stop, removal ----------------------------------------------- */

/* The names of the volumes a record mounts. */
#define FOREACH_VOLUME(record, i, e, name)                                                        \
	json_array_foreach(json_object_get(record, "Mounts"), i, e)                               \
		if (!strcmp(json_string_value(json_object_get(e, "Type")) ?: "", "volume") &&      \
		    ((name) = json_string_value(json_object_get(e, "Name"))))

int bt_ct_mounts_start(berth_ctx *ctx, const char *id, const json_t *record, const char *rootfs, berth_error **err)
{
	char holder[128];
	const char *name;
	json_t *e;
	size_t i;
	int rc = 0;

	holder_of(id, holder);
	FOREACH_VOLUME(record, i, e, name) {
		if ((rc = berth_volume_mount(ctx, name, holder, NULL, err)) < 0)
			break;
	}
	json_array_foreach(json_object_get(record, "MountsPopulate"), i, e) {
		if (rc < 0)
			break;
		rc = berth_volume_populate(ctx, json_string_value(json_object_get(e, "Name")) ?: "", rootfs,
					   json_string_value(json_object_get(e, "Destination")) ?: "/", err);
	}
	if (rc < 0)
		bt_ct_mounts_stop(ctx, id, record);
	return rc;
}

/* Whether a volume carries Docker's anonymous label. */
static bool anonymous_volume(berth_ctx *ctx, const char *name)
{
	char *text = NULL;
	json_t *j = NULL;
	bool anon;

	if (berth_volume_inspect(ctx, name, 0, &text, NULL) < 0 ||
	    bt_json_parse(text, strlen(text), "a volume's inspect", &j, NULL) < 0) {
		berth_string_free(text);
		return false;
	}
	anon = json_object_get(json_object_get(j, "Labels"), BERTH_VOLUME_ANONYMOUS_LABEL) != NULL;
	berth_string_free(text);
	json_decref(j);
	return anon;
}

/* Calls fn(volume, holder) for each volume the record mounts (a failure
 * other than a volume or hold already gone is logged), then removes the
 * anonymous ones when asked. */
static void each_volume(berth_ctx *ctx, const char *id, const json_t *record,
			int (*fn)(berth_ctx *, const char *, const char *, berth_error **), bool remove_anonymous)
{
	char holder[128];
	const char *name;
	json_t *e;
	size_t i;

	holder_of(id, holder);
	FOREACH_VOLUME(record, i, e, name) {
		berth_error *err = NULL;

		if (fn(ctx, name, holder, &err) < 0 && berth_error_code(err) != BERTH_ENOTFOUND)
			bt_log_warn(ctx, "container", "%.12s: %s", id, berth_error_message(err));
		berth_error_free(err);
		err = NULL;
		/* one another container uses stays, as in Docker */
		if (remove_anonymous && anonymous_volume(ctx, name) && berth_volume_remove(ctx, name, 0, &err) < 0 &&
		    berth_error_code(err) != BERTH_EBUSY)
			bt_log_warn(ctx, "container", "%.12s: %s", id, berth_error_message(err));
		berth_error_free(err);
	}
}

void bt_ct_mounts_stop(berth_ctx *ctx, const char *id, const json_t *record)
{
	each_volume(ctx, id, record, berth_volume_unmount, false);
}

void bt_ct_mounts_release(berth_ctx *ctx, const char *id, const json_t *record, bool remove_anonymous)
{
	each_volume(ctx, id, record, berth_volume_release, remove_anonymous);
}
