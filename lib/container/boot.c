/* After a host reboot no monitor runs: the containers that ran are
 * recorded running, and the first look reports them exited (-1). Boot
 * starts those whose restart policy asks for it, as Docker's daemon does
 * when it comes up: always (even after a user's stop, as Docker's
 * documentation says), unless-stopped and on-failure unless the user
 * stopped them (on-failure only for a failure, within its retries). */
#include "container-internal.h"

#include <stdlib.h>
#include <string.h>

/* Whether the records of ct ask for a start at boot. */
static bool wants_boot(struct bt_ct *ct)
{
	const json_t *policy = json_object_get(json_object_get(ct->config, "HostConfig"), "RestartPolicy");
	const char *name = json_string_value(json_object_get(policy, "Name"));
	json_int_t max = json_integer_value(json_object_get(policy, "MaximumRetryCount"));
	bool stopped = json_is_true(json_object_get(ct->state, "StopRequested"));
	const char *status = bt_ct_status(ct);

	if (!name || strcmp(status, "exited"))
		return false;
	if (!strcmp(name, "always"))
		return true;
	if (!strcmp(name, "unless-stopped"))
		return !stopped;
	if (!strcmp(name, "on-failure"))
		return !stopped && json_integer_value(json_object_get(ct->state, "ExitCode")) != 0 &&
		       (max == 0 || json_integer_value(json_object_get(ct->state, "RestartCount")) < max);
	return false;
}

int berth_container_boot(berth_ctx *ctx, char ***started, size_t *count, berth_error **err)
{
	struct bt_strv v = { 0 };
	char **ids;
	size_t n;
	int rc;

	*started = NULL;
	*count = 0;
	if ((rc = berth_container_ids(ctx, &ids, &n, err)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct bt_ct *ct;
		berth_error *e = NULL;
		bool boot;

		if (bt_ct_open(ctx, ids[i], &ct, NULL) < 0)
			continue; /* removed meanwhile */
		boot = wants_boot(ct);
		bt_ct_close(ct);
		if (!boot)
			continue;
		/* one that fails to start is logged; the others still start */
		if (berth_container_start(ctx, ids[i], NULL, &e) < 0) {
			bt_log_error(ctx, "container", "%.12s: starting at boot: %s", ids[i], berth_error_message(e));
			berth_error_free(e);
		} else if (bt_strv_add(&v, strdup(ids[i])) < 0) {
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
			break;
		}
	}
	berth_container_ids_free(ids, n);
	if (rc < 0) {
		bt_strv_free(v.v, v.n);
		return rc;
	}
	*started = v.v;
	*count = v.n;
	return 0;
}
