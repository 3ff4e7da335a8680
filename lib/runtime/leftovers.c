/* The remains of creates that died (SIGKILL, a crash) in a state root:
 * found, counted for `system df` and removed by the next create, delete or
 * prune. A create makes its directory as .new-XXXXXX with a lock file it
 * holds, renames it to <id> and saves state.json last; so a .new-* or an
 * <id> without state.json whose lock nobody holds is a create that died,
 * and the cgroup it noted in cgroup.json is its too. One walk does both the
 * counting and the removal, so df counts exactly what a sweep removes. */
#include "runtime-internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A .new-* directory of a create that died before it renamed it into
 * place: nobody holds its lock, or it has none yet (killed between mkdtemp
 * and the lock file: empty). */
static bool new_dir_dead(const char *root, const char *name, bool remove, uint64_t *bytes)
{
	char *dir = bt_strdup_printf("%s/%s", root, name), *lock = bt_strdup_printf("%s/%s/lock", root, name);
	bool dead = false;
	int fd, rc;

	if (!dir || !lock)
		goto out;
	rc = bt_lock_acquire(lock, BT_LOCK_EXCLUSIVE | BT_LOCK_NOWAIT | BT_LOCK_NOCREATE, &fd, NULL);
	if (rc == 0) {
		dead = true;
		if (bytes)
			*bytes += (uint64_t)bt_tree_size(dir);
		if (remove)
			bt_rm_rf(dir, NULL);
		bt_lock_release(fd);
	} else if (rc == BERTH_ENOTFOUND) {
		/* empty but for its own block, which du counts too */
		int64_t size = bt_tree_size(dir);

		dead = !remove || rmdir(dir) == 0;
		if (dead && bytes)
			*bytes += (uint64_t)size;
	}
out:
	free(dir);
	free(lock);
	return dead;
}

bool bt_rt_half_made(berth_runtime *rt, const char *id, bool bad_state, bool remove, uint64_t *bytes)
{
	char *dir = bt_strdup_printf("%s/%s", rt->root, id), *lock = NULL, *state = NULL;
	bool dead = false;
	int fd;

	if (!dir || bt_rt_id_check(id, NULL) < 0 || access(dir, F_OK) < 0)
		goto out;
	lock = bt_strdup_printf("%s/lock", dir);
	state = bt_strdup_printf("%s/state.json", dir);
	if (!lock || !state || (!bad_state && access(state, F_OK) == 0) ||
	    bt_lock_acquire(lock, BT_LOCK_EXCLUSIVE | BT_LOCK_NOWAIT | BT_LOCK_NOCREATE, &fd, NULL) < 0)
		goto out;
	/* looked at again under the lock: a create that held it until now
	 * may have saved its state meanwhile, and is whole */
	if (!bad_state && access(state, F_OK) == 0) {
		bt_lock_release(fd);
		goto out;
	}
	dead = true;
	if (bytes)
		*bytes += (uint64_t)bt_tree_size(dir);
	if (remove) {
		bt_rt_state_noted_cgroup_remove(rt, dir, id);
		dead = bt_rm_rf(dir, NULL) == 0;
		bt_log_info(rt->ctx, "runtime", "removed the remains of a failed create of %s", id);
	}
	bt_lock_release(fd);
out:
	free(dir);
	free(lock);
	free(state);
	return dead;
}

/* Every leftover of the root, counted (their bytes added to *bytes) and
 * with remove removed; *containers (may be NULL) gets the others. */
static size_t walk(berth_runtime *rt, bool remove, uint64_t *bytes, long long *containers)
{
	DIR *d = opendir(rt->root);
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d))) {
		if (!strncmp(de->d_name, ".new-", 5))
			n += new_dir_dead(rt->root, de->d_name, remove, bytes);
		else if (de->d_name[0] == '.')
			continue;
		else if (bt_rt_half_made(rt, de->d_name, false, remove, bytes))
			n++;
		else if (containers && (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN))
			++*containers;
	}
	if (d)
		closedir(d);
	return n;
}

size_t bt_rt_sweep(berth_runtime *rt, bool remove, uint64_t *bytes)
{
	return walk(rt, remove, bytes, NULL);
}

int berth_runtime_usage_get(berth_runtime *rt, berth_runtime_usage *out, berth_error **err)
{
	berth_runtime_usage u = BERTH_RUNTIME_USAGE_INIT;
	uint64_t bytes = 0;
	size_t size;

	if (!out || out->size < sizeof(size_t))
		return bt_error_set(err, BERTH_EINVAL, 0, "runtime usage: no result given");
	size = out->size < sizeof(u) ? out->size : sizeof(u);
	if (access(rt->root, F_OK) < 0 && errno != ENOENT)
		return bt_error_os(err, "runtime usage of %s", rt->root);
	u.leftovers = (long long)walk(rt, false, &bytes, &u.containers);
	u.leftover_bytes = (long long)bytes;
	u.bytes = bt_tree_size(rt->root);
	if (u.bytes < u.leftover_bytes)
		u.bytes = u.leftover_bytes;
	memcpy((char *)out + sizeof(size_t), (char *)&u + sizeof(size_t), size - sizeof(size_t));
	return 0;
}

int berth_runtime_prune(berth_runtime *rt, size_t *removed, unsigned long long *bytes, berth_error **err)
{
	uint64_t b = 0;
	size_t n;

	(void)err;
	n = bt_rt_sweep(rt, true, &b);
	if (removed)
		*removed = n;
	if (bytes)
		*bytes = b;
	return 0;
}
