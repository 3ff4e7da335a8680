/* The OCI linux.resources object: each field is checked and planned as
 * writes into the cgroup's directories (v1.c and v2.c know the files),
 * choosing per controller the v1 hierarchy where one is mounted and else the
 * v2 tree; then the plan is written. A field the host cannot apply is an
 * error naming its JSON path, found before anything is written. */
#include "cgroup-internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *bt_cg_jpath(const char *path, const char *key)
{
	return bt_strdup_printf("%s.%s", path, key);
}

/* A {major, minor, ...} entry of a blockIO device list (v1 and v2 alike). */
int bt_cg_device_entry(const json_t *e, const char *ep, long long *major, long long *minor,
		       berth_error **err)
{
	bool mp, np;
	int rc;

	if ((rc = bt_cg_int(e, ep, "major", 0, &mp, major, err)) < 0 ||
	    (rc = bt_cg_int(e, ep, "minor", 0, &np, minor, err)) < 0)
		return rc;
	if (!mp || !np)
		return bt_error_set(err, BERTH_EINVAL, 0, "%s.%s: missing", ep, mp ? "minor" : "major");
	return 0;
}

/* The throttle lists of blockIO as lines "major:minor <prefix>rate" in file:
 * v1 writes "8:0 1048576" to blkio.throttle.*_device, v2 "8:0 rbps=1048576"
 * to io.max. */
int bt_cg_plan_throttles(bt_cg_plan *p, size_t dir, const json_t *blk, const char *jp,
			 const char *key, const char *file, const char *prefix, berth_error **err)
{
	json_t *list, *e;
	size_t i;
	int rc;

	if ((rc = bt_json_member(blk, jp, key, JSON_ARRAY, false, &list, err)) < 0 || !list)
		return rc;
	json_array_foreach(list, i, e) {
		char *ep = bt_strdup_printf("%s.%s[%zu]", jp, key, i);
		long long major, minor, rate = 0;
		bool present;

		if (!ep)
			return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
		if ((rc = bt_cg_device_entry(e, ep, &major, &minor, err)) == 0 &&
		    (rc = bt_cg_int(e, ep, "rate", 0, &present, &rate, err)) == 0)
			rc = !present ? bt_error_set(err, BERTH_EINVAL, 0, "%s.rate: missing", ep)
				      : bt_cg_plan_add(p, dir, file, ep, err, "%lld:%lld %s%lld", major,
						       minor, prefix, rate);
		free(ep);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int bt_cg_known_keys(const json_t *obj, const char *jp, const char *const *keys, berth_error **err)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		const char *const *k = keys;
		while (*k && strcmp(*k, key))
			k++;
		if (!*k)
			return bt_error_set(err, BERTH_EINVAL, 0, "%s.%s: unknown field", jp, key);
	}
	return 0;
}

int bt_cg_int(const json_t *obj, const char *path, const char *key, long long min, bool *present,
	      long long *out, berth_error **err)
{
	json_t *v;
	int rc;

	*present = false;
	if ((rc = bt_json_member(obj, path, key, JSON_INTEGER, false, &v, err)) < 0 || !v)
		return rc;
	*out = json_integer_value(v);
	if (*out < min)
		return bt_error_set(err, BERTH_EINVAL, 0, "%s.%s: %lld is below the minimum %lld", path,
				    key, *out, min);
	*present = true;
	return 0;
}

int bt_cg_plan_add(bt_cg_plan *p, size_t dir, const char *file, const char *jpath,
		   berth_error **err, const char *fmt, ...)
{
	bt_cg_op *op, *ops;
	va_list ap;

	if (!bt_cg_has_file(p->cg, dir, file))
		return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "%s: %s is not available in %s", jpath,
				    file, p->cg->dirs[dir].dir);
	if (!(ops = bt_grow(p->ops, p->n, &p->cap, sizeof(*ops), 16)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jpath);
	p->ops = ops;
	op = &p->ops[p->n];
	op->dir = dir;
	va_start(ap, fmt);
	op->value = bt_strdup_vprintf(fmt, ap);
	va_end(ap);
	op->file = strdup(file);
	op->jpath = strdup(jpath);
	if (!op->value || !op->file || !op->jpath) {
		free(op->value);
		free(op->file);
		free(op->jpath);
		return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jpath);
	}
	p->n++;
	return 0;
}

static void plan_free(bt_cg_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->ops[i].file);
		free(p->ops[i].value);
		free(p->ops[i].jpath);
	}
	free(p->ops);
	free(p->dev_insns);
	if (p->dev_fd >= 0)
		close(p->dev_fd);
}

