/* A container's cgroup across the host's hierarchies: creation from an OCI
 * cgroupsPath, attaching, freezing, killing, listing, statistics, removal.
 * Every write goes into a directory of this cgroup (cg_write_path is the only
 * place that opens a file for writing). */
#include "cgroup-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- file access ------------------------------------------------------ */

static int cg_write_path(const bt_cgroup_host *host, const char *path, const char *value,
			 berth_error **err)
{
	size_t len = strlen(value);
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return bt_error_os(err, "writing \"%s\" to %s", value, path);
	if (host->on_write)
		host->on_write(path, value, host->hook_ud);
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int rc = bt_error_os(err, "writing \"%s\" to %s", value, path);
		close(fd);
		return rc;
	}
	close(fd);
	if ((size_t)n != len)
		return bt_error_set(err, BERTH_EOS, 0, "writing \"%s\" to %s: short write", value, path);
	return 0;
}

int bt_cg_write(const berth_cgroup *cg, size_t i, const char *file, const char *value,
		berth_error **err)
{
	char *path;
	int rc;

	if (strchr(file, '/') || !strcmp(file, "..") || !strcmp(file, "."))
		return bt_error_set(err, BERTH_ESCAPE, 0, "writing to %s: not a file of the cgroup", file);
	if (!(path = bt_strdup_printf("%s/%s", cg->dirs[i].dir, file)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "writing %s: out of memory", file);
	rc = cg_write_path(cg->host, path, value, err);
	free(path);
	return rc;
}

int bt_cg_read(const berth_cgroup *cg, size_t i, const char *file, char **out, berth_error **err)
{
	char *path = bt_strdup_printf("%s/%s", cg->dirs[i].dir, file);
	int rc;

	*out = NULL;
	if (!path)
		return bt_error_set(err, BERTH_ENOMEM, 0, "reading %s: out of memory", file);
	rc = bt_read_file(path, 1 << 22, out, NULL, err);
	free(path);
	return rc;
}

bool bt_cg_has_file(const berth_cgroup *cg, size_t i, const char *file)
{
	char *path = bt_strdup_printf("%s/%s", cg->dirs[i].dir, file);
	bool ok = path && access(path, F_OK) == 0;

	free(path);
	return ok;
}

int bt_cg_v1_index(const berth_cgroup *cg, const char *controller)
{
	for (size_t i = 0; i < cg->ndirs; i++)
		if (cg->dirs[i].v1)
			for (char **c = cg->dirs[i].v1->controllers; *c; c++)
				if (!strcmp(*c, controller))
					return (int)i;
	return -1;
}

bool bt_cg_v2_has(const berth_cgroup *cg, const char *controller)
{
	char *text, *tok, *save = NULL;
	bool found = false;

	if (cg->v2 < 0 || bt_cg_read(cg, (size_t)cg->v2, "cgroup.controllers", &text, NULL) < 0)
		return false;
	for (tok = strtok_r(text, " \n", &save); tok && !found; tok = strtok_r(NULL, " \n", &save))
		found = !strcmp(tok, controller);
	free(text);
	return found;
}

bool bt_cg_keyed(const char *text, const char *key, unsigned long long *out)
{
	size_t klen = strlen(key);

	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			*out = strtoull(line + klen + 1, NULL, 10);
			return true;
		}
	}
	return false;
}

/* ---- paths --------------------------------------------------------------- */

static int check_id(const char *id, berth_error **err)
{
	if (!id || !*id || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, "..") || strlen(id) > 200)
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "making the default cgroup path: container id \"%s\" is not a valid name",
				    id ? id : "(null)");
	return 0;
}

/* The caller's own cgroup in hierarchy h (NULL: the v2 tree), from
 * /proc/self/cgroup lines "N:controllers:/path". */
