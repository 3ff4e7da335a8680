/* cgroup v1: the files each linux.resources field is written to in a v1
 * hierarchy, and statistics read from them. */
#include "cgroup-internal.h"

#include <stdlib.h>
#include <string.h>

/* The largest value the v1 memory controller reports for "no limit". */
#define V1_UNLIMITED 0x7ffffffffffff000ULL

/* Plans `file` = the integer member `key`, when present. */
static int plan_int(bt_cg_plan *p, size_t dir, const json_t *obj, const char *jp, const char *key,
		    long long min, const char *file, berth_error **err)
{
	long long v;
	bool present;
	char *path;
	int rc;

	if ((rc = bt_cg_int(obj, jp, key, min, &present, &v, err)) < 0 || !present)
		return rc;
	if (!(path = bt_cg_jpath(jp, key)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
	rc = bt_cg_plan_add(p, dir, file, path, err, "%lld", v);
	free(path);
	return rc;
}

static int plan_bool(bt_cg_plan *p, size_t dir, const json_t *obj, const char *jp, const char *key,
		     const char *file, berth_error **err)
{
	json_t *v;
	char *path;
	int rc;

	if ((rc = bt_json_member(obj, jp, key, JSON_TRUE, false, &v, err)) < 0 || !v)
		return rc;
	if (!(path = bt_cg_jpath(jp, key)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
	rc = bt_cg_plan_add(p, dir, file, path, err, "%d", json_is_true(v) ? 1 : 0);
	free(path);
	return rc;
}

/* A memory limit as the v1 files hold it: -1 when unlimited. */
static bool read_limit(const berth_cgroup *cg, size_t dir, const char *file, long long *out)
{
	char *text;
	unsigned long long v;

	if (bt_cg_read(cg, dir, file, &text, NULL) < 0)
		return false;
	v = strtoull(text, NULL, 10);
	free(text);
	*out = v >= V1_UNLIMITED ? -1 : (long long)v;
	return true;
}

/* -1 (no limit) above every number. */
static unsigned long long lim(long long v)
{
	return v < 0 ? ~0ULL : (unsigned long long)v;
}

static int plan_value(bt_cg_plan *p, size_t dir, const char *jp, const char *key, const char *file,
		      long long v, berth_error **err)
{
	char *path = bt_cg_jpath(jp, key);
	int rc;

	if (!path)
		return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
	rc = bt_cg_plan_add(p, dir, file, path, err, "%lld", v);
	free(path);
	return rc;
}

/* The kernel keeps memory.limit_in_bytes <= memory.memsw.limit_in_bytes at
 * every moment and refuses a write that would break it, so the order of the
 * two writes depends on where they go: growing (the new limit above the
 * current memory+swap limit) memsw goes first; otherwise (shrinking, or
 * within the current memsw) the limit goes first, then memsw. One of the two
 * alone that cannot fit the other's current value is an error naming both,
 * except a limit of -1, which lifts memsw too, as runc does. */
static int plan_limit_and_swap(bt_cg_plan *p, size_t dir, const char *jp, bool has_limit,
			       long long limit, bool has_swap, long long swap, berth_error **err)
{
	static const char lfile[] = "memory.limit_in_bytes", sfile[] = "memory.memsw.limit_in_bytes";
	long long cur_limit = -1, cur_memsw = -1;
	bool memsw = read_limit(p->cg, dir, sfile, &cur_memsw);
	bool swap_first = false;
	int rc;

	read_limit(p->cg, dir, lfile, &cur_limit);
	if (memsw && has_limit && !has_swap && lim(limit) > lim(cur_memsw)) {
		if (limit != -1)
			return bt_error_set(err, BERTH_EINVAL, 0,
					    "%s.limit: %lld is above the current memory+swap limit %lld; "
					    "give swap as well", jp, limit, cur_memsw);
		has_swap = true;
		swap = -1;
	}
	if (memsw && has_swap && !has_limit && lim(swap) < lim(cur_limit))
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "%s.swap: %lld is below the current memory limit %lld; give limit as well",
				    jp, swap, cur_limit);
	if (has_limit && has_swap)
		swap_first = lim(limit) > lim(cur_memsw);
	if (has_swap && swap_first && (rc = plan_value(p, dir, jp, "swap", sfile, swap, err)) < 0)
		return rc;
	if (has_limit && (rc = plan_value(p, dir, jp, "limit", lfile, limit, err)) < 0)
		return rc;
	if (has_swap && !swap_first && (rc = plan_value(p, dir, jp, "swap", sfile, swap, err)) < 0)
		return rc;
	return 0;
}

int bt_cg_v1_memory(bt_cg_plan *p, size_t dir, const json_t *mem, const char *jp, berth_error **err)
{
	static const char *const keys[] = { "limit", "reservation", "swap", "kernel", "kernelTCP",
					     "swappiness", "disableOOMKiller", "useHierarchy",
					     "checkBeforeUpdate", NULL };
	long long limit = 0, swap = 0, swappiness = 0;
	bool has_limit, has_swap, has_swappiness;
	json_t *v;
	int rc;

	if ((rc = bt_cg_known_keys(mem, jp, keys, err)) < 0 ||
	    (rc = bt_cg_int(mem, jp, "limit", -1, &has_limit, &limit, err)) < 0 ||
	    (rc = bt_cg_int(mem, jp, "swap", -1, &has_swap, &swap, err)) < 0 ||
	    (rc = bt_cg_int(mem, jp, "swappiness", 0, &has_swappiness, &swappiness, err)) < 0 ||
	    (rc = bt_json_member(mem, jp, "checkBeforeUpdate", JSON_TRUE, false, &v, err)) < 0)
		return rc;
	if (has_swappiness && swappiness > 100)
		return bt_error_set(err, BERTH_EINVAL, 0, "%s.swappiness: %lld is above 100", jp, swappiness);
	if (has_limit && has_swap && swap != -1 && (limit == -1 || swap < limit))
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "%s.swap: %lld is below the memory limit (swap counts memory plus swap)",
				    jp, swap);
	if (v && json_is_true(v) && has_limit && limit != -1) {
		char *text;
		if (bt_cg_read(p->cg, dir, "memory.usage_in_bytes", &text, NULL) == 0) {
			unsigned long long usage = strtoull(text, NULL, 10);
			free(text);
			if ((unsigned long long)limit < usage)
				return bt_error_set(err, BERTH_EINVAL, 0,
						    "%s.limit: %lld is below the current usage %llu", jp, limit,
						    usage);
		}
	}
	if ((rc = plan_limit_and_swap(p, dir, jp, has_limit, limit, has_swap, swap, err)) < 0)
		return rc;
	if ((rc = plan_int(p, dir, mem, jp, "reservation", -1, "memory.soft_limit_in_bytes", err)) < 0 ||
	    (rc = plan_int(p, dir, mem, jp, "kernelTCP", -1, "memory.kmem.tcp.limit_in_bytes", err)) < 0 ||
	    (rc = plan_int(p, dir, mem, jp, "swappiness", 0, "memory.swappiness", err)) < 0 ||
	    (rc = plan_bool(p, dir, mem, jp, "disableOOMKiller", "memory.oom_control", err)) < 0 ||
	    (rc = plan_bool(p, dir, mem, jp, "useHierarchy", "memory.use_hierarchy", err)) < 0)
		return rc;
	if (json_object_get(mem, "kernel") && !json_is_null(json_object_get(mem, "kernel"))) {
		if (!json_is_integer(json_object_get(mem, "kernel")))
			return bt_error_set(err, BERTH_EINVAL, 0, "%s.kernel: expected an integer, got %s", jp,
					    bt_json_type_name(json_object_get(mem, "kernel")));
		/* The runtime spec deprecates it and lets runtimes ignore it, as
		 * current kernels do (kmem limits were removed in Linux 6.1). */
		bt_log_warn(p->cg->ctx, "cgroup", "%s.kernel: kernel memory limits are deprecated; ignored", jp);
	}
	return 0;
}

int bt_cg_v1_cpu(bt_cg_plan *p, size_t dir, const json_t *cpu, const char *jp, berth_error **err)
{
	static const char *const keys[] = { "shares", "quota", "burst", "period", "realtimeRuntime",
					     "realtimePeriod", "idle", NULL };
	int rc;

	if ((rc = bt_cg_known_keys(cpu, jp, keys, err)) < 0 ||
	    (rc = plan_int(p, dir, cpu, jp, "shares", 2, "cpu.shares", err)) < 0 ||
	    (rc = plan_int(p, dir, cpu, jp, "period", 1000, "cpu.cfs_period_us", err)) < 0 ||
	    (rc = plan_int(p, dir, cpu, jp, "quota", -1, "cpu.cfs_quota_us", err)) < 0 ||
	    (rc = plan_int(p, dir, cpu, jp, "burst", 0, "cpu.cfs_burst_us", err)) < 0 ||
	    (rc = plan_int(p, dir, cpu, jp, "realtimePeriod", 1, "cpu.rt_period_us", err)) < 0 ||
	    (rc = plan_int(p, dir, cpu, jp, "realtimeRuntime", -1, "cpu.rt_runtime_us", err)) < 0 ||
	    (rc = plan_int(p, dir, cpu, jp, "idle", 0, "cpu.idle", err)) < 0)
		return rc;
	return 0;
}

int bt_cg_v1_blkio(bt_cg_plan *p, size_t dir, const json_t *blk, const char *jp, berth_error **err)
{
	static const char *const keys[] = { "weight", "leafWeight", "weightDevice",
					     "throttleReadBpsDevice", "throttleWriteBpsDevice",
					     "throttleReadIOPSDevice", "throttleWriteIOPSDevice", NULL };
	/* Kernels with BFQ and without CFQ only have the blkio.bfq.* weights. */
	bool bfq = !bt_cg_has_file(p->cg, dir, "blkio.weight") &&
		   bt_cg_has_file(p->cg, dir, "blkio.bfq.weight");
	json_t *list, *e;
	size_t i;
	int rc;

	if ((rc = bt_cg_known_keys(blk, jp, keys, err)) < 0 ||
	    (rc = plan_int(p, dir, blk, jp, "weight", 10, bfq ? "blkio.bfq.weight" : "blkio.weight", err)) < 0 ||
	    (rc = plan_int(p, dir, blk, jp, "leafWeight", 10, "blkio.leaf_weight", err)) < 0 ||
	    (rc = bt_json_member(blk, jp, "weightDevice", JSON_ARRAY, false, &list, err)) < 0)
		return rc;
	json_array_foreach(list, i, e) {
		char *ep = bt_strdup_printf("%s.weightDevice[%zu]", jp, i);
		long long major, minor, w = 0, lw = 0;
		bool wp = false, lp = false;

		if (!ep)
			return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
		if ((rc = bt_cg_device_entry(e, ep, &major, &minor, err)) == 0 &&
		    (rc = bt_cg_int(e, ep, "weight", 10, &wp, &w, err)) == 0 &&
		    (rc = bt_cg_int(e, ep, "leafWeight", 10, &lp, &lw, err)) == 0 && wp)
			rc = bt_cg_plan_add(p, dir, bfq ? "blkio.bfq.weight_device" : "blkio.weight_device", ep,
					    err, "%lld:%lld %lld", major, minor, w);
		if (rc == 0 && lp)
			rc = bt_cg_plan_add(p, dir, "blkio.leaf_weight_device", ep, err, "%lld:%lld %lld", major,
					    minor, lw);
		free(ep);
		if (rc < 0)
			return rc;
	}
	if ((rc = bt_cg_plan_throttles(p, dir, blk, jp, "throttleReadBpsDevice", "blkio.throttle.read_bps_device", "", err)) < 0 ||
	    (rc = bt_cg_plan_throttles(p, dir, blk, jp, "throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "", err)) < 0 ||
	    (rc = bt_cg_plan_throttles(p, dir, blk, jp, "throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "", err)) < 0 ||
	    (rc = bt_cg_plan_throttles(p, dir, blk, jp, "throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "", err)) < 0)
		return rc;
	return 0;
}

static bool read_u64(const berth_cgroup *cg, int dir, const char *file, uint64_t *out)
{
	char *text;

	if (dir < 0 || bt_cg_read(cg, (size_t)dir, file, &text, NULL) < 0)
		return false;
	if (!strncmp(text, "max", 3))
		*out = BERTH_CGROUP_UNLIMITED;
	else if ((*out = strtoull(text, NULL, 10)) >= V1_UNLIMITED)
		*out = BERTH_CGROUP_UNLIMITED;
	free(text);
	return true;
}

/* Bytes read and written, summed over the devices of the throttle
 * layer's lines "MAJ:MIN Read N" (every bio passes it, whatever the
 * scheduler); its "Total" line is left out. */
static void io_bytes(const berth_cgroup *cg, berth_cgroup_stats *st)
{
	int blkio = bt_cg_v1_index(cg, "blkio");
	unsigned long long rd = 0, wr = 0, n;
	char *text, op[16];

	if (blkio < 0 || (bt_cg_read(cg, (size_t)blkio, "blkio.throttle.io_service_bytes_recursive", &text, NULL) < 0 &&
			  bt_cg_read(cg, (size_t)blkio, "blkio.throttle.io_service_bytes", &text, NULL) < 0))
		return;
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (sscanf(line, "%*u:%*u %15s %llu", op, &n) != 2)
			continue;
		else if (!strcmp(op, "Read"))
			rd += n;
		else if (!strcmp(op, "Write"))
			wr += n;
	st->io_read_bytes = rd;
	st->io_write_bytes = wr;
	free(text);
}

int bt_cg_v1_stats(const berth_cgroup *cg, berth_cgroup_stats *st)
{
	int mem = bt_cg_v1_index(cg, "memory"), pids = bt_cg_v1_index(cg, "pids");
	int acct = bt_cg_v1_index(cg, "cpuacct");
	char *text;

	read_u64(cg, mem, "memory.usage_in_bytes", &st->memory_usage);
	read_u64(cg, mem, "memory.max_usage_in_bytes", &st->memory_peak);
	read_u64(cg, mem, "memory.limit_in_bytes", &st->memory_limit);
	if (mem >= 0 && bt_cg_read(cg, (size_t)mem, "memory.oom_control", &text, NULL) == 0) {
		unsigned long long n;
		if (bt_cg_keyed(text, "oom_kill", &n))
			st->oom_kills = n;
		free(text);
	}
	read_u64(cg, acct, "cpuacct.usage", &st->cpu_usage_ns);
	read_u64(cg, pids, "pids.current", &st->pids_current);
	read_u64(cg, pids, "pids.max", &st->pids_limit);
	io_bytes(cg, st);
	return 0;
}