unsigned long long bt_cg_shares_to_weight(unsigned long long shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

unsigned long long bt_cg_blkio_to_io_weight(unsigned long long weight)
{
	if (weight < 10)
		weight = 10;
	if (weight > 1000)
		weight = 1000;
	return 1 + (weight - 10) * 9999 / 990;
}

static bool has_members(const json_t *obj)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v)
		if (!json_is_null(v))
			return true;
	return false;
}

static int unavailable(const char *jp, const char *controller, berth_error **err)
{
	return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "%s: %s controller not available", jp, controller);
}

/* The cpuset fields of linux.resources.cpu, the same files on v1 and v2. */
static int plan_cpuset(bt_cg_plan *p, const json_t *cpu, const char *jp, berth_error **err)
{
	static const char *const keys[] = { "cpus", "mems" };
	int rc = 0;

	for (size_t k = 0; k < 2 && rc == 0; k++) {
		const char *s = NULL;
		char *path, *file;
		int i;

		if ((rc = bt_json_string(cpu, jp, keys[k], false, &s, err)) < 0 || !s)
			continue;
		path = bt_cg_jpath(jp, keys[k]);
		file = bt_strdup_printf("cpuset.%s", keys[k]);
		if (!path || !file)
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
		else if (s[strspn(s, "0123456789,- ")] != '\0')
			rc = bt_error_set(err, BERTH_EINVAL, 0, "%s: \"%s\" is not a list of numbers", path, s);
		else if ((i = bt_cg_v1_index(p->cg, "cpuset")) >= 0)
			rc = bt_cg_plan_add(p, (size_t)i, file, path, err, "%s", s);
		else if (bt_cg_v2_has(p->cg, "cpuset"))
			rc = bt_cg_plan_add(p, (size_t)p->cg->v2, file, path, err, "%s", s);
		else
			rc = unavailable(path, "cpuset", err);
		free(path);
		free(file);
	}
	return rc;
}