static int own_cgroup(const bt_cgroup_host *host, const bt_cg_hierarchy *h, char **out,
		      berth_error **err)
{
	char *text, *line, *save = NULL, want[512] = "";
	int rc = BERTH_ENOTFOUND;

	*out = NULL;
	if (h)
		for (char **c = h->controllers; *c; c++)
			snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s",
				 c == h->controllers ? "" : ",", *c);
	if ((rc = bt_read_file(host->self_cgroup, 1 << 16, &text, NULL, err)) < 0)
		return bt_error_wrap(err, rc, "resolving a relative cgroupsPath");
	rc = BERTH_ENOTFOUND;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		if (h ? !strcmp(c1 + 1, want) : (!strcmp(line, "0:") && c1[1] == '\0')) {
			*out = strdup(c2 + 1);
			rc = *out ? 0 : BERTH_ENOMEM;
			break;
		}
	}
	free(text);
	if (rc == BERTH_ENOMEM)
		return bt_error_set(err, rc, 0, "resolving a relative cgroupsPath: out of memory");
	if (rc < 0)
		return bt_error_set(err, rc, 0, "resolving a relative cgroupsPath: %s lists no cgroup for %s",
				    host->self_cgroup, h ? h->name : "the v2 tree");
	return 0;
}

/* The directory of cgroups_path in hierarchy h (NULL: v2 tree). */
static int resolve(const bt_cgroup_host *host, const bt_cg_hierarchy *h, const char *cgroups_path,
		   const char *id, char **dir, char **rel, berth_error **err)
{
	const char *mount = h ? h->mount : host->v2_mount;
	char *def = NULL, *base = NULL, *own = NULL;
	int rc = 0;

	*dir = *rel = NULL;
	if (!cgroups_path || !*cgroups_path) {
		if ((rc = check_id(id, err)) < 0)
			return rc;
		if (!(def = bt_strdup_printf("/berth/%s", id)))
			return bt_error_set(err, BERTH_ENOMEM, 0, "resolving the cgroup path: out of memory");
		cgroups_path = def;
	}
	if (cgroups_path[0] != '/') {
		const char *c = strchr(cgroups_path, ':');
		if (c && strchr(c + 1, ':')) {
			free(def);
			return bt_error_set(err, BERTH_EUNSUPPORTED, 0,
					    "cgroupsPath \"%s\": systemd slice:prefix:name paths are not supported",
					    cgroups_path);
		}
		if ((rc = own_cgroup(host, h, &own, err)) < 0) {
			free(def);
			return rc;
		}
	}
	if ((rc = bt_path_join(own ? own : "/", cgroups_path, rel, err)) == 0 &&
	    (rc = bt_path_join(mount, *rel, dir, err)) == 0 && !strcmp(*rel, "/"))
		rc = bt_error_set(err, BERTH_EINVAL, 0, "cgroupsPath \"%s\" names the root of %s",
				  cgroups_path, mount);
	if (rc < 0) {
		rc = bt_error_wrap(err, rc, "resolving cgroupsPath \"%s\"", cgroups_path);
		free(*dir);
		free(*rel);
		*dir = *rel = NULL;
	}
	free(own);
	free(base);
	free(def);
	return rc;
}

/* ---- creation and removal ---------------------------------------------- */

/* A fake tree's directories hold regular files standing in for the
 * kernel's; a real cgroup directory is removed by rmdir alone. */
