/* berth run, create, start, stop, kill, rm, ps, wait, logs, container inspect */
#define _GNU_SOURCE /* strptime, timegm */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "berth.h"

/* A Go duration ("30s", "1m30s", "500ms", "1h") in nanoseconds; -1 when bad. */
static long long parse_duration(const char *s)
{
	static const struct { const char *unit; long long ns; } units[] = {
		{ "ms", 1000000LL }, { "us", 1000LL }, { "ns", 1LL }, { "h", 3600000000000LL },
		{ "m", 60000000000LL }, { "s", 1000000000LL },
	};
	long long total = 0;

	if (!*s)
		return -1;
	while (*s) {
		char *end;
		double v = strtod(s, &end);
		size_t i;

		if (end == s || v < 0)
			return -1;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strncmp(end, units[i].unit, strlen(units[i].unit)))
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -1;
		total += (long long)(v * (double)units[i].ns);
		s = end + strlen(units[i].unit);
	}
	return total;
}

/* Reads KEY=VALUE lines of an --env-file into l (comments and blank lines
 * skipped, "KEY" alone taken from our environment as Docker does). */
static int env_file(const char *path, struct list *l)
{
	FILE *f = fopen(path, "r");
	char line[8192];

	if (!f) {
		fprintf(stderr, "berth: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (strchr(line, '=')) {
			list_add(l, strdup(line));
		} else if (getenv(line)) {
			char *kv = malloc(strlen(line) + strlen(getenv(line)) + 2);

			sprintf(kv, "%s=%s", line, getenv(line));
			list_add(l, kv);
		}
	}
	fclose(f);
	return 0;
}

#define CREATE_OPTIONS_USAGE \
	"Options:\n" \
	"      --cap-add list        add Linux capabilities\n" \
	"      --cap-drop list       drop Linux capabilities\n" \
	"      --cpu-shares int      CPU shares (relative weight)\n" \
	"      --cpus decimal        number of CPUs\n" \
	"      --add-host list       add a custom host-to-IP mapping (host:ip)\n" \
	"      --dns list            set custom DNS servers\n" \
	"      --dns-option list     set DNS options\n" \
	"      --dns-search list     set custom DNS search domains\n" \
	"      --device list         add a host device: /dev/x[:/dev/y][:rwm]\n" \
	"  -d, --detach              run in the background and print the container ID (run)\n" \
	"      --entrypoint string   overwrite the default ENTRYPOINT of the image\n" \
	"  -e, --env list            set environment variables\n" \
	"      --env-file list       read in a file of environment variables\n" \
	"      --help                show this help\n" \
	"      --health-cmd string   command to run to check health\n" \
	"      --health-interval d   time between running the check (30s)\n" \
	"      --health-retries int  consecutive failures needed to report unhealthy (3)\n" \
	"      --health-timeout d    maximum time to allow one check to run (30s)\n" \
	"      --hostname string     container host name\n" \
	"      --ip string           IPv4 address (user networks)\n" \
	"      --init                run an init inside the container that forwards signals and reaps processes\n" \
	"  -l, --label list          set meta data on a container\n" \
	"      --log-driver string   json-file (the only one)\n" \
	"      --log-opt list        json-file options: max-size=10m, max-file=3\n" \
	"  -m, --memory bytes        memory limit\n" \
	"      --memory-swap bytes   swap limit equal to memory plus swap: -1 unlimited\n" \
	"      --name string         assign a name to the container\n" \
	"      --network string      none (default), host, container:<name|id>, bridge or a network\n" \
	"      --network-alias list  add a network-scoped alias for the container (user networks)\n" \
	"      --no-healthcheck      disable any container-specified HEALTHCHECK\n" \
	"      --pids-limit int      tune container pids limit (-1 for unlimited)\n" \
	"      --privileged          give extended privileges to this container\n" \
	"  -p, --publish list        publish a container's port: [ip:][hostPort:]containerPort[/udp]\n" \
	"  -P, --publish-all         publish all exposed ports to free host ports\n" \
	"      --read-only           mount the container's root filesystem as read only\n" \
	"      --restart string      restart policy: no, always, unless-stopped, on-failure[:N]\n" \
	"      --rm                  automatically remove the container when it exits\n" \
	"      --security-opt list   no-new-privileges, seccomp=PROFILE.json, seccomp=unconfined\n" \
	"      --shm-size bytes      size of /dev/shm (default 64m)\n" \
	"      --stop-signal string  signal to stop the container\n" \
	"      --stop-timeout int    timeout (in seconds) to stop a container\n" \
	"  -i, --interactive         keep STDIN open even if not attached\n" \
	"  -t, --tty                 allocate a pseudo-TTY\n" \
	"      --tmpfs list          mount a tmpfs directory: /path[:options]\n" \
	"      --ulimit list         ulimit options: name=soft[:hard]\n" \
	"  -u, --user string         username or UID (format: <name|uid>[:<group|gid>])\n" \
	"  -v, --volume list         bind mount a volume: name:/path, /host:/path or /path [:ro|rw]\n" \
	"      --mount mount         attach a filesystem mount: type=volume|bind|tmpfs,source=,target=,...\n" \
	"      --volumes-from list   mount volumes from the specified container(s) [:ro|rw]\n" \
	"  -w, --workdir string      working directory inside the container\n"

