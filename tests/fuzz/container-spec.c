/* The engine's part of create before anything runs: an image's config (as
 * any image may carry) and the run options a user types (-u user:group, -w,
 * --ulimit, --device, -p, --log-opt, --restart, -e, --cap-add, --memory...)
 * into the OCI spec, with the user resolved in the image's /etc/passwd and
 * /etc/group. Input: option lines "name value", the passwd and group lines
 * ("passwd LINE", "group LINE"), a blank line, then the image config.
 * Volumes and mounts have their own target (mount-specs): here they would
 * make host directories. */
#include "fuzz.h"
#include "container-internal.h"

#include <sys/stat.h>

#define MAX_LIST 8

struct list {
	const char *v[MAX_LIST + 1];
	size_t n;
};

static void add(struct list *l, const char *s)
{
	if (l->n < MAX_LIST)
		l->v[l->n++] = s;
}

static long long number(const char *s)
{
	return strtoll(s, NULL, 0);
}

/* The image's /etc/passwd and /etc/group, as the input gives them. */
struct etc_files {
	char *passwd, *group;
};

static char *append(char *text, const char *line)
{
	char *s = bt_strdup_printf("%s%s\n", text ? text : "", line);

	free(text);
	if (!s)
		abort();
	return s;
}

enum { L_ENV, L_ULIMIT, L_DEVICE, L_PUBLISH, L_LOGOPT, L_CAPADD, L_CAPDROP, L_LABEL, L_CMD, L_ENTRY, L_N };

/* One "name value" line into the options (value borrowed from the line). */
static void option(berth_container_create_opts *o, char *line, struct list *lists, struct etc_files *etc)
{
	char *value = strchr(line, ' ');

	if (!value)
		return;
	*value++ = '\0';
	if (!strcmp(line, "user"))
		o->user = value;
	else if (!strcmp(line, "workdir"))
		o->workdir = value;
	else if (!strcmp(line, "hostname"))
		o->hostname = value;
	else if (!strcmp(line, "restart"))
		o->restart = value;
	else if (!strcmp(line, "stop-signal"))
		o->stop_signal = value;
	else if (!strcmp(line, "health-cmd"))
		o->health_cmd = value;
	else if (!strcmp(line, "network"))
		o->network = !strcmp(value, "host") || !strcmp(value, "none") ? value : NULL;
	else if (!strcmp(line, "memory"))
		o->memory = number(value);
	else if (!strcmp(line, "memory-swap"))
		o->memory_swap = number(value);
	else if (!strcmp(line, "cpus"))
		o->nano_cpus = number(value);
	else if (!strcmp(line, "cpu-shares"))
		o->cpu_shares = number(value);
	else if (!strcmp(line, "pids-limit"))
		o->pids_limit = number(value);
	else if (!strcmp(line, "shm-size"))
		o->shm_size = number(value);
	else if (!strcmp(line, "flags")) {
		o->tty = !!strchr(value, 't');
		o->read_only = !!strchr(value, 'r');
		o->privileged = !!strchr(value, 'p');
		o->no_new_privileges = !!strchr(value, 'n');
		o->init = !!strchr(value, 'i');
		o->publish_all = !!strchr(value, 'P');
		o->no_healthcheck = !!strchr(value, 'H');
	} else if (!strcmp(line, "env"))
		add(&lists[L_ENV], value);
	else if (!strcmp(line, "ulimit"))
		add(&lists[L_ULIMIT], value);
	else if (!strcmp(line, "device"))
		add(&lists[L_DEVICE], value);
	else if (!strcmp(line, "publish"))
		add(&lists[L_PUBLISH], value);
	else if (!strcmp(line, "log-opt"))
		add(&lists[L_LOGOPT], value);
	else if (!strcmp(line, "cap-add"))
		add(&lists[L_CAPADD], value);
	else if (!strcmp(line, "cap-drop"))
		add(&lists[L_CAPDROP], value);
	else if (!strcmp(line, "label"))
		add(&lists[L_LABEL], value);
	else if (!strcmp(line, "cmd"))
		add(&lists[L_CMD], value);
	else if (!strcmp(line, "entrypoint"))
		add(&lists[L_ENTRY], value);
	else if (!strcmp(line, "passwd"))
		etc->passwd = append(etc->passwd, value);
	else if (!strcmp(line, "group"))
		etc->group = append(etc->group, value);
}

static berth_ctx *ctx;
static char *rootfs, *dir;

static void setup(void)
{
	ctx = fuzz_ctx();
	rootfs = bt_strdup_printf("%s/rootfs", fuzz_tmpdir());
	dir = bt_strdup_printf("%s/ct", fuzz_tmpdir());
	if (!rootfs || !dir || mkdir(dir, 0700) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	berth_container_create_opts o = BERTH_CONTAINER_CREATE_OPTS_INIT;
	struct list lists[L_N] = { 0 };
	struct etc_files etc = { 0 };
	char *text = fuzz_string(data, size), *pos = text, *config = NULL, *etcdir, *line;
	json_t *record, *spec = NULL;
	berth_error *err = NULL;

	if (!ctx)
		setup();
	while ((line = fuzz_line(&pos, &config)))
		option(&o, line, lists, &etc);
	o.env = lists[L_ENV].n ? lists[L_ENV].v : NULL;
	o.ulimits = lists[L_ULIMIT].n ? lists[L_ULIMIT].v : NULL;
	o.devices = lists[L_DEVICE].n ? lists[L_DEVICE].v : NULL;
	o.publish = lists[L_PUBLISH].n ? lists[L_PUBLISH].v : NULL;
	o.log_opts = lists[L_LOGOPT].n ? lists[L_LOGOPT].v : NULL;
	o.cap_add = lists[L_CAPADD].n ? lists[L_CAPADD].v : NULL;
	o.cap_drop = lists[L_CAPDROP].n ? lists[L_CAPDROP].v : NULL;
	o.labels = lists[L_LABEL].n ? lists[L_LABEL].v : NULL;
	o.cmd = lists[L_CMD].n ? lists[L_CMD].v : NULL;
	o.entrypoint = lists[L_ENTRY].n ? lists[L_ENTRY].v : NULL;
	o.seccomp = "unconfined"; /* profiles have their own target */
	/* a fresh rootfs each time: the working directory is made in it */
	etcdir = bt_strdup_printf("%s/etc", rootfs);
	if (bt_rm_rf(rootfs, NULL) < 0 || mkdir(rootfs, 0755) < 0 || mkdir(etcdir, 0755) < 0)
		abort();
	fuzz_write_file(etcdir, "passwd", etc.passwd ? etc.passwd : "", etc.passwd ? strlen(etc.passwd) : 0);
	fuzz_write_file(etcdir, "group", etc.group ? etc.group : "", etc.group ? strlen(etc.group) : 0);
	record = json_pack("{s:{s:s}}", "Config", "Image", "fuzz");
	if (bt_ct_spec_build(ctx, "0123456789ab0123456789ab0123456789ab0123456789ab0123456789abcdef", dir, rootfs,
			     config ? config : "{}", &o, record, &spec, &err) == 0) {
		FUZZ_CHECK(spec && json_is_object(json_object_get(spec, "process")));
		json_decref(spec);
	} else {
		FUZZ_CHECK(err && !spec);
		berth_error_free(err);
	}
	json_decref(record);
	free(etcdir);
	free(etc.passwd);
	free(etc.group);
	free(text);
	return 0;
}