static void fake_clear(const bt_cgroup_host *host, const char *dir)
{
	DIR *d;
	struct dirent *de;

	if (!host->fake || !(d = opendir(dir)))
		return;
	while ((de = readdir(d)))
		if (de->d_type == DT_REG)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

/* rmdir with retries while the last processes exit. */
static int remove_dir(const bt_cgroup_host *host, const char *dir, int timeout_ms, berth_error **err)
{
	long long deadline = now_ms() + timeout_ms;

	for (;;) {
		fake_clear(host, dir);
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if ((errno != EBUSY && errno != EAGAIN) || now_ms() >= deadline)
			return bt_error_os(err, "removing cgroup %s", dir);
		sleep_ms(10);
	}
}

/* Removes the directories of d that we made, leaf first; parents only when
 * empty (other containers may live there). */
static int remove_created(const bt_cgroup_host *host, bt_cg_dir *d, int timeout_ms, berth_error **err)
{
	char *path;
	int rc = 0;

	if (d->created == 0)
		return 0;
	if ((rc = remove_dir(host, d->dir, timeout_ms, err)) < 0)
		return rc;
	if (!(path = strdup(d->dir)))
		return 0;
	for (size_t k = 1; k < d->created; k++) {
		char *slash = strrchr(path, '/');
		if (!slash || slash == path)
			break;
		*slash = '\0';
		fake_clear(host, path);
		if (rmdir(path) < 0)
			break;
	}
	free(path);
	return 0;
}

/* The parent's value, trimmed. A parent that another thread or process
 * has just made may not have its own copy yet: its value is waited for
 * (1 s at most) rather than copied empty, which would leave a cpuset that
 * refuses every process (ENOSPC). */
static int read_parent_value(const char *path, char **out, berth_error **err)
{
	for (int tries = 0;; tries++) {
		size_t len;
		int rc;

		if ((rc = bt_read_file(path, 1 << 16, out, NULL, err)) < 0)
			return rc;
		len = strlen(*out);
		while (len > 0 && ((*out)[len - 1] == '\n' || (*out)[len - 1] == ' '))
			(*out)[--len] = '\0';
		if (len || tries == 100)
			return 0;
		free(*out);
		*out = NULL;
		sleep_ms(10);
	}
}

static int copy_parent_file(const bt_cgroup_host *host, const char *dir, const char *file,
			    berth_error **err)
{
	char *path = bt_strdup_printf("%s/%s", dir, file), *ppath = NULL, *mine = NULL, *parent = NULL;
	char *slash;
	int rc;

	if (!path || !(ppath = strdup(path)))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "setting up cpuset %s: out of memory", dir);
	else if ((rc = bt_read_file(path, 1 << 16, &mine, NULL, err)) == 0 &&
		 strspn(mine, " \n") == strlen(mine)) {
		*strrchr(ppath, '/') = '\0';
		slash = strrchr(ppath, '/');
		*slash = '\0';
		free(path);
		path = bt_strdup_printf("%s/%s", ppath, file);
		if (!path)
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "setting up cpuset %s: out of memory", dir);
		else if ((rc = read_parent_value(path, &parent, err)) == 0) {
			free(path);
			path = bt_strdup_printf("%s/%s", dir, file);
			rc = path ? cg_write_path(host, path, parent, err)
				  : bt_error_set(err, BERTH_ENOMEM, 0, "setting up cpuset: out of memory");
		}
	}
	free(path);
	free(ppath);
	free(mine);
	free(parent);
	return rc;
}

/* A v1 cpuset without cpus and mems cannot take processes: an empty one
 * gets its parent's (files already set are left alone). */
static int fill_cpuset(const bt_cgroup_host *host, const bt_cg_dir *d, const char *dir,
		       berth_error **err)
{
	int rc = 0;

	for (char **c = d->v1->controllers; *c && rc == 0; c++)
		if (!strcmp(*c, "cpuset") && (rc = copy_parent_file(host, dir, "cpuset.cpus", err)) == 0)
			rc = copy_parent_file(host, dir, "cpuset.mems", err);
	return rc;
}

/* A directory we just made: v1 cpuset gets its parent's cpus and mems; a
 * v2 directory that will have children passes its controllers down to them. */