enum {
	OPT_CAP_ADD = 256, OPT_CAP_DROP, OPT_CPU_SHARES, OPT_CPUS, OPT_ENTRYPOINT, OPT_ENV_FILE,
	OPT_HOSTNAME, OPT_MEMORY_SWAP, OPT_NAME, OPT_NETWORK, OPT_PIDS_LIMIT, OPT_PRIVILEGED,
	OPT_READ_ONLY, OPT_RM, OPT_SECURITY_OPT, OPT_STOP_SIGNAL, OPT_STOP_TIMEOUT,
	OPT_INIT, OPT_ULIMIT, OPT_DEVICE, OPT_SHM_SIZE, OPT_LOG_OPT,
	OPT_LOG_DRIVER, OPT_RESTART, OPT_HEALTH_CMD, OPT_HEALTH_INTERVAL, OPT_HEALTH_RETRIES,
	OPT_HEALTH_TIMEOUT, OPT_NO_HEALTHCHECK, OPT_MOUNT, OPT_TMPFS, OPT_VOLUMES_FROM,
	OPT_ADD_HOST, OPT_DNS, OPT_DNS_OPTION, OPT_DNS_SEARCH, OPT_IP, OPT_NETWORK_ALIAS,
};

static const struct option create_options[] = {
	{ "add-host", required_argument, NULL, OPT_ADD_HOST },
	{ "cap-add", required_argument, NULL, OPT_CAP_ADD },
	{ "cap-drop", required_argument, NULL, OPT_CAP_DROP },
	{ "cpu-shares", required_argument, NULL, OPT_CPU_SHARES },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "detach", no_argument, NULL, 'd' },
	{ "dns", required_argument, NULL, OPT_DNS },
	{ "dns-option", required_argument, NULL, OPT_DNS_OPTION },
	{ "dns-opt", required_argument, NULL, OPT_DNS_OPTION },
	{ "dns-search", required_argument, NULL, OPT_DNS_SEARCH },
	{ "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
	{ "env", required_argument, NULL, 'e' },
	{ "env-file", required_argument, NULL, OPT_ENV_FILE },
	{ "health-cmd", required_argument, NULL, OPT_HEALTH_CMD },
	{ "health-interval", required_argument, NULL, OPT_HEALTH_INTERVAL },
	{ "health-retries", required_argument, NULL, OPT_HEALTH_RETRIES },
	{ "health-timeout", required_argument, NULL, OPT_HEALTH_TIMEOUT },
	{ "hostname", required_argument, NULL, OPT_HOSTNAME },
	{ "interactive", no_argument, NULL, 'i' },
	{ "ip", required_argument, NULL, OPT_IP },
	{ "label", required_argument, NULL, 'l' },
	{ "log-driver", required_argument, NULL, OPT_LOG_DRIVER },
	{ "log-opt", required_argument, NULL, OPT_LOG_OPT },
	{ "memory", required_argument, NULL, 'm' },
	{ "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "network", required_argument, NULL, OPT_NETWORK },
	{ "network-alias", required_argument, NULL, OPT_NETWORK_ALIAS },
	{ "no-healthcheck", no_argument, NULL, OPT_NO_HEALTHCHECK },
	{ "net", required_argument, NULL, OPT_NETWORK },
	{ "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
	{ "privileged", no_argument, NULL, OPT_PRIVILEGED },
	{ "publish", required_argument, NULL, 'p' },
	{ "publish-all", no_argument, NULL, 'P' },
	{ "read-only", no_argument, NULL, OPT_READ_ONLY },
	{ "restart", required_argument, NULL, OPT_RESTART },
	{ "rm", no_argument, NULL, OPT_RM },
	{ "security-opt", required_argument, NULL, OPT_SECURITY_OPT },
	{ "stop-signal", required_argument, NULL, OPT_STOP_SIGNAL },
	{ "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
	{ "tty", no_argument, NULL, 't' },
	{ "user", required_argument, NULL, 'u' },
	{ "workdir", required_argument, NULL, 'w' },
	{ "init", no_argument, NULL, OPT_INIT },
	{ "ulimit", required_argument, NULL, OPT_ULIMIT },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "shm-size", required_argument, NULL, OPT_SHM_SIZE },
	{ "volume", required_argument, NULL, 'v' },
	{ "mount", required_argument, NULL, OPT_MOUNT },
	{ "tmpfs", required_argument, NULL, OPT_TMPFS },
	{ "volumes-from", required_argument, NULL, OPT_VOLUMES_FROM },
	CLI_HELP_OPTION,
	{ NULL, 0, NULL, 0 },
};

struct run_args {
	berth_container_create_opts o;
	struct list env, labels, cap_add, cap_drop, entrypoint, ulimits, devices, log_opts, publish;
	struct list volumes, mounts, tmpfs, volumes_from;
	struct list aliases, dns, dns_search, dns_options, add_hosts;
	bool detach, interactive;
};

static int bad_value(const char *flag, const char *value)
{
	fprintf(stderr, "berth: invalid argument \"%s\" for \"%s\" flag\n", value, flag);
	return 125;
}

/* One option of run/create into a; 0, or the exit status of a bad one. */
static int create_option(struct run_args *a, int opt)
{
	char *end;

	switch (opt) {
	case OPT_CAP_ADD: list_add(&a->cap_add, optarg); break;
	case OPT_CAP_DROP: list_add(&a->cap_drop, optarg); break;
	case OPT_CPU_SHARES:
		if ((a->o.cpu_shares = strtoll(optarg, &end, 10)) < 0 || *end)
			return bad_value("--cpu-shares", optarg);
		break;
	case OPT_CPUS: {
		double cpus = strtod(optarg, &end);

		if (*end || cpus <= 0)
			return bad_value("--cpus", optarg);
		a->o.nano_cpus = (long long)(cpus * 1e9);
		break;
	}
	case 'd': a->detach = true; break;
	case OPT_ENTRYPOINT:
		if (*optarg)
			list_add(&a->entrypoint, optarg);
		else if (!a->entrypoint.v)
			list_add(&a->entrypoint, NULL), a->entrypoint.n = 0;
		break;
	case 'e': list_add(&a->env, optarg); break;
	case OPT_ENV_FILE:
		if (env_file(optarg, &a->env) < 0)
			return 125;
		break;
	case OPT_HEALTH_CMD: a->o.health_cmd = optarg; break;
	case OPT_HEALTH_INTERVAL:
		if ((a->o.health_interval = parse_duration(optarg)) <= 0)
			return bad_value("--health-interval", optarg);
		break;
	case OPT_HEALTH_RETRIES:
		if ((a->o.health_retries = (int)strtol(optarg, &end, 10)) <= 0 || *end)
			return bad_value("--health-retries", optarg);
		break;
	case OPT_HEALTH_TIMEOUT:
		if ((a->o.health_timeout = parse_duration(optarg)) <= 0)
			return bad_value("--health-timeout", optarg);
		break;
	case OPT_NO_HEALTHCHECK: a->o.no_healthcheck = 1; break;
	case OPT_HOSTNAME: a->o.hostname = optarg; break;
	case 'i': a->interactive = true, a->o.open_stdin = 1; break;
	case 'l': list_add(&a->labels, optarg); break;
	case 'p': list_add(&a->publish, optarg); break;
	case 'P': a->o.publish_all = 1; break;
	case OPT_LOG_DRIVER:
		if (strcmp(optarg, "json-file"))
			return bad_value("--log-driver", optarg);
		break;
	case OPT_LOG_OPT: list_add(&a->log_opts, optarg); break;
	case 'm':
		if ((a->o.memory = cli_bytes(optarg)) < 0)
			return bad_value("--memory", optarg);
		break;
	case OPT_MEMORY_SWAP:
		if (!strcmp(optarg, "-1"))
			a->o.memory_swap = -1;
		else if ((a->o.memory_swap = cli_bytes(optarg)) < 0)
			return bad_value("--memory-swap", optarg);
		break;
	case OPT_NAME: a->o.name = optarg; break;
	case OPT_NETWORK: a->o.network = optarg; break;
	case OPT_PIDS_LIMIT:
		a->o.pids_limit = strtoll(optarg, &end, 10);
		if (*end || a->o.pids_limit < -1)
			return bad_value("--pids-limit", optarg);
		break;
	case OPT_PRIVILEGED: a->o.privileged = 1; break;
	case OPT_READ_ONLY: a->o.read_only = 1; break;
	case OPT_RESTART: a->o.restart = optarg; break;
	case OPT_RM: a->o.auto_remove = 1; break;
	case OPT_SECURITY_OPT:
		/* Docker takes "seccomp=" and the older "seccomp:" */
		if (!strncmp(optarg, "seccomp=", 8) || !strncmp(optarg, "seccomp:", 8))
			a->o.seccomp = optarg + 8;
		else if (strcmp(optarg, "no-new-privileges") && strcmp(optarg, "no-new-privileges:true") &&
			 strcmp(optarg, "no-new-privileges=true"))
			return bad_value("--security-opt", optarg);
		else
			a->o.no_new_privileges = 1;
		break;
	case OPT_INIT: a->o.init = 1; break;
	case OPT_ULIMIT: list_add(&a->ulimits, optarg); break;
	case OPT_DEVICE: list_add(&a->devices, optarg); break;
	case OPT_SHM_SIZE:
		if ((a->o.shm_size = cli_bytes(optarg)) <= 0)
			return bad_value("--shm-size", optarg);
		break;
	case OPT_STOP_SIGNAL: a->o.stop_signal = optarg; break;
	case OPT_STOP_TIMEOUT:
		a->o.stop_timeout = (int)strtol(optarg, &end, 10);
		if (*end)
			return bad_value("--stop-timeout", optarg);
		break;
	case 't': a->o.tty = 1; break;
	case 'u': a->o.user = optarg; break;
	case 'w': a->o.workdir = optarg; break;
	case 'v': list_add(&a->volumes, optarg); break;
	case OPT_MOUNT: list_add(&a->mounts, optarg); break;
	case OPT_TMPFS: list_add(&a->tmpfs, optarg); break;
	case OPT_VOLUMES_FROM: list_add(&a->volumes_from, optarg); break;
	case OPT_NETWORK_ALIAS: list_add(&a->aliases, optarg); break;
	case OPT_IP: a->o.ip = optarg; break;
	case OPT_DNS: list_add(&a->dns, optarg); break;
	case OPT_DNS_SEARCH: list_add(&a->dns_search, optarg); break;
	case OPT_DNS_OPTION: list_add(&a->dns_options, optarg); break;
	case OPT_ADD_HOST: list_add(&a->add_hosts, optarg); break;
	default: return cli_opt_status(opt);
	}
	return 0;
}

static void run_args_free(struct run_args *a)
{
	free(a->env.v);
	free(a->labels.v);
	free(a->cap_add.v);
	free(a->cap_drop.v);
	free(a->entrypoint.v);
	free(a->ulimits.v);
	free(a->devices.v);
	free(a->log_opts.v);
	free(a->volumes.v);
	free(a->mounts.v);
	free(a->tmpfs.v);
	free(a->volumes_from.v);
	free(a->publish.v);
	free(a->aliases.v);
	free(a->dns.v);
	free(a->dns_search.v);
	free(a->dns_options.v);
	free(a->add_hosts.v);
}

/* Parses run/create's options and IMAGE [COMMAND...]; 0 or an exit status. */
static int parse_create(int argc, char **argv, const char *usage, const char *name, struct run_args *a)
{
	berth_container_create_opts init = BERTH_CONTAINER_CREATE_OPTS_INIT;
	int opt, rc;

	memset(a, 0, sizeof(*a));
	a->o = init;
	optind = 0;
	/* "+": options end at the image; what follows is the command's */
	while ((opt = cli_getopt(argc, argv, "+de:il:m:p:Ptu:v:w:", create_options, usage)) != -1)
		if ((rc = create_option(a, opt)))
			return rc;
	if (cli_args(argc, 1, -1, name, usage))
		return 125;
	a->o.env = a->env.v;
	a->o.labels = a->labels.v;
	a->o.cap_add = a->cap_add.v;
	a->o.cap_drop = a->cap_drop.v;
	a->o.entrypoint = a->entrypoint.v;
	a->o.ulimits = a->ulimits.v;
	a->o.devices = a->devices.v;
	a->o.log_opts = a->log_opts.v;
	a->o.volumes = a->volumes.v;
	a->o.mounts = a->mounts.v;
	a->o.tmpfs = a->tmpfs.v;
	a->o.volumes_from = a->volumes_from.v;
	a->o.publish = a->publish.v;
	a->o.network_aliases = a->aliases.v;
	a->o.dns = a->dns.v;
	a->o.dns_search = a->dns_search.v;
	a->o.dns_options = a->dns_options.v;
	a->o.add_hosts = a->add_hosts.v;
	if (optind + 1 < argc)
		a->o.cmd = (const char *const *)argv + optind + 1;
	return 0;
}

/* Docker's exit status for a failed start: 127 for a missing command, 126
 * for one that cannot run, else 125. */
int cli_start_status(berth_error *err)
{
	int code = berth_error_code(err);

	cli_fail(err);
	return code == BERTH_ENOTFOUND ? 127 : code == BERTH_EPERM ? 126 : 125;
}

static const char create_usage[] =
	"Usage: berth create [OPTIONS] IMAGE [COMMAND] [ARG...]\n"
	"\n"
	"Create a new container\n"
	"\n" CREATE_OPTIONS_USAGE;

int cmd_create(struct cli *cli, int argc, char **argv)
{
	struct run_args a;
	berth_error *err = NULL;
	berth_ctx *ctx;
	char *id;
	int rc;

	if ((rc = parse_create(argc, argv, create_usage, "create", &a)) || !(ctx = cli_context(cli))) {
		run_args_free(&a);
		return rc ? rc : 125;
	}
	if (berth_container_create(ctx, argv[optind], &a.o, &id, &err) < 0) {
		rc = 125;
		cli_fail(err);
	} else {
		printf("%s\n", id);
		berth_string_free(id);
	}
	run_args_free(&a);
	berth_ctx_free(ctx);
	return rc;
}

/* Signals the CLI gets while a container runs in the foreground go to the
 * container (Docker's --sig-proxy): a thread waits for them. */
struct proxy {
	berth_ctx *ctx;
	const char *id;
	sigset_t set;
};

static void *proxy_signals(void *arg)
{
	struct proxy *p = arg;
	int sig;

	while (sigwait(&p->set, &sig) == 0)
		berth_container_kill(p->ctx, p->id, sig, NULL);
	return NULL;
}

/* Starts id on our stdout and stderr (and stdin with -i, else /dev/null
 * as Docker gives) and waits for it; the container's exit status. */
static int run_attached(berth_ctx *ctx, const char *id, bool interactive, bool auto_remove)
{
	const int stdio[3] = { interactive ? 0 : -1, 1, 2 };
	berth_container_start_opts so = BERTH_CONTAINER_START_OPTS_INIT;
	berth_container_exit how = BERTH_CONTAINER_EXIT_INIT;
	struct proxy p = { .ctx = ctx, .id = id };
	berth_error *err = NULL;
	pthread_t thread;
	int status;

	sigemptyset(&p.set);
	sigaddset(&p.set, SIGINT);
	sigaddset(&p.set, SIGTERM);
	sigaddset(&p.set, SIGHUP);
	sigaddset(&p.set, SIGQUIT);
	sigaddset(&p.set, SIGUSR1);
	sigaddset(&p.set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &p.set, NULL);
	pthread_create(&thread, NULL, proxy_signals, &p);
	so.stdio = stdio;
	if (berth_container_start(ctx, id, &so, &err) < 0)
		status = cli_start_status(err), err = NULL;
	else if (berth_container_wait(ctx, id, -1, &how, &err) < 0)
		status = 125, cli_fail(err), err = NULL;
	else
		status = how.code < 0 ? 125 : how.code;
	pthread_cancel(thread);
	pthread_join(thread, NULL);
	if (auto_remove && berth_container_remove(ctx, id, BERTH_CONTAINER_REMOVE_FORCE | BERTH_CONTAINER_REMOVE_VOLUMES, &err) < 0)
		cli_fail(err);
	return status;
}

static const char run_usage[] =
	"Usage: berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n"
	"\n"
	"Create and run a new container from an image\n"
	"\n" CREATE_OPTIONS_USAGE;

int cmd_run(struct cli *cli, int argc, char **argv)
{
	struct run_args a;
	berth_error *err = NULL;
	berth_ctx *ctx;
	char *id = NULL;
	int rc;

	if ((rc = parse_create(argc, argv, run_usage, "run", &a)))
		goto out_args;
	if (!(ctx = cli_context(cli))) {
		rc = 125;
		goto out_args;
	}
	if (berth_container_create(ctx, argv[optind], &a.o, &id, &err) < 0) {
		rc = 125;
		cli_fail(err);
	} else if (a.detach) {
		if (berth_container_start(ctx, id, NULL, &err) < 0) {
			rc = cli_start_status(err);
			if (a.o.auto_remove)
				berth_container_remove(ctx, id, BERTH_CONTAINER_REMOVE_FORCE | BERTH_CONTAINER_REMOVE_VOLUMES, NULL);
		} else {
			printf("%s\n", id);
		}
	} else if (a.o.tty) {
		rc = cli_run_terminal(ctx, id, a.interactive, a.o.auto_remove);
	} else {
		rc = run_attached(ctx, id, a.interactive, a.o.auto_remove);
	}
	berth_string_free(id);
	berth_ctx_free(ctx);
out_args:
	run_args_free(&a);
	return rc;
}

/* ---- commands on existing containers --------------------------------------- */

/* Runs fn on each named container, printing the name of each done (as
 * Docker does) and the error of each failed; 1 when any failed. */
static int each(struct cli *cli, int argc, char **argv, bool print,
		int (*fn)(berth_ctx *, const char *, long, berth_error **), long arg)
{
	berth_error *err = NULL;
	berth_ctx *ctx = cli_context(cli);
	int status = 0;

	if (!ctx)
		return 125;
	for (int i = optind; i < argc; i++) {
		if (fn(ctx, argv[i], arg, &err) < 0) {
			status = 1;
			cli_fail(err);
			err = NULL;
		} else if (print) {
			printf("%s\n", argv[i]);
		}
	}
	berth_ctx_free(ctx);
	return status;
}

static int do_start(berth_ctx *ctx, const char *name, long arg, berth_error **err)
{
	(void)arg;
	return berth_container_start(ctx, name, NULL, err);
}

static int do_stop(berth_ctx *ctx, const char *name, long timeout, berth_error **err)
{
	return berth_container_stop(ctx, name, (int)timeout, err);
}

static int do_kill(berth_ctx *ctx, const char *name, long sig, berth_error **err)
{
	return berth_container_kill(ctx, name, (int)sig, err);
}

static int do_rm(berth_ctx *ctx, const char *name, long flags, berth_error **err)
{
	return berth_container_remove(ctx, name, (int)flags, err);
}

static const char start_usage[] =
	"Usage: berth start CONTAINER [CONTAINER...]\n"
	"\n"
	"Start one or more stopped containers (detached)\n"
	"\n"
	"Options:\n"
	"      --help   show this help\n";

int cmd_start(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = { CLI_HELP_OPTION, { NULL, 0, NULL, 0 } };
	int opt;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "", options, start_usage)) != -1)
		return cli_opt_status(opt);
	if (cli_args(argc, 1, -1, "start", start_usage))
		return 125;
	return each(cli, argc, argv, true, do_start, 0);
}

