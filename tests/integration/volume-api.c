/* The volume module through its public API alone (issue 13): create,
 * inspect, list with filters, holds refusing removal, prune and what it
 * reclaims, bad names, eight processes creating one volume at once,
 * populate from a root file system (owners, modes, xattrs, symlinks; no
 * escape through the image's symlinks; a killed copy redone), and volumes
 * of the local driver's options (tmpfs, bind) mounted by the first user
 * and unmounted by the last. Usage: volume-api ROOT RUNROOT SCRATCH */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <dirent.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include <berth/berth.h>

static berth_ctx *ctx;
static const char *root, *scratch;
static int failures;

#define CHECK(cond, ...)                                      \
	do {                                                   \
		if (!(cond)) {                                 \
			fprintf(stderr, "FAIL %d: ", __LINE__); \
			fprintf(stderr, __VA_ARGS__);          \
			fprintf(stderr, "\n");                 \
			failures++;                            \
		}                                              \
	} while (0)

static char *data_path(const char *name, const char *rel)
{
	static char p[4096];

	snprintf(p, sizeof(p), "%s/volumes/%s/_data%s%s", root, name, rel ? "/" : "", rel ? rel : "");
	return p;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL, "writing %s: %s", path, strerror(errno));
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int create(const char *name, const char *const *labels, const char *const *opts, berth_error **err)
{
	berth_volume_create_opts o = BERTH_VOLUME_CREATE_OPTS_INIT;

	o.labels = labels;
	o.options = opts;
	return berth_volume_create(ctx, name, &o, NULL, err);
}

static size_t list_count(const char *const *filters, const char *must_have)
{
	berth_error *err = NULL;
	char **names;
	size_t n = 0, found = 0;

	if (berth_volume_list(ctx, filters, &names, &n, &err) < 0) {
		CHECK(0, "list: %s", berth_error_message(err));
		berth_error_free(err);
		return (size_t)-1;
	}
	for (size_t i = 0; i < n; i++)
		found += must_have && !strcmp(names[i], must_have);
	CHECK(!must_have || found == 1, "list %s: %s missing", filters ? filters[0] : "", must_have);
	berth_volume_names_free(names, n);
	return n;
}

static void test_create_inspect_list(void)
{
	const char *labels[] = { "tier=db", "owner=me", NULL };
	const char *f_label[] = { "label=tier=db", NULL }, *f_key[] = { "label=owner", NULL };
	const char *f_name[] = { "name=dat", NULL }, *f_dangling[] = { "dangling=true", NULL };
	const char *f_used[] = { "dangling=false", NULL }, *f_bad[] = { "colour=red", NULL };
	const char *bad[] = { "a", "../etc", "a/b", "", "-x", ".hidden", "x y", NULL };
	berth_error *err = NULL;
	char *json = NULL, *name = NULL;

	CHECK(create("data", labels, NULL, &err) == 0, "create: %s", berth_error_message(err));
	CHECK(create("other", NULL, NULL, NULL) == 0, "create other");
	CHECK(berth_volume_inspect(ctx, "data", BERTH_VOLUME_INSPECT_USAGE, &json, &err) == 0, "inspect: %s",
	      berth_error_message(err));
	CHECK(json && strstr(json, "\"Name\": \"data\"") && strstr(json, "\"Driver\": \"local\"") &&
		      strstr(json, "\"Scope\": \"local\"") && strstr(json, "\"tier\": \"db\"") &&
		      strstr(json, "\"UsageData\"") && strstr(json, "\"CreatedAt\"") &&
		      strstr(json, "/volumes/data/_data\""),
	      "inspect shows %s", json ? json : "nothing");
	berth_string_free(json);
	for (size_t i = 0; bad[i]; i++) {
		berth_error_free(err);
		err = NULL;
		CHECK(create(bad[i], NULL, NULL, &err) == BERTH_EINVAL, "bad name \"%s\" accepted", bad[i]);
	}
	CHECK(err && strstr(berth_error_message(err), "x y"), "the error names the bad name");
	berth_error_free(err);
	err = NULL;
	CHECK(access(data_path("data", NULL), F_OK) == 0, "data's _data missing");
	CHECK(berth_volume_create(ctx, NULL, NULL, &name, NULL) == 0 && name && strlen(name) == 64,
	      "anonymous volume");
	CHECK(list_count(f_label, "data") == 1, "label=tier=db");
	CHECK(list_count(f_key, "data") == 1, "label=owner");
	CHECK(list_count(f_name, "data") == 1, "name=dat");
	CHECK(list_count(NULL, "other") == 3, "all volumes");
	CHECK(berth_volume_hold(ctx, "other", "test:1", NULL) == 0, "hold");
	CHECK(list_count(f_dangling, "data") == 2, "dangling=true");
	CHECK(list_count(f_used, "other") == 1, "dangling=false");
	{
		char **none;
		size_t nn;

		CHECK(berth_volume_list(ctx, f_bad, &none, &nn, &err) == BERTH_EINVAL, "unknown filter accepted");
		berth_error_free(err);
	}
	CHECK(berth_volume_release(ctx, "other", "test:1", NULL) == 0, "release");
	berth_string_free(name);
}