static int setup_new(const bt_cgroup_host *host, const bt_cg_dir *d, const char *dir, bool leaf,
		     berth_error **err)
{
	int rc = 0;

	if (host->on_mkdir)
		host->on_mkdir(dir, d->v1, d->v1 == NULL, host->hook_ud);
	if (d->v1) {
		rc = fill_cpuset(host, d, dir, err);
	} else if (!leaf) {
		char *path = bt_strdup_printf("%s/cgroup.controllers", dir), *text = NULL, *tok, *save = NULL;
		char *line = NULL;
		size_t len = 0;

		if (!path)
			return bt_error_set(err, BERTH_ENOMEM, 0, "setting up %s: out of memory", dir);
		if ((rc = bt_read_file(path, 4096, &text, NULL, err)) == 0 &&
		    (line = calloc(1, 2 * strlen(text) + 2))) {
			for (tok = strtok_r(text, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
				len += (size_t)sprintf(line + len, "%s+%s", len ? " " : "", tok);
			free(path);
			path = bt_strdup_printf("%s/cgroup.subtree_control", dir);
			if (len && path)
				rc = cg_write_path(host, path, line, err);
		}
		free(line);
		free(text);
		free(path);
	}
	return rc;
}

static int make_dir(const bt_cgroup_host *host, bt_cg_dir *d, berth_error **err)
{
	size_t mlen = strlen(d->mount);
	int rc = 0, retries = 0;

	for (char *s = d->dir + mlen + 1;; s++) {
		char saved;
		bool leaf, made;

		if (*s != '/' && *s)
			continue;
		saved = *s;
		leaf = saved == '\0';
		*s = '\0';
		made = mkdir(d->dir, 0755) == 0;
		if (!made && errno == ENOENT && retries++ < 20) {
			/* a parent that existed a moment ago, ours or not, was
			 * removed by the delete of another container (the last
			 * one out removes berth's parent, runtime.c): again from
			 * the top; what we made of the path went with it */
			*s = saved;
			s = d->dir + mlen;
			d->created = 0;
			continue;
		}
		if (made) {
			d->created++;
			rc = setup_new(host, d, d->dir, leaf, err);
		} else if (errno == EEXIST && !leaf && d->created == 0) {
			struct stat st;
			if (lstat(d->dir, &st) < 0 || !S_ISDIR(st.st_mode))
				rc = bt_error_set(err, BERTH_EINVAL, 0, "creating cgroup %s: %s is not a directory",
						  d->dir, d->dir);
			else if (d->v1)
				/* a parent whose maker was killed before it set the cpuset up */
				rc = fill_cpuset(host, d, d->dir, err);
		} else if (errno == EEXIST) {
			rc = bt_error_set(err, BERTH_EEXISTS, EEXIST, "creating cgroup %s: it exists already",
					  d->dir);
		} else {
			rc = bt_error_os(err, "creating cgroup %s", d->dir);
		}
		*s = saved;
		if (leaf || rc < 0)
			break;
	}
	return rc;
}

static void cgroup_free(berth_cgroup *cg)
{
	for (size_t i = 0; i < cg->ndirs; i++) {
		free(cg->dirs[i].dir);
		free(cg->dirs[i].mount);
	}
	if (cg->own_host)
		bt_cgroup_host_free(cg->host);
	free(cg->path);
	free(cg);
}

/* what cgroup_new does with the directories */
enum { CG_OPEN, CG_CREATE, CG_EXISTING };

static int cgroup_new(const berth_ctx *ctx, bt_cgroup_host *host, const char *cgroups_path,
		      const char *id, int how, berth_cgroup **out, berth_error **err)
{
	bool create = how == CG_CREATE;
	berth_cgroup *cg;
	int rc = 0;

	*out = NULL;
	if (host->mode == BERTH_CGROUP_NONE)
		return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "%s cgroup %s: no cgroup file system at %s",
				    create ? "creating" : "opening", cgroups_path ? cgroups_path : id,
				    host->root);
	if (!(cg = calloc(1, sizeof(*cg))))
		return bt_error_set(err, BERTH_ENOMEM, 0, "creating a cgroup: out of memory");
	cg->ctx = ctx;
	cg->host = host;
	cg->v2 = -1;
	for (size_t i = 0; i <= host->nv1 && rc == 0; i++) {
		const bt_cg_hierarchy *h = i < host->nv1 ? &host->v1[i] : NULL;
		bt_cg_dir *d = &cg->dirs[cg->ndirs];
		char *rel;

		if (!h && !host->v2_mount)
			break;
		d->v1 = h;
		if (!(d->mount = strdup(h ? h->mount : host->v2_mount))) {
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "creating a cgroup: out of memory");
			break;
		}
		cg->ndirs++;
		if ((rc = resolve(host, h, cgroups_path, id, &d->dir, &rel, err)) < 0)
			break;
		if (!h || !cg->path) {
			free(cg->path);
			cg->path = rel;
		} else {
			free(rel);
		}
		if (!h)
			cg->v2 = (int)(cg->ndirs - 1);
		if (create) {
			rc = make_dir(host, d, err);
		} else {
			struct stat st;
			d->created = 1;
			if (stat(d->dir, &st) == 0) {
				continue;
			} else if (how == CG_EXISTING && errno == ENOENT) {
				/* not made (a create killed part way): left out */
				free(d->dir);
				free(d->mount);
				memset(d, 0, sizeof(*d));
				cg->ndirs--;
				cg->v2 = h ? cg->v2 : -1;
			} else {
				rc = bt_error_os(err, "opening cgroup %s", d->dir);
			}
		}
	}
	if (rc == 0 && cg->ndirs == 0)
		rc = bt_error_set(err, BERTH_ENOTFOUND, ENOENT, "opening cgroup %s: it exists in no hierarchy",
				  cg->path ? cg->path : id);
	if (rc < 0) {
		for (size_t i = cg->ndirs; create && i-- > 0;)
			remove_created(host, &cg->dirs[i], 0, NULL);
		cgroup_free(cg);
		return rc;
	}
	bt_log_debug(ctx, "cgroup", "%s cgroup %s in %zu hierarch%s", create ? "created" : "opened",
		     cg->path, cg->ndirs, cg->ndirs == 1 ? "y" : "ies");
	*out = cg;
	return 0;
}