static const char stop_usage[] =
	"Usage: berth stop [OPTIONS] CONTAINER [CONTAINER...]\n"
	"\n"
	"Stop one or more running containers\n"
	"\n"
	"Options:\n"
	"      --help       show this help\n"
	"  -t, --time int   seconds to wait before killing the container\n";

int cmd_stop(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "time", required_argument, NULL, 't' }, CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	long timeout = -1;
	char *end;
	int opt;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "t:", options, stop_usage)) != -1) {
		if (opt != 't')
			return cli_opt_status(opt);
		if ((timeout = strtol(optarg, &end, 10)) < 0 || *end)
			return bad_value("--time", optarg);
	}
	if (cli_args(argc, 1, -1, "stop", stop_usage))
		return 125;
	return each(cli, argc, argv, true, do_stop, timeout);
}

static int signal_of(const char *s)
{
	static const struct { const char *name; int sig; } names[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "STOP", SIGSTOP },
		{ "CONT", SIGCONT }, { "WINCH", SIGWINCH },
	};
	char *end;
	long n = strtol(s, &end, 10);

	if (!*end)
		return n > 0 && n < 65 ? (int)n : 0;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i].name))
			return names[i].sig;
	return 0;
}

static const char kill_usage[] =
	"Usage: berth kill [OPTIONS] CONTAINER [CONTAINER...]\n"
	"\n"
	"Kill one or more running containers\n"
	"\n"
	"Options:\n"
	"      --help            show this help\n"
	"  -s, --signal string   signal to send to the container (default \"KILL\")\n";

