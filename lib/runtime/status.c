/* How a container's processes end and are signalled: the init's exit
 * status recorded in the state (so `state` in any process can say it),
 * OOM kills read from its cgroup, and signals sent through pidfds, so a pid
 * that was reused by another process is never signalled. */
#define _GNU_SOURCE
#include "runtime-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int bt_rt_state_cgroup(berth_runtime *rt, const bt_rt_state *st, const char *id, berth_cgroup **cg,
		       berth_error **err)
{
	const char *path = json_string_value(
		json_object_get(json_object_get(st->json, "berth"), "cgroupsPath"));

	*cg = NULL;
	if (!path)
		return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "container %s has no cgroup", id);
	return berth_cgroup_open(rt->ctx, path, id, cg, err);
}

bool bt_rt_oom_killed(berth_runtime *rt, const char *id)
{
	berth_cgroup_stats st = BERTH_CGROUP_STATS_INIT;
	const char *path;
	berth_cgroup *cg = NULL;
	bt_rt_state s;
	bool oom = false;

	if (bt_rt_state_open(rt, id, &s, NULL) < 0)
		return false;
	path = json_string_value(json_object_get(json_object_get(s.json, "berth"), "cgroupsPath"));
	if (path && berth_cgroup_open(rt->ctx, path, id, &cg, NULL) == 0 &&
	    berth_cgroup_stats_get(cg, &st, NULL) == 0)
		oom = st.oom_kills != BERTH_CGROUP_UNKNOWN && st.oom_kills > 0;
	berth_cgroup_free(cg);
	bt_rt_state_close(&s, false);
	return oom;
}

int bt_rt_record_exit(berth_runtime *rt, const char *id, int pid, const berth_runtime_exit *e,
		      berth_error **err)
{
	bt_rt_state s;
	json_t *x;
	int rc;

	if ((rc = bt_rt_state_open(rt, id, &s, err)) < 0)
		return rc == BERTH_ENOTFOUND ? 0 : rc; /* deleted meanwhile */
	if (bt_rt_state_pid(&s) != pid) {
		bt_rt_state_close(&s, false);
		return 0; /* a container of the same id made since */
	}
	x = json_pack("{s:i,s:i,s:b}", "code", e->code, "signal", e->signal, "oomKilled", e->oom_killed);
	json_object_set_new(json_object_get(s.json, "berth"), "exit", x);
	rc = bt_rt_state_save(&s, err);
	bt_rt_state_close(&s, false);
	return rc;
}

int berth_runtime_exit_status(berth_runtime *rt, const char *id, berth_runtime_exit *out,
			      berth_error **err)
{
	berth_runtime_exit e = BERTH_RUNTIME_EXIT_INIT;
	bt_rt_state s;
	json_t *x;
	int rc;

	if (!out || out->size < sizeof(size_t))
		return bt_error_set(err, BERTH_EINVAL, 0, "exit status of container %s: no struct to fill", id);
	if ((rc = bt_rt_state_open(rt, id, &s, err)) < 0)
		return bt_error_wrap(err, rc, "reading the exit status of container %s", id);
	if (!(x = json_object_get(json_object_get(s.json, "berth"), "exit"))) {
		rc = bt_error_set(err, BERTH_ESTATE, 0,
				  "container %s: how it ended is not known (it is %s, or nobody waited for it)", id,
				  bt_rt_state_status(&s));
	} else {
		e.code = (int)json_integer_value(json_object_get(x, "code"));
		e.signal = (int)json_integer_value(json_object_get(x, "signal"));
		e.oom_killed = json_is_true(json_object_get(x, "oomKilled"));
		bt_opts_copy_out(out, &e, sizeof(e));
	}
	bt_rt_state_close(&s, false);
	return rc;
}

int bt_rt_state_signal(const bt_rt_state *st, int sig)
{
	json_int_t start = json_integer_value(json_object_get(json_object_get(st->json, "berth"), "starttime"));
	int pid = bt_rt_state_pid(st), fd, rc = 0;

	if (pid <= 0)
		return -ESRCH;
	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0)
		return -errno;
	/* the pidfd holds this process; is it the init the state means? */
	if (bt_rt_proc_starttime(pid) != (unsigned long long)start)
		rc = -ESRCH;
	else if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
		rc = -errno;
	close(fd);
	return rc;
}