int bt_cgroup_create(const berth_ctx *ctx, bt_cgroup_host *host, const char *cgroups_path,
		     const char *id, berth_cgroup **out, berth_error **err)
{
	return cgroup_new(ctx, host, cgroups_path, id, CG_CREATE, out, err);
}

int bt_cgroup_open(const berth_ctx *ctx, bt_cgroup_host *host, const char *cgroups_path,
		   const char *id, berth_cgroup **out, berth_error **err)
{
	return cgroup_new(ctx, host, cgroups_path, id, CG_OPEN, out, err);
}

static int public_new(const berth_ctx *ctx, const char *cgroups_path, const char *id, int how,
		      berth_cgroup **out, berth_error **err)
{
	bt_cgroup_host *host;
	int rc;

	*out = NULL;
	if ((rc = bt_cgroup_host_new(NULL, NULL, &host, err)) < 0)
		return rc;
	if ((rc = cgroup_new(ctx, host, cgroups_path, id, how, out, err)) < 0) {
		bt_cgroup_host_free(host);
		return rc;
	}
	(*out)->own_host = true;
	return 0;
}

int berth_cgroup_create(const berth_ctx *ctx, const char *cgroups_path, const char *id,
			berth_cgroup **out, berth_error **err)
{
	return public_new(ctx, cgroups_path, id, CG_CREATE, out, err);
}

int berth_cgroup_open(const berth_ctx *ctx, const char *cgroups_path, const char *id,
		      berth_cgroup **out, berth_error **err)
{
	return public_new(ctx, cgroups_path, id, CG_OPEN, out, err);
}

int bt_cgroup_open_existing(const berth_ctx *ctx, const char *cgroups_path, const char *id,
			    berth_cgroup **out, berth_error **err)
{
	return public_new(ctx, cgroups_path, id, CG_EXISTING, out, err);
}

const char *berth_cgroup_path(const berth_cgroup *cg)
{
	return cg->path;
}

void berth_cgroup_free(berth_cgroup *cg)
{
	if (cg)
		cgroup_free(cg);
}

int berth_cgroup_remove(berth_cgroup *cg, berth_error **err)
{
	int rc = 0;

	for (size_t i = cg->ndirs; i-- > 0;) {
		int r = remove_created(cg->host, &cg->dirs[i], cg->host->remove_timeout_ms,
				       rc == 0 ? err : NULL);
		if (r < 0 && rc == 0)
			rc = r;
	}
	return rc;
}

/* ---- processes ------------------------------------------------------------ */

int berth_cgroup_attach(berth_cgroup *cg, int pid, berth_error **err)
{
	char buf[32];
	int rc;

	if (pid <= 0)
		return bt_error_set(err, BERTH_EINVAL, 0, "attaching pid %d to cgroup %s: not a process id",
				    pid, cg->path);
	snprintf(buf, sizeof(buf), "%d", pid);
	for (size_t i = 0; i < cg->ndirs; i++)
		if ((rc = bt_cg_write(cg, i, "cgroup.procs", buf, err)) < 0)
			return bt_error_wrap(err, rc, "attaching pid %d to cgroup %s", pid, cg->path);
	return 0;
}