int cmd_kill(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "signal", required_argument, NULL, 's' }, CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	int opt, sig = SIGKILL;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "s:", options, kill_usage)) != -1) {
		if (opt != 's')
			return cli_opt_status(opt);
		if (!(sig = signal_of(optarg)))
			return bad_value("--signal", optarg);
	}
	if (cli_args(argc, 1, -1, "kill", kill_usage))
		return 125;
	return each(cli, argc, argv, true, do_kill, sig);
}

static const char rm_usage[] =
	"Usage: berth rm [OPTIONS] CONTAINER [CONTAINER...]\n"
	"\n"
	"Remove one or more containers\n"
	"\n"
	"Options:\n"
	"  -f, --force     force the removal of a running container (uses SIGKILL)\n"
	"  -v, --volumes   remove anonymous volumes associated with the container\n"
	"      --help      show this help\n";

int cmd_rm(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "force", no_argument, NULL, 'f' }, { "volumes", no_argument, NULL, 'v' },
		CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	int opt, flags = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "fv", options, rm_usage)) != -1) {
		if (opt == 'f')
			flags |= BERTH_CONTAINER_REMOVE_FORCE;
		else if (opt == 'v')
			flags |= BERTH_CONTAINER_REMOVE_VOLUMES;
		else
			return cli_opt_status(opt);
	}
	if (cli_args(argc, 1, -1, "rm", rm_usage))
		return 125;
	return each(cli, argc, argv, true, do_rm, flags);
}

