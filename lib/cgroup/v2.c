/* cgroup v2: the files each linux.resources field is written to in the
 * unified tree (with the OCI conversions: swap is memory+swap, shares become
 * weights), unified keys, and statistics. */
#include "cgroup-internal.h"

#include <stdlib.h>
#include <string.h>

static void fmt_limit(char *buf, size_t size, long long v)
{
	if (v < 0)
		snprintf(buf, size, "max");
	else
		snprintf(buf, size, "%lld", v);
}

static int plan_limit(bt_cg_plan *p, size_t dir, const char *jp, const char *key, const char *file,
		      long long v, berth_error **err)
{
	char buf[32], *path = bt_cg_jpath(jp, key);
	int rc;

	if (!path)
		return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
	fmt_limit(buf, sizeof(buf), v);
	rc = bt_cg_plan_add(p, dir, file, path, err, "%s", buf);
	free(path);
	return rc;
}

static int not_on_v2(const char *jp, const char *key, const char *why, berth_error **err)
{
	return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "%s.%s: %s", jp, key, why);
}

int bt_cg_v2_memory(bt_cg_plan *p, size_t dir, const json_t *mem, const char *jp, berth_error **err)
{
	static const char *const keys[] = { "limit", "reservation", "swap", "kernel", "kernelTCP",
					     "swappiness", "disableOOMKiller", "useHierarchy",
					     "checkBeforeUpdate", NULL };
	long long limit = 0, swap = 0, res = 0, n = 0;
	bool has_limit, has_swap, has_res, has, b = false;
	json_t *v;
	int rc;

	if ((rc = bt_cg_known_keys(mem, jp, keys, err)) < 0 ||
	    (rc = bt_cg_int(mem, jp, "limit", -1, &has_limit, &limit, err)) < 0 ||
	    (rc = bt_cg_int(mem, jp, "swap", -1, &has_swap, &swap, err)) < 0 ||
	    (rc = bt_cg_int(mem, jp, "reservation", -1, &has_res, &res, err)) < 0)
		return rc;
	if ((rc = bt_cg_int(mem, jp, "swappiness", 0, &has, &n, err)) < 0)
		return rc;
	if (has)
		return not_on_v2(jp, "swappiness", "cgroup v2 has no per-cgroup swappiness", err);
	if ((rc = bt_cg_int(mem, jp, "kernelTCP", -1, &has, &n, err)) < 0)
		return rc;
	if (has)
		return not_on_v2(jp, "kernelTCP", "cgroup v2 has no separate TCP memory limit", err);
	if ((rc = bt_json_bool(mem, jp, "disableOOMKiller", false, &b, err)) < 0)
		return rc;
	if (b)
		return not_on_v2(jp, "disableOOMKiller", "cgroup v2 cannot disable the OOM killer", err);
	b = true;
	if ((rc = bt_json_bool(mem, jp, "useHierarchy", false, &b, err)) < 0)
		return rc;
	if (!b)
		return not_on_v2(jp, "useHierarchy", "cgroup v2 is always hierarchical", err);
	if ((rc = bt_json_member(mem, jp, "kernel", JSON_INTEGER, false, &v, err)) < 0)
		return rc;
	if (v)
		bt_log_warn(p->cg->ctx, "cgroup", "%s.kernel: kernel memory limits are deprecated; ignored", jp);
	if ((rc = bt_json_member(mem, jp, "checkBeforeUpdate", JSON_TRUE, false, &v, err)) < 0)
		return rc;
	if (v && json_is_true(v) && has_limit && limit >= 0) {
		char *text;
		if (bt_cg_read(p->cg, dir, "memory.current", &text, NULL) == 0) {
			unsigned long long usage = strtoull(text, NULL, 10);
			free(text);
			if ((unsigned long long)limit < usage)
				return bt_error_set(err, BERTH_EINVAL, 0,
						    "%s.limit: %lld is below the current usage %llu", jp, limit,
						    usage);
		}
	}
	if (has_limit && (rc = plan_limit(p, dir, jp, "limit", "memory.max", limit, err)) < 0)
		return rc;
	if (has_swap) {
		/* OCI swap is memory+swap; memory.swap.max is swap alone. */
		long long s = -1;
		if (swap >= 0) {
			if (!has_limit || limit < 0)
				return bt_error_set(err, BERTH_EINVAL, 0,
						    "%s.swap: a memory+swap limit needs a memory limit on cgroup v2",
						    jp);
			if (swap < limit)
				return bt_error_set(err, BERTH_EINVAL, 0,
						    "%s.swap: %lld is below the memory limit (swap counts memory plus swap)",
						    jp, swap);
			s = swap - limit;
		}
		if ((rc = plan_limit(p, dir, jp, "swap", "memory.swap.max", s, err)) < 0)
			return rc;
	}
	if (has_res && (rc = plan_limit(p, dir, jp, "reservation", "memory.low", res < 0 ? 0 : res, err)) < 0)
		return rc;
	return 0;
}

