/* A container's resources: usage (docker stats) and limits changed while
 * it runs (docker update), recorded so the next start applies them too. */
#include "container-internal.h"

#include <stdlib.h>
#include <string.h>

#include <berth/runtime.h>

#define CONFIG_MAX (4 << 20)

int berth_container_stats(berth_ctx *ctx, const char *name, berth_cgroup_stats *stats, berth_error **err)
{
	berth_runtime *rt = NULL;
	struct bt_ct *ct;
	const char *status;
	int rc;

	if ((rc = bt_ct_open(ctx, name, &ct, err)) < 0)
		return rc;
	status = bt_ct_status(ct);
	if (strcmp(status, "running") && strcmp(status, "paused"))
		rc = bt_error_set(err, BERTH_ESTATE, 0, "container %s is not running", name);
	else if ((rc = berth_runtime_new(ctx, NULL, &rt, err)) == 0)
		rc = berth_runtime_stats(rt, ct->id, stats, err);
	berth_runtime_free(rt);
	bt_ct_close(ct);
	return rc;
}

static long long host_value(const json_t *host, const char *key)
{
	return (long long)json_integer_value(json_object_get(host, key));
}

/* The OCI linux.resources of the limits in HostConfig (Docker's rules as
 * create applies them: swap twice the memory unless told). */
static json_t *resources_of(const json_t *host)
{
	long long memory = host_value(host, "Memory"), swap = host_value(host, "MemorySwap");
	long long cpus = host_value(host, "NanoCpus"), shares = host_value(host, "CpuShares");
	long long pids = host_value(host, "PidsLimit");
	json_t *r = json_object(), *cpu = json_object();

	if (memory)
		json_object_set_new(r, "memory", json_pack("{s:I, s:I}", "limit", (json_int_t)memory, "swap",
							   (json_int_t)(swap ? swap : 2 * memory)));
	if (cpus) {
		json_object_set_new(cpu, "period", json_integer(100000));
		json_object_set_new(cpu, "quota", json_integer(cpus / 10000));
	}
	if (shares)
		json_object_set_new(cpu, "shares", json_integer(shares));
	if (json_object_size(cpu))
		json_object_set_new(r, "cpu", cpu);
	else
		json_decref(cpu);
	if (pids)
		json_object_set_new(r, "pids", json_pack("{s:I}", "limit", (json_int_t)pids));
	return r;
}

/* The new limits into HostConfig; EINVAL for values Docker refuses. */
static int merge_limits(json_t *host, const berth_container_update_opts *o, berth_error **err)
{
	long long memory = o->memory ? o->memory : host_value(host, "Memory");
	long long swap = o->memory_swap ? o->memory_swap : host_value(host, "MemorySwap");

	if (o->memory < 0 || o->nano_cpus < 0 || o->cpu_shares < 0 || o->pids_limit < -1 || o->memory_swap < -1)
		return bt_error_set(err, BERTH_EINVAL, 0, "a negative resource limit");
	if (swap > 0 && (!memory || swap < memory))
		return bt_error_set(err, BERTH_EINVAL, 0,
				    memory ? "Minimum memoryswap limit should be larger than memory limit, see usage"
					   : "You should always set the Memory limit when using Memoryswap limit, see usage");
	if (o->memory)
		json_object_set_new(host, "Memory", json_integer(o->memory));
	if (o->memory_swap)
		json_object_set_new(host, "MemorySwap", json_integer(o->memory_swap));
	if (o->nano_cpus)
		json_object_set_new(host, "NanoCpus", json_integer(o->nano_cpus));
	if (o->cpu_shares)
		json_object_set_new(host, "CpuShares", json_integer(o->cpu_shares));
	if (o->pids_limit)
		json_object_set_new(host, "PidsLimit", json_integer(o->pids_limit));
	return 0;
}

/* Writes the limits into the bundle's config.json, for the next start;
 * the device rules there stay. */
static int save_bundle(struct bt_ct *ct, const json_t *res, berth_error **err)
{
	char *path = bt_strdup_printf("%s/config.json", ct->dir);
	json_t *spec = NULL, *cur;
	int rc;

	if (!path)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	if ((rc = bt_json_load_file(path, CONFIG_MAX, &spec, err)) == 0) {
		if (!json_is_object(cur = json_object_get(json_object_get(spec, "linux"), "resources")))
			json_object_set_new(json_object_get(spec, "linux"), "resources", cur = json_object());
		json_object_update(cur, (json_t *)res);
		rc = bt_json_write_atomic(path, spec, err);
	}
	json_decref(spec);
	free(path);
	return rc;
}

int berth_container_update(berth_ctx *ctx, const char *name, const berth_container_update_opts *opts,
			   berth_error **err)
{
	berth_container_update_opts o = BERTH_CONTAINER_UPDATE_OPTS_INIT;
	berth_runtime *rt = NULL;
	struct bt_ct *ct;
	json_t *host, *res = NULL;
	char *text = NULL, *path = NULL;
	const char *status;
	int rc;

	if ((rc = bt_opts_copy(&o, sizeof(o), opts, "berth_container_update_opts", err)) < 0)
		return rc;
	if ((rc = bt_ct_open(ctx, name, &ct, err)) < 0)
		return rc;
	status = bt_ct_status(ct);
	if (!json_is_object(host = json_object_get(ct->config, "HostConfig")))
		json_object_set_new(ct->config, "HostConfig", host = json_object());
	if ((rc = merge_limits(host, &o, err)) < 0)
		goto out;
	res = resources_of(host);
	if (!(text = json_dumps(res, JSON_COMPACT)) || !(path = bt_strdup_printf("%s/container.json", ct->dir))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	/* the cgroup first: a limit the kernel refuses is not recorded */
	if ((!strcmp(status, "running") || !strcmp(status, "paused")) &&
	    ((rc = berth_runtime_new(ctx, NULL, &rt, err)) < 0 || (rc = berth_runtime_update(rt, ct->id, text, err)) < 0))
		goto out;
	if ((rc = save_bundle(ct, res, err)) == 0)
		rc = bt_json_write_atomic(path, ct->config, err);
out:
	berth_runtime_free(rt);
	json_decref(res);
	free(text);
	free(path);
	bt_ct_close(ct);
	return rc;
}