static const char wait_usage[] =
	"Usage: berth wait CONTAINER [CONTAINER...]\n"
	"\n"
	"Block until one or more containers stop, then print their exit codes\n"
	"\n"
	"Options:\n"
	"      --help   show this help\n";

int cmd_wait(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = { CLI_HELP_OPTION, { NULL, 0, NULL, 0 } };
	berth_error *err = NULL;
	berth_ctx *ctx;
	int opt, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "", options, wait_usage)) != -1)
		return cli_opt_status(opt);
	if (cli_args(argc, 1, -1, "wait", wait_usage) || !(ctx = cli_context(cli)))
		return 125;
	for (int i = optind; i < argc; i++) {
		berth_container_exit how = BERTH_CONTAINER_EXIT_INIT;

		if (berth_container_wait(ctx, argv[i], -1, &how, &err) < 0) {
			status = 1;
			cli_fail(err);
			err = NULL;
		} else {
			printf("%d\n", how.code);
		}
	}
	berth_ctx_free(ctx);
	return status;
}

/* ---- inspect, ps, logs -------------------------------------------------------- */

/* The container's inspect document, parsed; NULL after printing the error. */
static json_t *inspect(berth_ctx *ctx, const char *name)
{
	berth_error *err = NULL;
	char *text;
	json_t *doc;

	if (berth_container_inspect(ctx, name, &text, &err) < 0) {
		cli_fail(err);
		return NULL;
	}
	doc = json_loads(text, 0, NULL);
	berth_string_free(text);
	return doc;
}