int bt_cg_v2_cpu(bt_cg_plan *p, size_t dir, const json_t *cpu, const char *jp, berth_error **err)
{
	static const char *const keys[] = { "shares", "quota", "burst", "period", "realtimeRuntime",
					     "realtimePeriod", "idle", NULL };
	long long shares = 0, quota = -1, period = 100000, burst = 0, idle = 0, n;
	bool has_shares, has_quota, has_period, has_burst, has_idle, has;
	char *path;
	int rc;

	if ((rc = bt_cg_known_keys(cpu, jp, keys, err)) < 0 ||
	    (rc = bt_cg_int(cpu, jp, "shares", 2, &has_shares, &shares, err)) < 0 ||
	    (rc = bt_cg_int(cpu, jp, "quota", -1, &has_quota, &quota, err)) < 0 ||
	    (rc = bt_cg_int(cpu, jp, "period", 1000, &has_period, &period, err)) < 0 ||
	    (rc = bt_cg_int(cpu, jp, "burst", 0, &has_burst, &burst, err)) < 0 ||
	    (rc = bt_cg_int(cpu, jp, "idle", 0, &has_idle, &idle, err)) < 0)
		return rc;
	if ((rc = bt_cg_int(cpu, jp, "realtimeRuntime", -1, &has, &n, err)) < 0)
		return rc;
	if (has)
		return not_on_v2(jp, "realtimeRuntime", "cgroup v2 has no realtime group scheduling", err);
	if ((rc = bt_cg_int(cpu, jp, "realtimePeriod", 1, &has, &n, err)) < 0)
		return rc;
	if (has)
		return not_on_v2(jp, "realtimePeriod", "cgroup v2 has no realtime group scheduling", err);
	if (has_shares) {
		if (!(path = bt_cg_jpath(jp, "shares")))
			return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
		rc = bt_cg_plan_add(p, dir, "cpu.weight", path, err, "%llu",
				    bt_cg_shares_to_weight((unsigned long long)shares));
		free(path);
		if (rc < 0)
			return rc;
	}
	if (has_quota || has_period) {
		char q[32];
		if (!(path = bt_cg_jpath(jp, has_quota ? "quota" : "period")))
			return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
		fmt_limit(q, sizeof(q), has_quota ? quota : -1);
		rc = bt_cg_plan_add(p, dir, "cpu.max", path, err, "%s %lld", q, period);
		free(path);
		if (rc < 0)
			return rc;
	}
	if (has_burst && (rc = plan_limit(p, dir, jp, "burst", "cpu.max.burst", burst, err)) < 0)
		return rc;
	if (has_idle && (rc = plan_limit(p, dir, jp, "idle", "cpu.idle", idle, err)) < 0)
		return rc;
	return 0;
}

int bt_cg_v2_io(bt_cg_plan *p, size_t dir, const json_t *blk, const char *jp, berth_error **err)
{
	static const char *const keys[] = { "weight", "leafWeight", "weightDevice",
					     "throttleReadBpsDevice", "throttleWriteBpsDevice",
					     "throttleReadIOPSDevice", "throttleWriteIOPSDevice", NULL };
	/* BFQ takes the OCI range (1..1000) as is; io.weight needs 1..10000. */
	bool bfq = bt_cg_has_file(p->cg, dir, "io.bfq.weight");
	long long w = 0;
	bool has;
	json_t *list, *e;
	size_t i;
	char *path;
	int rc;

	if ((rc = bt_cg_known_keys(blk, jp, keys, err)) < 0 ||
	    (rc = bt_cg_int(blk, jp, "leafWeight", 10, &has, &w, err)) < 0)
		return rc;
	if (has)
		return not_on_v2(jp, "leafWeight", "cgroup v2 has no leaf weights", err);
	if ((rc = bt_cg_int(blk, jp, "weight", 10, &has, &w, err)) < 0)
		return rc;
	if (has) {
		if (!(path = bt_cg_jpath(jp, "weight")))
			return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
		rc = bfq ? bt_cg_plan_add(p, dir, "io.bfq.weight", path, err, "%lld", w)
			 : bt_cg_plan_add(p, dir, "io.weight", path, err, "default %llu",
					  bt_cg_blkio_to_io_weight((unsigned long long)w));
		free(path);
		if (rc < 0)
			return rc;
	}
	if ((rc = bt_json_member(blk, jp, "weightDevice", JSON_ARRAY, false, &list, err)) < 0)
		return rc;
	json_array_foreach(list, i, e) {
		char *ep = bt_strdup_printf("%s.weightDevice[%zu]", jp, i);
		long long major, minor, lw;
		bool lp = false;

		if (!ep)
			return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
		has = false;
		if ((rc = bt_cg_device_entry(e, ep, &major, &minor, err)) == 0 &&
		    (rc = bt_cg_int(e, ep, "weight", 10, &has, &w, err)) == 0 &&
		    (rc = bt_cg_int(e, ep, "leafWeight", 10, &lp, &lw, err)) == 0) {
			if (lp)
				rc = not_on_v2(ep, "leafWeight", "cgroup v2 has no leaf weights", err);
			else if (has)
				rc = bfq ? bt_cg_plan_add(p, dir, "io.bfq.weight", ep, err, "%lld:%lld %lld",
							  major, minor, w)
					 : bt_cg_plan_add(p, dir, "io.weight", ep, err, "%lld:%lld %llu", major,
							  minor, bt_cg_blkio_to_io_weight((unsigned long long)w));
		}
		free(ep);
		if (rc < 0)
			return rc;
	}
	if ((rc = bt_cg_plan_throttles(p, dir, blk, jp, "throttleReadBpsDevice", "io.max", "rbps=", err)) < 0 ||
	    (rc = bt_cg_plan_throttles(p, dir, blk, jp, "throttleWriteBpsDevice", "io.max", "wbps=", err)) < 0 ||
	    (rc = bt_cg_plan_throttles(p, dir, blk, jp, "throttleReadIOPSDevice", "io.max", "riops=", err)) < 0 ||
	    (rc = bt_cg_plan_throttles(p, dir, blk, jp, "throttleWriteIOPSDevice", "io.max", "wiops=", err)) < 0)
		return rc;
	return 0;
}