int bt_cgroup_v2_fd(const berth_cgroup *cg)
{
	if (cg->v2 < 0)
		return -1;
	return open(cg->dirs[cg->v2].dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

int berth_cgroup_pids(berth_cgroup *cg, int **pids, size_t *count, berth_error **err)
{
	size_t dir = cg->v2 >= 0 ? (size_t)cg->v2 : 0, n = 0, cap = 16;
	char *text, *line, *save = NULL;
	int *list;
	int rc;

	*pids = NULL;
	*count = 0;
	if ((rc = bt_cg_read(cg, dir, "cgroup.procs", &text, err)) < 0)
		return bt_error_wrap(err, rc, "listing the processes of cgroup %s", cg->path);
	if (!(list = malloc(cap * sizeof(int)))) {
		free(text);
		return bt_error_set(err, BERTH_ENOMEM, 0, "listing processes: out of memory");
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (n == cap) {
			int *bigger = realloc(list, (cap *= 2) * sizeof(int));
			if (!bigger) {
				free(list);
				free(text);
				return bt_error_set(err, BERTH_ENOMEM, 0, "listing processes: out of memory");
			}
			list = bigger;
		}
		list[n++] = atoi(line);
	}
	free(text);
	*pids = list;
	*count = n;
	return 0;
}

void berth_cgroup_pids_free(int *pids)
{
	free(pids);
}

/* The freezer file: v1 freezer.state, else v2 cgroup.freeze. */
static int freezer(const berth_cgroup *cg, bool *v1, berth_error **err)
{
	int i = bt_cg_v1_index(cg, "freezer");

	*v1 = i >= 0;
	if (i >= 0)
		return i;
	if (cg->v2 >= 0 && bt_cg_has_file(cg, (size_t)cg->v2, "cgroup.freeze"))
		return cg->v2;
	return bt_error_set(err, BERTH_EUNSUPPORTED, 0,
			    "freezing cgroup %s: no freezer controller and no cgroup.freeze", cg->path);
}

static int set_frozen(berth_cgroup *cg, bool frozen, bool wait, berth_error **err)
{
	const char *what = frozen ? "freezing" : "thawing";
	long long deadline = now_ms() + cg->host->freeze_timeout_ms;
	const char *file, *value;
	bool v1;
	int dir, rc;

	if ((dir = freezer(cg, &v1, err)) < 0)
		return dir;
	file = v1 ? "freezer.state" : "cgroup.freeze";
	value = v1 ? (frozen ? "FROZEN" : "THAWED") : (frozen ? "1" : "0");
	for (int round = 0;; round++) {
		char *text = NULL;
		bool done;

		if (round % 50 == 0 && (rc = bt_cg_write(cg, (size_t)dir, file, value, err)) < 0)
			return bt_error_wrap(err, rc, "%s cgroup %s", what, cg->path);
		if (!wait)
			return 0;
		if ((rc = bt_cg_read(cg, (size_t)dir, v1 ? "freezer.state" : "cgroup.events", &text, err)) < 0)
			return bt_error_wrap(err, rc, "%s cgroup %s", what, cg->path);
		if (v1) {
			done = !strncmp(text, value, strlen(value));
		} else {
			unsigned long long f = 2;
			done = bt_cg_keyed(text, "frozen", &f) && f == (frozen ? 1 : 0);
		}
		free(text);
		if (done)
			return 0;
		if (now_ms() >= deadline) {
			if (frozen)
				set_frozen(cg, false, false, NULL);
			return bt_error_set(err, BERTH_EBUSY, 0, "%s cgroup %s: not done after %d ms", what,
					    cg->path, cg->host->freeze_timeout_ms);
		}
		sleep_ms(2);
	}
}

int berth_cgroup_freeze(berth_cgroup *cg, berth_error **err)
{
	return set_frozen(cg, true, true, err);
}

int berth_cgroup_thaw(berth_cgroup *cg, berth_error **err)
{
	return set_frozen(cg, false, true, err);
}

static int wait_empty(berth_cgroup *cg, long long deadline, bool *empty, berth_error **err)
{
	int *pids;
	size_t n;
	int rc;

	for (;;) {
		if ((rc = berth_cgroup_pids(cg, &pids, &n, err)) < 0)
			return rc;
		free(pids);
		if ((*empty = n == 0) || now_ms() >= deadline)
			return 0;
		sleep_ms(5);
	}
}

/* Through a pidfd, and only after reading that pid is (still) ours: a pid
 * listed in cgroup.procs may be another process's by the time it is
 * signalled. */
int bt_cgroup_signal(const berth_cgroup *cg, int pid, int sig)
{
	char path[64], buf[4096];
	const char *want = cg->path;
	size_t wl = strlen(want);
	ssize_t n;
	int fd, cfd, rc = -ESRCH;

	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0)
		return -errno;
	/* read after the pidfd: if pid is someone else's by now, the send
	 * below fails, as the process the pidfd holds is gone */
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if ((cfd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(cfd, buf, sizeof(buf) - 1);
		close(cfd);
		buf[n > 0 ? n : 0] = '\0';
		/* lines "ID:CONTROLLERS:PATH"; ours or below it in any hierarchy */
		for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			char *p = strchr(l, ':');

			p = p ? strchr(p + 1, ':') : NULL;
			if (p && !strncmp(p + 1, want, wl) && (p[1 + wl] == '\n' || p[1 + wl] == '/' || !p[1 + wl])) {
				rc = 0;
				break;
			}
		}
	}
	if (rc == 0 && syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int bt_cgroup_kill_loop(berth_cgroup *cg, berth_error **err)
{
	long long deadline = now_ms() + cg->host->kill_timeout_ms;
	bool v1;
	bool can_freeze = freezer(cg, &v1, NULL) >= 0;
	int rc;

	for (;;) {
		int *pids;
		size_t n;
		/* Frozen processes cannot fork between the listing and the signal. */
		bool frozen = can_freeze && set_frozen(cg, true, true, NULL) == 0;

		if ((rc = berth_cgroup_pids(cg, &pids, &n, err)) < 0) {
			if (frozen)
				set_frozen(cg, false, false, NULL);
			return bt_error_wrap(err, rc, "killing the processes of cgroup %s", cg->path);
		}
		for (size_t i = 0; i < n; i++)
			if (pids[i] > 0)
				bt_cgroup_signal(cg, pids[i], SIGKILL);
		free(pids);
		if (frozen)
			set_frozen(cg, false, true, NULL);
		if (n == 0)
			return 0;
		if (now_ms() >= deadline)
			return bt_error_set(err, BERTH_EBUSY, 0,
					    "killing the processes of cgroup %s: %zu still there after %d ms",
					    cg->path, n, cg->host->kill_timeout_ms);
		sleep_ms(5);
	}
}

int berth_cgroup_kill(berth_cgroup *cg, berth_error **err)
{
	long long deadline = now_ms() + cg->host->kill_timeout_ms;
	bool empty;
	int rc;

	if (cg->v2 < 0 || !bt_cg_has_file(cg, (size_t)cg->v2, "cgroup.kill"))
		return bt_cgroup_kill_loop(cg, err);
	if ((rc = bt_cg_write(cg, (size_t)cg->v2, "cgroup.kill", "1", err)) < 0 ||
	    (rc = wait_empty(cg, deadline, &empty, err)) < 0)
		return bt_error_wrap(err, rc, "killing the processes of cgroup %s", cg->path);
	if (!empty)
		return bt_error_set(err, BERTH_EBUSY, 0,
				    "killing the processes of cgroup %s: some still there after %d ms",
				    cg->path, cg->host->kill_timeout_ms);
	return 0;
}

/* ---- statistics ------------------------------------------------------------ */

int berth_cgroup_stats_get(berth_cgroup *cg, berth_cgroup_stats *stats, berth_error **err)
{
	berth_cgroup_stats st;
	size_t size;

	if (!stats || stats->size < sizeof(size_t))
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "reading statistics of cgroup %s: stats struct without its size", cg->path);
	size = stats->size < sizeof(st) ? stats->size : sizeof(st);
	st.size = stats->size;
	st.memory_usage = st.memory_peak = st.memory_limit = BERTH_CGROUP_UNKNOWN;
	st.oom_kills = st.oom_events = st.cpu_usage_ns = BERTH_CGROUP_UNKNOWN;
	st.pids_current = st.pids_limit = st.io_read_bytes = st.io_write_bytes = BERTH_CGROUP_UNKNOWN;
	bt_cg_v1_stats(cg, &st);
	bt_cg_v2_stats(cg, &st);
	memcpy(stats, &st, size);
	return 0;
}