static const char inspect_usage[] =
	"Usage: berth container inspect [OPTIONS] CONTAINER [CONTAINER...]\n"
	"\n"
	"Display detailed information on one or more containers\n"
	"\n"
	"Options:\n"
	"  -f, --format string   format the output using the given Go template\n"
	"      --help            show this help\n";

int cmd_container_inspect(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, 'f' }, CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	const char *format = NULL;
	berth_ctx *ctx;
	json_t *docs;
	int opt, status = 0;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "f:", options, inspect_usage)) != -1) {
		if (opt != 'f')
			return cli_opt_status(opt);
		format = optarg;
	}
	if (cli_args(argc, 1, -1, "inspect", inspect_usage) || !(ctx = cli_context(cli)))
		return 125;
	docs = json_array();
	for (int i = optind; i < argc; i++) {
		json_t *doc = inspect(ctx, argv[i]);

		if (doc)
			json_array_append_new(docs, doc);
		else
			status = 1;
	}
	if (format) {
		if (cli_print_rows(format, NULL, NULL, json_incref(docs)))
			status = 1;
	} else {
		char *text = json_dumps(docs, JSON_INDENT(4) | JSON_PRESERVE_ORDER);

		printf("%s\n", text ? text : "[]");
		free(text);
	}
	json_decref(docs);
	berth_ctx_free(ctx);
	return status;
}

/* berth inspect: containers when every name is one, else images (Docker
 * looks each name up as either; mixing both in one call is rare). */
int cmd_inspect(struct cli *cli, int argc, char **argv)
{
	berth_ctx *ctx = cli_context(cli);
	bool containers = ctx != NULL;

	for (int i = 1; ctx && i < argc; i++) {
		char *text;

		if (argv[i][0] == '-') {
			if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--format"))
				i++;
			continue;
		}
		if (berth_container_inspect(ctx, argv[i], &text, NULL) < 0)
			containers = false;
		else
			berth_string_free(text);
	}
	berth_ctx_free(ctx);
	return containers ? cmd_container_inspect(cli, argc, argv) : cmd_image_inspect(cli, argc, argv);
}

/* Docker's STATUS column: "Up 5 seconds", "Exited (0) 2 minutes ago", "Created". */
static void status_text(const json_t *state, time_t now, char *buf, size_t len)
{
	const char *status = json_string_value(json_object_get(state, "Status"));
	char since[64];

	if (!status || !strcmp(status, "created")) {
		snprintf(buf, len, "Created");
	} else if (!strcmp(status, "running") || !strcmp(status, "paused")) {
		fmt_since(json_string_value(json_object_get(state, "StartedAt")), now, since, sizeof(since));
		/* "3 seconds ago" -> "Up 3 seconds" */
		if (strlen(since) > 4 && !strcmp(since + strlen(since) - 4, " ago"))
			since[strlen(since) - 4] = '\0';
		snprintf(buf, len, "Up %s%s", since, !strcmp(status, "paused") ? " (Paused)" : "");
	} else {
		fmt_since(json_string_value(json_object_get(state, "FinishedAt")), now, since, sizeof(since));
		snprintf(buf, len, "%s (%lld) %s", !strcmp(status, "restarting") ? "Restarting" : "Exited",
			 (long long)json_integer_value(json_object_get(state, "ExitCode")), since);
	}
}

static json_t *ps_row(const json_t *doc, bool trunc, time_t now)
{
	const json_t *state = json_object_get(doc, "State"), *args = json_object_get(doc, "Args");
	const char *id = json_string_value(json_object_get(doc, "Id")), *name;
	char command[512], status[128], created[64];
	size_t n, i;
	json_t *a;

	n = (size_t)snprintf(command, sizeof(command), "%s", json_string_value(json_object_get(doc, "Path")));
	json_array_foreach(args, i, a)
		if (n < sizeof(command))
			n += (size_t)snprintf(command + n, sizeof(command) - n, " %s", json_string_value(a));
	if (trunc && strlen(command) > 20)
		strcpy(command + 19, "…");
	name = json_string_value(json_object_get(doc, "Name"));
	status_text(state, now, status, sizeof(status));
	fmt_since(json_string_value(json_object_get(doc, "Created")), now, created, sizeof(created));
	return json_pack("{s:s%, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id, trunc ? (size_t)12 : strlen(id),
			 "Image", json_string_value(json_object_get(json_object_get(doc, "Config"), "Image")),
			 "Command", command, "RunningFor", created, "Status", status, "State",
			 json_string_value(json_object_get(state, "Status")), "Ports", "", "Names",
			 name && name[0] == '/' ? name + 1 : name ? name : "");
}

static int by_created(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;

	/* newest first, as docker ps lists */
	return strcmp(json_string_value(json_object_get(y, "Created")),
		      json_string_value(json_object_get(x, "Created")));
}

static const struct fmt_header ps_headers[] = {
	{ "ID", "CONTAINER ID" }, { "RunningFor", "CREATED" }, { NULL, NULL },
};

static const char ps_usage[] =
	"Usage: berth ps [OPTIONS]\n"
	"\n"
	"List containers\n"
	"\n"
	"Options:\n"
	"  -a, --all             show all containers (default shows just running)\n"
	"  -f, --filter filter   filter output based on conditions provided (name=, id=,\n"
	"                        status=, exited=, label=KEY[=VALUE], ancestor=IMAGE,\n"
	"                        before=CONTAINER, since=CONTAINER, health=)\n"
	"      --format string   Go template, \"table TEMPLATE\" or \"json\"\n"
	"      --help            show this help\n"
	"  -n, --last int        show n last created containers (includes all states)\n"
	"  -l, --latest          show the latest created container (includes all states)\n"
	"      --no-trunc        don't truncate output\n"
	"  -q, --quiet           only display container IDs\n";