static void test_holds_remove_prune(void)
{
	const char *anon_label[] = { "keep=no", NULL }, *f_keep[] = { "label=keep=no", NULL };
	berth_error *err = NULL;
	unsigned long long reclaimed = 0;
	char **names, **holders;
	size_t n, nh;
	int fd;

	write_text(data_path("data", "precious"), "42\n");
	CHECK(berth_volume_hold(ctx, "data", "container:abc", NULL) == 0, "hold");
	CHECK(berth_volume_hold(ctx, "data", "container:def", NULL) == 0, "hold 2");
	CHECK(berth_volume_hold(ctx, "data", "container:abc", NULL) == 0, "hold again");
	CHECK(berth_volume_holders(ctx, "data", &holders, &nh, NULL) == 0 && nh == 2, "two holders");
	berth_volume_names_free(holders, nh);
	CHECK(berth_volume_remove(ctx, "data", 0, &err) == BERTH_EBUSY, "removed while held");
	CHECK(err && strstr(berth_error_message(err), "container:abc") &&
		      strstr(berth_error_message(err), "container:def"),
	      "the refusal names the holders: %s", err ? berth_error_message(err) : "");
	berth_error_free(err);
	err = NULL;
	CHECK(access(data_path("data", "precious"), F_OK) == 0, "a refused removal lost data");
	CHECK(berth_volume_hold(ctx, "nosuch", "x", &err) == BERTH_ENOTFOUND, "hold of a missing volume");
	berth_error_free(err);
	err = NULL;
	CHECK(berth_volume_hold(ctx, "data", "has space", &err) == BERTH_EINVAL, "holder with a space");
	berth_error_free(err);
	err = NULL;

	/* prune: a full unused volume goes, the held one and the filtered-out stay */
	CHECK(create("full", anon_label, NULL, NULL) == 0, "create full");
	fd = open(data_path("full", "blob"), O_WRONLY | O_CREAT, 0644);
	CHECK(fd >= 0 && posix_fallocate(fd, 0, 1 << 20) == 0, "fill");
	close(fd);
	CHECK(berth_volume_prune(ctx, f_keep, &names, &n, &reclaimed, NULL) == 0, "prune");
	CHECK(n == 1 && !strcmp(names[0], "full"), "prune removed %zu", n);
	CHECK(reclaimed >= 1 << 20, "reclaimed %llu", reclaimed);
	berth_volume_names_free(names, n);
	CHECK(berth_volume_prune(ctx, NULL, &names, &n, &reclaimed, NULL) == 0, "prune all");
	for (size_t i = 0; i < n; i++)
		CHECK(strcmp(names[i], "data"), "prune removed a held volume");
	berth_volume_names_free(names, n);
	CHECK(access(data_path("data", "precious"), F_OK) == 0, "prune lost data");
	CHECK(berth_volume_remove(ctx, "data", BERTH_VOLUME_REMOVE_FORCE, NULL) == 0, "forced remove");
	CHECK(access(data_path("data", NULL), F_OK) < 0, "forced removal left data");
	CHECK(berth_volume_remove(ctx, "data", 0, &err) == BERTH_ENOTFOUND, "remove twice");
	berth_error_free(err);
}