/* unified: file name -> value, written verbatim into the v2 directory. */
int bt_cg_v2_unified(bt_cg_plan *p, size_t dir, const json_t *uni, const char *jp, berth_error **err)
{
	const char *key;
	json_t *v;
	int rc;

	json_object_foreach((json_t *)uni, key, v) {
		char *path = bt_strdup_printf("%s.\"%s\"", jp, key);

		if (!path)
			return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
		if (!*key || strchr(key, '/') || strstr(key, "..") || key[0] == '.' || !strchr(key, '.'))
			rc = bt_error_set(err, BERTH_EINVAL, 0, "%s: not the name of a cgroup file", path);
		else if (!json_is_string(v))
			rc = bt_error_set(err, BERTH_EINVAL, 0, "%s: expected a string, got %s", path,
					  bt_json_type_name(v));
		else if (!strncmp(key, "cgroup.", 7) && strcmp(key, "cgroup.max.depth") &&
			 strcmp(key, "cgroup.max.descendants"))
			rc = bt_error_set(err, BERTH_EINVAL, 0, "%s: the cgroup core file %s is not a resource",
					  path, key);
		else
			rc = bt_cg_plan_add(p, dir, key, path, err, "%s", json_string_value(v));
		free(path);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static bool read_u64(const berth_cgroup *cg, const char *file, uint64_t *out)
{
	char *text;

	if (bt_cg_read(cg, (size_t)cg->v2, file, &text, NULL) < 0)
		return false;
	*out = !strncmp(text, "max", 3) ? BERTH_CGROUP_UNLIMITED : strtoull(text, NULL, 10);
	free(text);
	return true;
}

/* io.stat: a line per device, "MAJ:MIN rbytes=N wbytes=N rios=N ...". */
static void io_bytes(const char *text, berth_cgroup_stats *st)
{
	unsigned long long rd = 0, wr = 0, r, w;

	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (sscanf(line, "%*u:%*u rbytes=%llu wbytes=%llu", &r, &w) == 2)
			rd += r, wr += w;
	st->io_read_bytes = rd;
	st->io_write_bytes = wr;
}

int bt_cg_v2_stats(const berth_cgroup *cg, berth_cgroup_stats *st)
{
	char *text;
	unsigned long long n;

	if (cg->v2 < 0)
		return 0;
	if (st->memory_usage == BERTH_CGROUP_UNKNOWN)
		read_u64(cg, "memory.current", &st->memory_usage);
	if (st->memory_peak == BERTH_CGROUP_UNKNOWN)
		read_u64(cg, "memory.peak", &st->memory_peak);
	if (st->memory_limit == BERTH_CGROUP_UNKNOWN)
		read_u64(cg, "memory.max", &st->memory_limit);
	if (bt_cg_read(cg, (size_t)cg->v2, "memory.events", &text, NULL) == 0) {
		if (st->oom_kills == BERTH_CGROUP_UNKNOWN && bt_cg_keyed(text, "oom_kill", &n))
			st->oom_kills = n;
		if (bt_cg_keyed(text, "oom", &n))
			st->oom_events = n;
		free(text);
	}
	if (st->cpu_usage_ns == BERTH_CGROUP_UNKNOWN &&
	    bt_cg_read(cg, (size_t)cg->v2, "cpu.stat", &text, NULL) == 0) {
		if (bt_cg_keyed(text, "usage_usec", &n))
			st->cpu_usage_ns = n * 1000;
		free(text);
	}
	if (st->pids_current == BERTH_CGROUP_UNKNOWN)
		read_u64(cg, "pids.current", &st->pids_current);
	if (st->pids_limit == BERTH_CGROUP_UNKNOWN)
		read_u64(cg, "pids.max", &st->pids_limit);
	if (st->io_read_bytes == BERTH_CGROUP_UNKNOWN && bt_cg_read(cg, (size_t)cg->v2, "io.stat", &text, NULL) == 0) {
		io_bytes(text, st);
		free(text);
	}
	return 0;
}