int cmd_ps(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "all", no_argument, NULL, 'a' }, { "filter", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, 'F' }, { "last", required_argument, NULL, 'n' },
		{ "latest", no_argument, NULL, 'l' }, { "no-trunc", no_argument, NULL, 'T' },
		{ "quiet", no_argument, NULL, 'q' }, CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	char **filters = calloc((size_t)argc + 1, sizeof(*filters)), *end;
	size_t nfilters = 0;
	long last = -1;
	bool all = false, trunc = true;
	const char *format = NULL;
	berth_error *err = NULL;
	char **ids;
	size_t count, n = 0;
	json_t **docs, *rows;
	berth_ctx *ctx;
	int opt, rc;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "af:ln:q", options, ps_usage)) != -1) {
		if (opt == 'a') {
			all = true;
		} else if (opt == 'f') {
			filters[nfilters++] = optarg;
			/* Docker: a status filter lists what it names, running or not */
			all |= !strncmp(optarg, "status=", 7) || !strncmp(optarg, "exited=", 7);
		} else if (opt == 'F') {
			format = optarg;
		} else if (opt == 'n' || opt == 'l') {
			last = opt == 'l' ? 1 : strtol(optarg, &end, 10);
			if (opt == 'n' && (*end || last < -1)) {
				free(filters);
				fprintf(stderr, "berth: invalid argument \"%s\" for \"--last\" flag\n", optarg);
				return 125;
			}
			all |= last >= 0;
		} else if (opt == 'T') {
			trunc = false;
		} else if (opt == 'q') {
			format = "{{.ID}}";
		} else {
			free(filters);
			return cli_opt_status(opt);
		}
	}
	if (cli_args(argc, 0, 0, "ps", ps_usage) || !(ctx = cli_context(cli))) {
		free(filters);
		return 125;
	}
	if (ps_filter_check(ctx, filters, nfilters)) {
		free(filters);
		berth_ctx_free(ctx);
		return 1;
	}
	if (berth_container_ids(ctx, &ids, &count, &err) < 0) {
		free(filters);
		berth_ctx_free(ctx);
		return cli_fail(err);
	}
	docs = calloc(count + 1, sizeof(*docs));
	for (size_t i = 0; i < count; i++) {
		json_t *doc = NULL;
		char *text;

		/* one removed meanwhile is simply not listed */
		if (berth_container_inspect(ctx, ids[i], &text, NULL) == 0) {
			doc = json_loads(text, 0, NULL);
			berth_string_free(text);
		}
		if (doc && (all || json_is_true(json_object_get(json_object_get(doc, "State"), "Running"))) &&
		    ps_filter_match(ctx, doc, filters, nfilters))
			docs[n++] = doc;
		else
			json_decref(doc);
	}
	qsort(docs, n, sizeof(*docs), by_created);
	rows = json_array();
	for (size_t i = 0; i < n; i++) {
		if (last < 0 || i < (size_t)last)
			json_array_append_new(rows, ps_row(docs[i], trunc, time(NULL)));
		json_decref(docs[i]);
	}
	free(docs);
	free(filters);
	rc = cli_print_rows(format,
			    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
			    ps_headers, rows);
	berth_container_ids_free(ids, count);
	berth_ctx_free(ctx);
	return rc;
}

/* A log line (json-file) printed as Docker does, to its stream. */
static void print_line(const char *line, bool timestamps)
{
	json_t *o = json_loads(line, 0, NULL);
	const char *text = json_string_value(json_object_get(o, "log"));
	FILE *out = !strcmp(json_string_value(json_object_get(o, "stream")) ?: "", "stderr") ? stderr : stdout;

	if (text) {
		if (timestamps)
			fprintf(out, "%s ", json_string_value(json_object_get(o, "time")));
		fputs(text, out);
		fflush(out);
	}
	json_decref(o);
}

/* Whether the line's time is at or after since ("" : always); both RFC 3339
 * UTC with nanoseconds, so they compare as text. */
static bool line_since(const char *line, const char *since)
{
	const char *t = strstr(line, "\"time\":\"");

	return !*since || (t && strncmp(t + 8, since, strlen(since)) >= 0);
}

/* Appends the whole lines of path from *offset on to lines (those since
 * since); *offset moves past them. */
static void read_log(const char *path, long *offset, const char *since, json_t *lines)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	if (ftell(f) < *offset)
		*offset = 0; /* rotated meanwhile: a new file */
	fseek(f, *offset, SEEK_SET);
	while (getline(&line, &cap, f) > 0 && strchr(line, '\n')) {
		if (line_since(line, since))
			json_array_append_new(lines, json_string(line));
		*offset = ftell(f);
	}
	free(line);
	fclose(f);
}

/* --since as RFC 3339 UTC with nanoseconds: an RFC 3339 time, Unix
 * seconds, or a duration back from now ("10m", "90s", "2h"); "" when empty. */
static int since_time(const char *arg, char *out, size_t len)
{
	struct tm tm = { 0 };
	double v;
	char *end, date[32];
	time_t t;
	long ns = 0;

	*out = '\0';
	if (!arg || !*arg)
		return 0;
	v = strtod(arg, &end);
	if (end != arg && (!*end || !strcmp(end, "s") || !strcmp(end, "m") || !strcmp(end, "h"))) {
		double secs = *end == 'm' ? v * 60 : *end == 'h' ? v * 3600 : v;

		if (*end) { /* a duration */
			struct timespec now;

			clock_gettime(CLOCK_REALTIME, &now);
			secs = (double)now.tv_sec + now.tv_nsec / 1e9 - secs;
		}
		t = (time_t)secs;
		ns = (long)((secs - (double)t) * 1e9);
	} else if ((end = strptime(arg, "%Y-%m-%dT%H:%M:%S", &tm))) {
		t = timegm(&tm);
		if (*end == '.')
			ns = (long)(strtod(end, NULL) * 1e9);
	} else {
		return -1;
	}
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%09ldZ", date, ns);
	return 0;
}