/* Eight processes create one volume at once: all succeed, one volume. */
static void test_concurrent_create(void)
{
	const char *f[] = { "name=race", NULL };
	pid_t pids[8];
	int ok = 0;

	for (int i = 0; i < 8; i++)
		if ((pids[i] = fork()) == 0)
			_exit(create("race", NULL, NULL, NULL) == 0 ? 0 : 1);
	for (int i = 0; i < 8; i++) {
		int st;

		if (waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
	}
	CHECK(ok == 8, "%d of 8 concurrent creates succeeded", ok);
	CHECK(list_count(f, "race") == 1, "one volume");
}

static char rootfs[4096];

static void make_rootfs(int files)
{
	char p[8192];

	if (snprintf(rootfs, 512, "%s/rootfs", scratch) >= 512)
		return;
	if (snprintf(p, sizeof(p), "mkdir -p %s/srv/app/sub %s/srv/big && echo hi > %s/srv/app/f && "
		 "chown 1234:5678 %s/srv/app/f && chmod 0640 %s/srv/app/f && chmod 0750 %s/srv/app/sub && "
		 "chown 42:43 %s/srv/app && chmod 0711 %s/srv/app && "
		 "ln -s /etc/passwd %s/srv/app/abs && ln -s ../../.. %s/srv/up && ln -s /srv/app %s/link",
		 rootfs, rootfs, rootfs, rootfs, rootfs, rootfs, rootfs, rootfs, rootfs, rootfs, rootfs) >= (int)sizeof(p))
		return;
	CHECK(system(p) == 0, "%s", p);
	if (snprintf(p, sizeof(p), "%s/srv/app/f", rootfs) >= (int)sizeof(p))
		return;
	CHECK(setxattr(p, "user.berth", "yes", 3, 0) == 0 || errno == ENOTSUP, "setxattr");
	for (int i = 0; i < files; i++) {
		if (snprintf(p, sizeof(p), "%s/srv/big/f%05d", rootfs, i) >= (int)sizeof(p))
			return;
		write_text(p, "some content of a file in a big tree\n");
	}
}

static int populate(const char *name, const char *path, berth_error **err)
{
	return berth_volume_populate(ctx, name, rootfs, path, err);
}

static void test_populate(void)
{
	berth_error *err = NULL;
	struct stat st;
	char buf[64] = "";
	ssize_t n;

	CHECK(create("pop", NULL, NULL, NULL) == 0, "create pop");
	/* through the image's own symlink /link -> /srv/app, inside the root */
	CHECK(populate("pop", "/link", &err) == 0, "populate: %s", berth_error_message(err));
	CHECK(lstat(data_path("pop", "f"), &st) == 0 && st.st_uid == 1234 && st.st_gid == 5678 &&
		      (st.st_mode & 07777) == 0640,
	      "file owner/mode not kept");
	CHECK(lstat(data_path("pop", "sub"), &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0750,
	      "dir mode not kept");
	CHECK(stat(data_path("pop", NULL), &st) == 0 && st.st_uid == 42 && (st.st_mode & 07777) == 0711,
	      "the top's owner/mode not kept");
	CHECK(lstat(data_path("pop", "abs"), &st) == 0 && S_ISLNK(st.st_mode), "symlink not kept");
	n = readlink(data_path("pop", "abs"), buf, sizeof(buf) - 1);
	CHECK(n == 11 && !memcmp(buf, "/etc/passwd", 11), "symlink target changed");
	n = getxattr(data_path("pop", "f"), "user.berth", buf, sizeof(buf));
	CHECK(n == 3 || (n < 0 && errno == ENOTSUP), "xattr not kept");
	/* a volume with content is never populated again */
	unlink(data_path("pop", "f"));
	write_text(data_path("pop", "mine"), "user data\n");
	CHECK(populate("pop", "/srv/app", NULL) == 0 && access(data_path("pop", "f"), F_OK) < 0,
	      "a volume with data was populated");
	/* /srv/up -> ../../.. stays in the root: it is the root itself, never
	 * the host's /; a path missing is nothing to copy */
	CHECK(create("up", NULL, NULL, NULL) == 0, "create up");
	CHECK(populate("up", "/srv/up/etc", NULL) == 0 && access(data_path("up", "passwd"), F_OK) < 0,
	      "populate left the root through a symlink");
	CHECK(populate("up", "/srv/up/srv/app", NULL) == 0 && access(data_path("up", "f"), F_OK) == 0,
	      "/srv/up/srv/app is the root's /srv/app");
	CHECK(populate("up", "/nonexistent", NULL) == 0, "a missing path");
}

/* A copy killed halfway (its marker left) is redone, never taken as done:
 * once with a marker and a partial copy made by hand, once with a process
 * killed while it copies a tree of 3000 files. */
static void test_populate_crash(void)
{
	char marker[4200];
	DIR *d;
	struct dirent *e;
	int count = 0, killed = 0;

	CHECK(create("half", NULL, NULL, NULL) == 0, "create half");
	snprintf(marker, sizeof(marker), "%s/volumes/half/.populating", root);
	write_text(marker, "");
	write_text(data_path("half", "f"), "h");
	CHECK(populate("half", "/srv/app", NULL) == 0, "populate after a crash");
	CHECK(access(data_path("half", "sub"), F_OK) == 0 && access(marker, F_OK) < 0,
	      "a half copy was taken as done");

	for (int attempt = 0; attempt < 5 && !killed; attempt++) {
		pid_t pid;

		berth_volume_remove(ctx, "big", BERTH_VOLUME_REMOVE_FORCE, NULL);
		CHECK(create("big", NULL, NULL, NULL) == 0, "create big");
		snprintf(marker, sizeof(marker), "%s/volumes/big/.populating", root);
		if ((pid = fork()) == 0)
			_exit(populate("big", "/srv/big", NULL) == 0 ? 0 : 1);
		while (access(marker, F_OK) < 0 && waitpid(pid, NULL, WNOHANG) == 0)
			;
		if (kill(pid, SIGKILL) == 0 && access(marker, F_OK) == 0)
			killed = 1;
		waitpid(pid, NULL, 0);
	}
	CHECK(killed, "no copy could be killed halfway in 5 tries");
	CHECK(populate("big", "/srv/big", NULL) == 0, "populate after the kill");
	if ((d = opendir(data_path("big", NULL)))) {
		while ((e = readdir(d)))
			count += e->d_name[0] == 'f';
		closedir(d);
	}
	CHECK(count == 3000, "%d of 3000 files after the redone copy", count);
	CHECK(access(marker, F_OK) < 0, "the marker stayed");
}

static bool is_tmpfs(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == 0x01021994;
}

/* Volumes of the local driver's options: the mount made by the first
 * user, kept while one remains, undone by the last. */
static void test_driver_options(void)
{
	const char *tmpfs[] = { "type=tmpfs", "device=tmpfs", "o=size=1m,uid=1000", NULL };
	const char *badkey[] = { "colour=red", NULL }, *half[] = { "type=tmpfs", NULL };
	char bindopt[4200], hostdir[2048], *path = NULL;
	const char *bind[] = { "type=none", bindopt, "o=bind", NULL };
	const char *bindro[] = { "type=none", bindopt, "o=bind,ro,noexec,nosuid", NULL };
	const char *relative[] = { "type=none", "device=some/dir", "o=bind", NULL };
	berth_error *err = NULL;
	struct statfs sf;
	struct stat st;

	CHECK(create("t", NULL, badkey, &err) == BERTH_EINVAL, "unknown option accepted");
	berth_error_free(err);
	err = NULL;
	CHECK(create("t", NULL, half, &err) == BERTH_EINVAL, "type without device accepted");
	berth_error_free(err);
	err = NULL;
	CHECK(create("tmp", NULL, tmpfs, &err) == 0, "create tmpfs: %s", berth_error_message(err));
	CHECK(!is_tmpfs(data_path("tmp", NULL)), "mounted before use");
	CHECK(berth_volume_mount(ctx, "tmp", "a", &path, &err) == 0, "mount: %s", berth_error_message(err));
	CHECK(path && is_tmpfs(path), "not a tmpfs once used");
	CHECK(stat(data_path("tmp", NULL), &st) == 0 && st.st_uid == 1000, "o= not applied");
	berth_string_free(path);
	CHECK(berth_volume_mount(ctx, "tmp", "b", NULL, NULL) == 0, "mount b");
	CHECK(berth_volume_unmount(ctx, "tmp", "a", NULL) == 0 && is_tmpfs(data_path("tmp", NULL)),
	      "unmounted while b uses it");
	CHECK(berth_volume_unmount(ctx, "tmp", "b", NULL) == 0 && !is_tmpfs(data_path("tmp", NULL)),
	      "still mounted after the last user");

	if (snprintf(hostdir, sizeof(hostdir), "%s/hostdir", scratch) >= (int)sizeof(hostdir))
		return;
	mkdir(hostdir, 0755);
	snprintf(bindopt, sizeof(bindopt), "%s/host-file", hostdir);
	write_text(bindopt, "from the host\n");
	snprintf(bindopt, sizeof(bindopt), "device=%s", hostdir);
	CHECK(create("hb", NULL, bind, &err) == 0, "create bind: %s", berth_error_message(err));
	CHECK(berth_volume_mount(ctx, "hb", "a", NULL, &err) == 0, "mount bind: %s", berth_error_message(err));
	CHECK(access(data_path("hb", "host-file"), F_OK) == 0, "bind volume does not show the host dir");
	CHECK(berth_volume_remove(ctx, "hb", BERTH_VOLUME_REMOVE_FORCE, &err) == 0, "forced remove of a mounted one: %s",
	      berth_error_message(err));
	CHECK(access(bindopt + 7, F_OK) == 0, "removing a bind volume removed the host's files");
	berth_error_free(err);
	err = NULL;
	/* a bind's flags hold: the kernel takes them only from a remount */
	CHECK(create("hbro", NULL, bindro, &err) == 0, "create ro bind: %s", berth_error_message(err));
	CHECK(berth_volume_mount(ctx, "hbro", "a", NULL, &err) == 0, "mount ro bind: %s", berth_error_message(err));
	CHECK(statfs(data_path("hbro", NULL), &sf) == 0 && (sf.f_flags & ST_RDONLY) && (sf.f_flags & ST_NOEXEC) &&
		      (sf.f_flags & ST_NOSUID),
	      "o=bind,ro,noexec,nosuid not applied (flags %#lx)", (unsigned long)sf.f_flags);
	CHECK(berth_volume_unmount(ctx, "hbro", "a", NULL) == 0, "unmount ro bind");
	CHECK(berth_volume_remove(ctx, "hbro", 0, NULL) == 0, "remove ro bind");
	CHECK(create("hbrel", NULL, relative, &err) == 0, "create relative bind");
	CHECK(berth_volume_mount(ctx, "hbrel", "a", NULL, &err) == BERTH_EINVAL &&
		      strstr(berth_error_message(err), "absolute path"),
	      "a relative bind device mounted: %s", berth_error_message(err));
	berth_error_free(err);
	berth_volume_remove(ctx, "hbrel", BERTH_VOLUME_REMOVE_FORCE, NULL);
}

int main(int argc, char **argv)
{
	berth_ctx_opts o = BERTH_CTX_OPTS_INIT;
	berth_error *err = NULL;

	if (argc != 4) {
		fprintf(stderr, "usage: volume-api ROOT RUNROOT SCRATCH\n");
		return 2;
	}
	o.root = root = argv[1];
	o.runroot = argv[2];
	scratch = argv[3];
	if (berth_ctx_new(&ctx, &o, &err) < 0) {
		fprintf(stderr, "ctx: %s\n", berth_error_message(err));
		return 1;
	}
	make_rootfs(3000);
	test_create_inspect_list();
	test_holds_remove_prune();
	test_concurrent_create();
	test_populate();
	test_populate_crash();
	test_driver_options();
	berth_ctx_free(ctx);
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	else
		printf("ok: volume API\n");
	return failures ? 1 : 0;
}
