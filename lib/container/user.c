/* "user[:group]" resolved against the image's own /etc/passwd and
 * /etc/group, read beneath the container's root (a symlinked /etc/passwd
 * of a hostile image cannot make us read the host's). */
#include "container-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ETC_FILE_MAX (4 << 20)

/* rootfs/rel's text, or NULL (*text) when the image has no such file. */
static int read_etc(const char *rootfs, const char *rel, char **text, berth_error **err)
{
	int rootfd, fd, rc;
	size_t len = 0, cap = 0;
	char *buf = NULL;
	ssize_t n;

	*text = NULL;
	if ((rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return bt_error_os(err, "opening %s", rootfs);
	rc = bt_path_open(rootfd, rel, O_RDONLY | O_CLOEXEC, 0, BT_RESOLVE_IN_ROOT, &fd, err);
	close(rootfd);
	if (rc == BERTH_ENOTFOUND) {
		bt_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	for (;;) {
		if (len + 4097 > cap) {
			char *nb = cap + 4097 > ETC_FILE_MAX ? NULL : realloc(buf, cap + 4097 + cap);

			if (!nb) {
				free(buf);
				close(fd);
				return bt_error_set(err, BERTH_EINVAL, 0, "the image's /%s is too large", rel);
			}
			buf = nb;
			cap = cap + 4097 + cap;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			close(fd);
			return bt_error_os(err, "reading the image's /%s", rel);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*text = buf;
	return 0;
}

static bool parse_id(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || v > 0xfffffffeUL)
		return false;
	*out = (unsigned)v;
	return true;
}

/* Splits line at ':' into at most max fields (in place); the count. */
static int fields(char *line, char **f, int max)
{
	int n = 0;

	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == ':') {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

/* Finds the passwd entry whose name (or, numeric, uid) is user. */
static int find_passwd(char *text, const char *user, bool numeric, unsigned uid,
		       struct bt_ct_user *out, char **name)
{
	for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[7];
		unsigned u, g;

		if (fields(line, f, 7) < 7 || !parse_id(f[2], &u) || !parse_id(f[3], &g))
			continue;
		if (numeric ? u != uid : strcmp(f[0], user))
			continue;
		out->uid = u;
		out->gid = g;
		out->home = strdup(f[5]);
		*name = strdup(f[0]);
		return 0;
	}
	return BERTH_ENOTFOUND;
}

static int add_group(struct bt_ct_user *out, unsigned gid)
{
	unsigned *g;

	for (size_t i = 0; i < out->ngroups; i++)
		if (out->groups[i] == gid)
			return 0;
	if (!(g = realloc(out->groups, (out->ngroups + 1) * sizeof(*g))))
		return -1;
	out->groups = g;
	out->groups[out->ngroups++] = gid;
	return 0;
}

/* Reads /etc/group once: the gid of group (when given) and the groups
 * listing user as a member. */
static int scan_groups(char *text, const char *group, unsigned *gid, const char *user,
		       struct bt_ct_user *out)
{
	int found = group ? BERTH_ENOTFOUND : 0;

	for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[4];
		unsigned g;

		if (fields(line, f, 4) < 4 || !parse_id(f[2], &g))
			continue;
		if (group && !strcmp(f[0], group)) {
			*gid = g;
			found = 0;
		}
		for (char *s2 = NULL, *m = user ? strtok_r(f[3], ",", &s2) : NULL; m;
		     m = strtok_r(NULL, ",", &s2))
			if (!strcmp(m, user) && add_group(out, g) < 0)
				return BERTH_ENOMEM;
	}
	return found;
}

int bt_ct_user_resolve(const char *rootfs, const char *spec, struct bt_ct_user *out,
		       berth_error **err)
{
	char *copy = NULL, *user, *group, *passwd = NULL, *groups = NULL, *name = NULL;
	bool numeric;
	unsigned uid = 0, gid;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!spec || !*spec)
		spec = "0";
	if (!(copy = strdup(spec)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	user = copy;
	if ((group = strchr(copy, ':')))
		*group++ = '\0';
	numeric = parse_id(user, &uid);
	if (!*user || (group && !*group)) {
		rc = bt_error_set(err, BERTH_EINVAL, 0, "invalid user \"%s\"", spec);
		goto out;
	}
	if ((rc = read_etc(rootfs, "etc/passwd", &passwd, err)) < 0 ||
	    (rc = read_etc(rootfs, "etc/group", &groups, err)) < 0)
		goto out;
	if (find_passwd(passwd, user, numeric, uid, out, &name) < 0) {
		if (!numeric) {
			rc = bt_error_set(err, BERTH_ENOTFOUND, 0,
					  "unable to find user %s: no matching entries in passwd file",
					  user);
			goto out;
		}
		/* a number the image does not list is used as is, group 0 */
		out->uid = uid;
		out->gid = 0;
	}
	/* with a group given, the image's memberships are not added (runc too) */
	if (group && parse_id(group, &gid)) {
		out->gid = gid;
		rc = 0;
	} else {
		rc = scan_groups(groups, group, &gid, group ? NULL : name, out);
	}
	if (rc == BERTH_ENOMEM) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if (rc < 0) {
		rc = bt_error_set(err, BERTH_ENOTFOUND, 0,
				  "unable to find group %s: no matching entries in group file", group);
		goto out;
	}
	if (group)
		out->gid = gid;
out:
	if (rc < 0)
		bt_ct_user_free(out);
	free(name);
	free(passwd);
	free(groups);
	free(copy);
	return rc;
}

void bt_ct_user_free(struct bt_ct_user *u)
{
	free(u->groups);
	free(u->home);
	u->groups = NULL;
	u->home = NULL;
	u->ngroups = 0;
}