static int plan_hugetlb(bt_cg_plan *p, const json_t *list, const char *jp, berth_error **err)
{
	int v1 = bt_cg_v1_index(p->cg, "hugetlb");
	bool v2 = v1 < 0 && bt_cg_v2_has(p->cg, "hugetlb");
	size_t i;
	json_t *e;
	int rc = 0;

	json_array_foreach(list, i, e) {
		char *ep = bt_strdup_printf("%s[%zu]", jp, i), *file = NULL;
		const char *size = NULL;
		long long limit = 0;
		bool present;

		if (!ep)
			return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
		if ((rc = bt_json_string(e, ep, "pageSize", true, &size, err)) == 0 &&
		    (rc = bt_cg_int(e, ep, "limit", 0, &present, &limit, err)) == 0) {
			if (!present)
				rc = bt_error_set(err, BERTH_EINVAL, 0, "%s.limit: missing", ep);
			else if (!*size || strchr(size, '/') || strchr(size, '.'))
				rc = bt_error_set(err, BERTH_EINVAL, 0, "%s.pageSize: \"%s\" is not a page size",
						  ep, size);
			else if (v1 < 0 && !v2)
				rc = unavailable(ep, "hugetlb", err);
			else if (!(file = bt_strdup_printf(v2 ? "hugetlb.%s.max" : "hugetlb.%s.limit_in_bytes", size)))
				rc = bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", ep);
			else
				rc = bt_cg_plan_add(p, v2 ? (size_t)p->cg->v2 : (size_t)v1, file, ep, err, "%lld",
						    limit);
		}
		free(file);
		free(ep);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int plan_network(bt_cg_plan *p, const json_t *net, const char *jp, berth_error **err)
{
	long long classid;
	bool present;
	json_t *prios, *e;
	size_t i;
	int rc, d;
	char *path;

	if ((rc = bt_cg_int(net, jp, "classID", 0, &present, &classid, err)) < 0)
		return rc;
	if (!(path = bt_cg_jpath(jp, "classID")))
		return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
	if (present)
		rc = (d = bt_cg_v1_index(p->cg, "net_cls")) < 0
			     ? unavailable(path, "net_cls", err)
			     : bt_cg_plan_add(p, (size_t)d, "net_cls.classid", path, err, "%lld", classid);
	free(path);
	if (rc < 0 || (rc = bt_json_member(net, jp, "priorities", JSON_ARRAY, false, &prios, err)) < 0 ||
	    !prios)
		return rc;
	json_array_foreach(prios, i, e) {
		char *ep = bt_strdup_printf("%s.priorities[%zu]", jp, i);
		const char *name = NULL;
		long long prio = 0;

		if (!ep)
			return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
		if ((rc = bt_json_string(e, ep, "name", true, &name, err)) == 0 &&
		    (rc = bt_cg_int(e, ep, "priority", 0, &present, &prio, err)) == 0) {
			if (!present)
				rc = bt_error_set(err, BERTH_EINVAL, 0, "%s.priority: missing", ep);
			else if (!*name || strpbrk(name, " \n/"))
				rc = bt_error_set(err, BERTH_EINVAL, 0, "%s.name: \"%s\" is not an interface name",
						  ep, name);
			else if ((d = bt_cg_v1_index(p->cg, "net_prio")) < 0)
				rc = unavailable(ep, "net_prio", err);
			else
				rc = bt_cg_plan_add(p, (size_t)d, "net_prio.ifpriomap", ep, err, "%s %lld", name,
						    prio);
		}
		free(ep);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int plan_pids(bt_cg_plan *p, const json_t *pids, const char *jp, berth_error **err)
{
	long long limit = 0;
	bool present;
	char *path;
	int rc, d;

	if ((rc = bt_cg_int(pids, jp, "limit", -1, &present, &limit, err)) < 0 || !present)
		return rc;
	if (!(path = bt_cg_jpath(jp, "limit")))
		return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
	d = bt_cg_v1_index(p->cg, "pids");
	if (d < 0 && bt_cg_v2_has(p->cg, "pids"))
		d = p->cg->v2;
	if (d < 0)
		rc = unavailable(path, "pids", err);
	else if (limit <= 0) /* -1 (and 0, as runc reads it): unlimited */
		rc = bt_cg_plan_add(p, (size_t)d, "pids.max", path, err, "max");
	else
		rc = bt_cg_plan_add(p, (size_t)d, "pids.max", path, err, "%lld", limit);
	free(path);
	return rc;
}

static int plan_rdma(bt_cg_plan *p, const json_t *rdma, const char *jp, berth_error **err)
{
	int d = bt_cg_v1_index(p->cg, "rdma");
	const char *dev;
	json_t *e;
	int rc = 0;

	if (d < 0 && bt_cg_v2_has(p->cg, "rdma"))
		d = p->cg->v2;
	json_object_foreach((json_t *)rdma, dev, e) {
		char *ep = bt_strdup_printf("%s.%s", jp, dev), line[256];
		long long h = 0, o = 0;
		bool hp = false, op = false;

		if (!ep)
			return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
		if ((rc = bt_cg_int(e, ep, "hcaHandles", 0, &hp, &h, err)) == 0 &&
		    (rc = bt_cg_int(e, ep, "hcaObjects", 0, &op, &o, err)) == 0) {
			int len = snprintf(line, sizeof(line), "%s", dev);
			if (hp)
				len += snprintf(line + len, sizeof(line) - (size_t)len, " hca_handle=%lld", h);
			if (op)
				snprintf(line + len, sizeof(line) - (size_t)len, " hca_object=%lld", o);
			if (!*dev || strpbrk(dev, " \n/") || strlen(dev) > 64)
				rc = bt_error_set(err, BERTH_EINVAL, 0, "%s: not a device name", ep);
			else if (d < 0)
				rc = unavailable(ep, "rdma", err);
			else if (hp || op)
				rc = bt_cg_plan_add(p, (size_t)d, "rdma.max", ep, err, "%s", line);
		}
		free(ep);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Plans one controller group of the object: `v1name` in a v1 hierarchy,
 * else `v2name` on the v2 tree. */
static int plan_group(bt_cg_plan *p, const json_t *obj, const char *jp, const char *v1name,
		      const char *v2name, int (*v1fn)(bt_cg_plan *, size_t, const json_t *, const char *, berth_error **),
		      int (*v2fn)(bt_cg_plan *, size_t, const json_t *, const char *, berth_error **),
		      berth_error **err)
{
	int d = bt_cg_v1_index(p->cg, v1name);

	if (d >= 0 && v1fn)
		return v1fn(p, (size_t)d, obj, jp, err);
	if (v2fn && p->cg->v2 >= 0 && bt_cg_v2_has(p->cg, v2name))
		return v2fn(p, (size_t)p->cg->v2, obj, jp, err);
	return unavailable(jp, d >= 0 || !v1fn ? v2name : v1name, err);
}

static bool known_resource(const char *key)
{
	static const char *const keys[] = { "devices", "memory", "cpu", "pids", "blockIO",
					     "hugepageLimits", "network", "rdma", "unified" };
	for (size_t i = 0; i < BT_ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i], key))
			return true;
	return false;
}

static int plan(bt_cg_plan *p, const json_t *res, berth_error **err)
{
	static const char top[] = "linux.resources";
	const char *key;
	json_t *v;
	int rc = 0;

	if (!json_is_object(res))
		return bt_error_set(err, BERTH_EINVAL, 0, "%s: expected an object, got %s", top,
				    bt_json_type_name(res));
	json_object_foreach((json_t *)res, key, v) {
		char *jp = bt_cg_jpath(top, key);

		if (!jp)
			return bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", top);
		if (!known_resource(key)) {
			rc = bt_error_set(err, BERTH_EINVAL, 0, "%s: unknown resource", jp);
		} else if (json_is_null(v)) {
			rc = 0;
		} else if (!strcmp(key, "hugepageLimits") || !strcmp(key, "devices")) {
			if (!json_is_array(v))
				rc = bt_error_set(err, BERTH_EINVAL, 0, "%s: expected an array, got %s", jp,
						  bt_json_type_name(v));
			else if (!strcmp(key, "hugepageLimits"))
				rc = plan_hugetlb(p, v, jp, err);
			else if (json_array_size(v) == 0)
				rc = 0;
			else if (bt_cg_v1_index(p->cg, "devices") >= 0)
				rc = bt_cg_v1_devices(p, (size_t)bt_cg_v1_index(p->cg, "devices"), v, jp, err);
			else if (p->cg->v2 >= 0)
				rc = bt_cg_v2_devices(p, (size_t)p->cg->v2, v, jp, err);
			else
				rc = unavailable(jp, "devices", err);
		} else if (!json_is_object(v)) {
			rc = bt_error_set(err, BERTH_EINVAL, 0, "%s: expected an object, got %s", jp,
					  bt_json_type_name(v));
		} else if (!has_members(v)) {
			rc = 0;
		} else if (!strcmp(key, "memory")) {
			rc = plan_group(p, v, jp, "memory", "memory", bt_cg_v1_memory, bt_cg_v2_memory, err);
		} else if (!strcmp(key, "cpu")) {
			json_t *rest = json_deep_copy(v);
			if (!rest)
				rc = bt_error_set(err, BERTH_ENOMEM, 0, "%s: out of memory", jp);
			else if ((rc = plan_cpuset(p, v, jp, err)) == 0) {
				json_object_del(rest, "cpus");
				json_object_del(rest, "mems");
				if (has_members(rest))
					rc = plan_group(p, rest, jp, "cpu", "cpu", bt_cg_v1_cpu, bt_cg_v2_cpu, err);
			}
			json_decref(rest);
		} else if (!strcmp(key, "pids")) {
			rc = plan_pids(p, v, jp, err);
		} else if (!strcmp(key, "blockIO")) {
			rc = plan_group(p, v, jp, "blkio", "io", bt_cg_v1_blkio, bt_cg_v2_io, err);
		} else if (!strcmp(key, "network")) {
			rc = plan_network(p, v, jp, err);
		} else if (!strcmp(key, "rdma")) {
			rc = plan_rdma(p, v, jp, err);
		} else if (!strcmp(key, "unified")) {
			rc = p->cg->v2 < 0 ? bt_error_set(err, BERTH_EUNSUPPORTED, 0,
							  "%s: this host has no cgroup v2 tree", jp)
					   : bt_cg_v2_unified(p, (size_t)p->cg->v2, v, jp, err);
		} else {
			rc = bt_error_set(err, BERTH_EINVAL, 0, "%s: unknown resource", jp);
		}
		free(jp);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int bt_cgroup_apply(berth_cgroup *cg, const json_t *resources, berth_error **err)
{
	bt_cg_plan p = BT_CG_PLAN_INIT(cg);
	int rc;

	if ((rc = plan(&p, resources, err)) == 0) {
		for (size_t i = 0; i < p.n && rc == 0; i++) {
			bt_cg_op *op = &p.ops[i];
			if ((rc = bt_cg_write(cg, op->dir, op->file, op->value, err)) < 0)
				rc = bt_error_wrap(err, rc, "%s", op->jpath);
		}
		if (rc == 0 && (rc = bt_cg_v2_devices_attach(&p, err)) < 0)
			rc = bt_error_wrap(err, rc, "linux.resources.devices");
	}
	plan_free(&p);
	if (rc < 0)
		return bt_error_wrap(err, rc, "setting resources of cgroup %s", cg->path);
	bt_log_debug(cg->ctx, "cgroup", "set resources of cgroup %s", cg->path);
	return 0;
}

int berth_cgroup_set_resources(berth_cgroup *cg, const char *json, berth_error **err)
{
	json_t *res;
	int rc;

	if (!json)
		return bt_error_set(err, BERTH_EINVAL, 0, "setting resources of cgroup %s: no JSON", cg->path);
	if ((rc = bt_json_parse(json, strlen(json), "linux.resources", &res, err)) < 0)
		return bt_error_wrap(err, rc, "setting resources of cgroup %s", cg->path);
	rc = bt_cgroup_apply(cg, res, err);
	json_decref(res);
	return rc;
}
