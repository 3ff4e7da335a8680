/* run-image: a command in a container made from an image in the store, the
 * way an engine built on libberth does it: a snapshot of the image's layers
 * (unpacked on first use), a runtime-spec config pointing at it, and the
 * runtime to create, start, wait for and delete the container.
 *
 *     run-image STORE_ROOT IMAGE [COMMAND [ARG...]]
 *
 * Needs root (mounts, namespaces, cgroups). Exits with the command's status. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include <berth/berth.h>

/* The runtime's default config with our root file system and command. */
static char *make_config(const char *rootfs, char **command, berth_error **err)
{
	char *spec = NULL, *text = NULL;
	json_t *config, *args;

	if (berth_runtime_spec_default(0, &spec, err) < 0)
		return NULL;
	config = json_loads(spec, 0, NULL);
	berth_string_free(spec);
	if (!config)
		return NULL;
	args = json_array();
	for (; *command; command++)
		json_array_append_new(args, json_string(*command));
	json_object_set_new(json_object_get(config, "root"), "path", json_string(rootfs));
	json_object_set_new(json_object_get(config, "root"), "readonly", json_false());
	json_object_set_new(json_object_get(config, "process"), "args", args);
	json_object_set_new(json_object_get(config, "process"), "terminal", json_false());
	json_object_set_new(config, "hostname", json_string("run-image"));
	text = json_dumps(config, JSON_COMPACT);
	json_decref(config);
	return text;
}

int main(int argc, char **argv)
{
	static char *default_command[] = { "/bin/sh", "-c", "echo hello from $(hostname)", NULL };
	berth_ctx_opts ctx_opts = BERTH_CTX_OPTS_INIT;
	berth_runtime_opts rt_opts = BERTH_RUNTIME_OPTS_INIT;
	char id[64], runroot[4096], state[4096], bundle[] = "/tmp/run-image-XXXXXX";
	char *rootfs = NULL, *config = NULL;
	berth_error *err = NULL;
	berth_runtime *rt = NULL;
	berth_ctx *ctx = NULL;
	int pid = -1, status = 0, exit_code = 1;
	const char *step = "opening the store";

	if (argc < 3) {
		fprintf(stderr, "usage: %s STORE_ROOT IMAGE [COMMAND [ARG...]]\n", argv[0]);
		return 2;
	}
	snprintf(id, sizeof(id), "run-image-%d", (int)getpid());
	snprintf(runroot, sizeof(runroot), "%s/run", argv[1]);
	snprintf(state, sizeof(state), "%s/run/containers", argv[1]);
	ctx_opts.root = argv[1];
	ctx_opts.runroot = runroot;
	rt_opts.root = state;
	if (berth_ctx_new(&ctx, &ctx_opts, &err) < 0 || berth_runtime_new(ctx, &rt_opts, &rt, &err) < 0)
		goto out;
	step = "making the container's root file system";
	if (berth_snapshot_create(ctx, id, argv[2], NULL, &err) < 0)
		goto out;
	if (berth_snapshot_mount(ctx, id, &rootfs, &err) < 0)
		goto out_snapshot;
	step = "writing the container's config";
	if (!mkdtemp(bundle) || !(config = make_config(rootfs, argc > 3 ? argv + 3 : default_command, &err))) {
		if (!err)
			fprintf(stderr, "run-image: %s: failed\n", step);
		goto out_snapshot;
	}
	step = "running the container";
	if (berth_runtime_create(rt, id, bundle, config, NULL, &pid, &err) < 0)
		goto out_snapshot;
	if (berth_runtime_start(rt, id, &err) < 0) {
		berth_runtime_delete(rt, id, BERTH_RUNTIME_DELETE_FORCE, NULL);
		goto out_snapshot;
	}
	/* we created it, so its init is our child */
	if (waitpid(pid, &status, 0) == pid)
		exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (berth_runtime_delete(rt, id, BERTH_RUNTIME_DELETE_FORCE, &err) < 0)
		exit_code = 1;
out_snapshot:
	rmdir(bundle); /* still the template when mkdtemp failed: harmless */
	berth_string_free(rootfs);
	free(config);
	if (berth_snapshot_remove(ctx, id, err ? NULL : &err) < 0)
		exit_code = 1;
out:
	if (err) {
		fprintf(stderr, "run-image: %s: %s\n", step, berth_error_message(err));
		berth_error_free(err);
	}
	berth_runtime_free(rt);
	berth_ctx_free(ctx);
	return exit_code;
}
