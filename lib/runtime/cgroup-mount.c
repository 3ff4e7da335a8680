/* A container's `cgroup` mount shows its own cgroup and nothing else of the
 * host's trees: with a cgroup namespace of its own, each hierarchy mounted
 * as the namespace shows it (its root is the container's cgroup); without
 * one, the container's directories bound from the host. On a host with v1
 * hierarchies they sit under a tmpfs, one directory per hierarchy (and
 * `unified` for the v2 tree of a hybrid host), with links such as
 * cpu -> cpu,cpuacct, as Docker lays them out; on a v2-only host the one
 * view is the mount itself. */
#define _GNU_SOURCE
#include "runtime-internal.h"
#include "../cgroup/cgroup-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

void bt_rt_cgmount_clear(bt_rt_cgmount *cm)
{
	for (size_t i = 0; i < cm->nviews; i++) {
		free(cm->views[i].name);
		free(cm->views[i].dir);
		free(cm->views[i].fs_opts);
	}
	free(cm->views);
	for (size_t i = 0; i < cm->nlinks * 2; i++)
		free(cm->links[i]);
	free(cm->links);
	memset(cm, 0, sizeof(*cm));
}

/* "cpu,cpuacct"; a named hierarchy is mounted as "none,name=systemd" */
static char *v1_options(const bt_cg_hierarchy *h)
{
	size_t len = 6;
	char *s;

	for (char **c = h->controllers; *c; c++)
		len += strlen(*c) + 1;
	if (!(s = malloc(len)))
		return NULL;
	s[0] = '\0';
	if (h->controllers[0] && !strncmp(h->controllers[0], "name=", 5))
		strcpy(s, "none");
	for (char **c = h->controllers; *c; c++) {
		if (*s)
			strcat(s, ",");
		strcat(s, *c);
	}
	return s;
}

static int add_links(const bt_cg_hierarchy *h, bt_rt_cgmount *cm)
{
	if (!strchr(h->name, ','))
		return 0;
	for (char **c = h->controllers; *c; c++) {
		char **l;

		if (!strncmp(*c, "name=", 5) || !strcmp(*c, h->name))
			continue;
		if (!(l = realloc(cm->links, (cm->nlinks + 1) * 2 * sizeof(*l))))
			return -1;
		cm->links = l;
		l[cm->nlinks * 2] = strdup(*c);
		l[cm->nlinks * 2 + 1] = strdup(h->name);
		cm->nlinks++;
		if (!l[cm->nlinks * 2 - 2] || !l[cm->nlinks * 2 - 1])
			return -1;
	}
	return 0;
}

int bt_rt_cgmount_prepare(const berth_cgroup *cg, bt_rt_cgmount *out, berth_error **err)
{
	memset(out, 0, sizeof(*out));
	if (!cg)
		return 0;
	if (!(out->views = calloc(cg->ndirs ? cg->ndirs : 1, sizeof(*out->views))))
		goto nomem;
	for (size_t i = 0; i < cg->ndirs; i++) {
		const bt_cg_dir *d = &cg->dirs[i];
		bt_rt_cgview *v = &out->views[out->nviews++];

		if (!(v->dir = strdup(d->dir)))
			goto nomem;
		if (d->v1) {
			if (!(v->name = strdup(d->v1->name)) || !(v->fs_opts = v1_options(d->v1)) ||
			    add_links(d->v1, out) < 0)
				goto nomem;
		} else if (cg->host->nv1 && !(v->name = strdup("unified"))) {
			goto nomem;
		}
	}
	return 0;
nomem:
	bt_rt_cgmount_clear(out);
	return bt_error_set(err, BERTH_ENOMEM, 0, "preparing the cgroup mount: out of memory");
}

/* ---- the child's side ----------------------------------------------------- */

/* An O_PATH fd of what is at `name` below dir now, mounts followed; with
 * name NULL, of the mount's destination below the root. */
static int open_at(int rootfd, const char *dest, int dir, const char *name)
{
	int fd;

	if (!name)
		return bt_rt_child_mkpath(rootfd, dest, false);
	fd = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* One view mounted at `name` below dir (NULL: at dest below the root). */
static int mount_view(const bt_rt_cgview *v, const bt_rt_mount *m, bool own_ns, int rootfd, int dir)
{
	unsigned long flags = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
	char p[32];
	int fd, rc = 0;

	if ((fd = open_at(rootfd, m->dest, dir, v->name)) < 0)
		return fd;
	bt_rt_fd_path(p, fd);
	if (own_ns && (v->fs_opts ? mount("cgroup", p, "cgroup", flags, v->fs_opts)
				  : mount("cgroup2", p, "cgroup2", flags, NULL)) == 0)
		goto out;
	/* without a namespace of its own, or where a user namespace may not
	 * mount it: the container's own directory, bound */
	if (own_ns && errno != EPERM) {
		rc = -errno;
		goto out;
	}
	if (mount(v->dir, p, NULL, MS_BIND, NULL) < 0) {
		rc = -errno;
		goto out;
	}
	close(fd);
	/* the bind ignored the flags; the remount goes to the new mount on top */
	if ((fd = open_at(rootfd, m->dest, dir, v->name)) < 0)
		return fd;
	bt_rt_fd_path(p, fd);
	if (flags && mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | flags | bt_rt_locked_flags(p), NULL) < 0)
		rc = -errno;
out:
	close(fd);
	return rc;
}

static int fill_tmpfs(const bt_rt_cgmount *cm, const bt_rt_mount *m, bool own_ns, int top)
{
	for (size_t i = 0; i < cm->nviews; i++) {
		int rc;

		if (mkdirat(top, cm->views[i].name, 0555) < 0 && errno != EEXIST)
			return -errno;
		if ((rc = mount_view(&cm->views[i], m, own_ns, -1, top)) < 0)
			return rc;
	}
	for (size_t i = 0; i < cm->nlinks; i++)
		if (symlinkat(cm->links[2 * i + 1], top, cm->links[2 * i]) < 0 && errno != EEXIST)
			return -errno;
	return 0;
}

int bt_rt_child_cgroup_mount(const bt_rt_mount *m, const bt_rt_cgmount *cm, bool own_ns,
			     int rootfd, const char **what)
{
	unsigned long tflags = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT | MS_RDONLY);
	char p[32];
	int fd, top, rc;

	*what = m->what;
	if (cm->nviews == 1 && !cm->views[0].name)
		return mount_view(&cm->views[0], m, own_ns, rootfd, -1);
	if ((fd = bt_rt_child_mkpath(rootfd, m->dest, false)) < 0)
		return fd;
	bt_rt_fd_path(p, fd);
	rc = mount("tmpfs", p, "tmpfs", tflags, "mode=755");
	close(fd);
	if (rc < 0)
		return -errno;
	/* opened again: the tmpfs is on top now */
	if ((top = bt_rt_child_mkpath(rootfd, m->dest, false)) < 0)
		return top;
	rc = fill_tmpfs(cm, m, own_ns, top);
	bt_rt_fd_path(p, top);
	if (rc == 0 && (m->flags & MS_RDONLY) &&
	    mount(NULL, p, NULL, MS_REMOUNT | MS_RDONLY | tflags, "mode=755") < 0)
		rc = -errno;
	close(top);
	return rc;
}