static const char logs_usage[] =
	"Usage: berth logs [OPTIONS] CONTAINER\n"
	"\n"
	"Fetch the logs of a container\n"
	"\n"
	"Options:\n"
	"  -f, --follow         follow log output\n"
	"      --help           show this help\n"
	"      --since string   show logs since a timestamp (2013-01-02T13:23:37Z) or relative (42m)\n"
	"  -n, --tail string    number of lines to show from the end of the logs (default \"all\")\n"
	"  -t, --timestamps     show timestamps\n";

/* The whole log, rotated files (oldest first) and the current one, as
 * lines; *offset is then the end of the current file. */
static json_t *read_all_logs(const char *path, long *offset, const char *since)
{
	json_t *lines = json_array();
	size_t len = strlen(path) + 16;
	char *rotated = malloc(len);
	int n = 1;

	while (snprintf(rotated, len, "%s.%d", path, n), access(rotated, F_OK) == 0)
		n++;
	while (--n > 0) {
		long zero = 0;

		snprintf(rotated, len, "%s.%d", path, n);
		read_log(rotated, &zero, since, lines);
	}
	free(rotated);
	*offset = 0;
	read_log(path, offset, since, lines);
	return lines;
}

int cmd_logs(struct cli *cli, int argc, char **argv)
{
	enum { OPT_SINCE = 256 };
	static const struct option options[] = {
		{ "follow", no_argument, NULL, 'f' }, { "since", required_argument, NULL, OPT_SINCE },
		{ "tail", required_argument, NULL, 'n' }, { "timestamps", no_argument, NULL, 't' },
		CLI_HELP_OPTION, { NULL, 0, NULL, 0 },
	};
	bool follow = false, timestamps = false;
	char since[64] = "", *end;
	long tail = -1, offset = 0;
	const char *path;
	json_t *doc, *lines;
	berth_ctx *ctx;
	int opt;

	optind = 0;
	while ((opt = cli_getopt(argc, argv, "fn:t", options, logs_usage)) != -1) {
		if (opt == 'f')
			follow = true;
		else if (opt == 't')
			timestamps = true;
		else if (opt == 'n' && strcmp(optarg, "all") && ((tail = strtol(optarg, &end, 10)) < 0 || *end))
			return bad_value("--tail", optarg);
		else if (opt == OPT_SINCE && since_time(optarg, since, sizeof(since)) < 0)
			return bad_value("--since", optarg);
		else if (opt != 'n' && opt != OPT_SINCE)
			return cli_opt_status(opt);
	}
	if (cli_args(argc, 1, 1, "logs", logs_usage) || !(ctx = cli_context(cli)))
		return 125;
	if (!(doc = inspect(ctx, argv[optind]))) {
		berth_ctx_free(ctx);
		return 1;
	}
	path = json_string_value(json_object_get(doc, "LogPath"));
	lines = read_all_logs(path, &offset, since);
	for (size_t i = tail >= 0 && json_array_size(lines) > (size_t)tail ? json_array_size(lines) - (size_t)tail : 0;
	     i < json_array_size(lines); i++)
		print_line(json_string_value(json_array_get(lines, i)), timestamps);
	json_decref(lines);
	while (follow) {
		json_t *now = inspect(ctx, argv[optind]);
		bool running = now && json_is_true(json_object_get(json_object_get(now, "State"), "Running"));

		json_decref(now);
		lines = json_array();
		read_log(path, &offset, since, lines);
		for (size_t i = 0; i < json_array_size(lines); i++)
			print_line(json_string_value(json_array_get(lines, i)), timestamps);
		json_decref(lines);
		if (!running)
			break;
		usleep(100 * 1000);
	}
	json_decref(doc);
	berth_ctx_free(ctx);
	return 0;
}

int cmd_container(struct cli *cli, int argc, char **argv)
{
	static const struct command subs[] = {
		{ "attach", "attach to a running container's stdio", cmd_attach },
		{ "commit", "create a new image from a container's changes", cmd_commit },
		{ "cp", "copy files/folders between a container and the local filesystem", cmd_cp },
		{ "create", "create a new container", cmd_create },
		{ "diff", "inspect changes to files or directories on a container's filesystem", cmd_diff },
		{ "exec", "execute a command in a running container", cmd_exec },
		{ "export", "export a container's filesystem as a tar archive", cmd_export },
		{ "inspect", "display detailed information on one or more containers", cmd_container_inspect },
		{ "kill", "kill one or more running containers", cmd_kill },
		{ "logs", "fetch the logs of a container", cmd_logs },
		{ "ls", "list containers", cmd_ps },
		{ "list", NULL, cmd_ps },
		{ "pause", "pause all processes within one or more containers", cmd_pause },
		{ "prune", "remove all stopped containers", cmd_container_prune },
		{ "ps", NULL, cmd_ps },
		{ "rename", "rename a container", cmd_rename },
		{ "restart", "restart one or more containers", cmd_restart },
		{ "rm", "remove one or more containers", cmd_rm },
		{ "run", "create and run a new container from an image", cmd_run },
		{ "start", "start one or more stopped containers", cmd_start },
		{ "stats", "display a live stream of container(s) resource usage statistics", cmd_stats },
		{ "stop", "stop one or more running containers", cmd_stop },
		{ "top", "display the running processes of a container", cmd_top },
		{ "unpause", "unpause all processes within one or more containers", cmd_unpause },
		{ "update", "update configuration of one or more containers", cmd_update },
		{ "wait", "block until one or more containers stop, then print their exit codes", cmd_wait },
		{ NULL, NULL, NULL },
	};

	return cli_group(cli, argc, argv, subs, "Manage containers");
}
