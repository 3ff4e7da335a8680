/* A new image from a container's changes (docker commit): the storage
 * diff as one more layer over the container's image, with the container's
 * config and Dockerfile-style --change instructions over the image's. */
#include "container-internal.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <berth/image.h>
#include <berth/storage.h>

/* A CMD/ENTRYPOINT value: a JSON array as is, else the shell form. */
static json_t *command_form(const char *v)
{
	json_t *a = v[0] == '[' ? json_loads(v, 0, NULL) : NULL;

	if (json_is_array(a))
		return a;
	json_decref(a);
	return json_pack("[s, s, s]", "/bin/sh", "-c", v);
}

/* Sets KEY=VALUE in the env array, replacing the same key. */
static void env_put(json_t *env, const char *kv)
{
	size_t klen = strcspn(kv, "="), i;
	json_t *e;

	json_array_foreach(env, i, e)
		if (!strncmp(json_string_value(e) ?: "", kv, klen) && json_string_value(e)[klen] == '=') {
			json_array_set_new(env, i, json_string(kv));
			return;
		}
	json_array_append_new(env, json_string(kv));
}

/* One --change instruction ("CMD ...", "ENV K=V", ...) onto config. */
static int apply_change(json_t *config, const char *change, berth_error **err)
{
	char word[16];
	const char *v;
	size_t n = strcspn(change, " \t");

	if (n >= sizeof(word) || !change[n])
		return bt_error_set(err, BERTH_EINVAL, 0, "dockerfile parse error: bad change \"%s\"", change);
	for (size_t i = 0; i < n; i++)
		word[i] = (char)toupper((unsigned char)change[i]);
	word[n] = '\0';
	for (v = change + n; *v == ' ' || *v == '\t'; v++)
		;
	if (!strcmp(word, "CMD") || !strcmp(word, "ENTRYPOINT")) {
		json_object_set_new(config, !strcmp(word, "CMD") ? "Cmd" : "Entrypoint", command_form(v));
	} else if (!strcmp(word, "ENV") || !strcmp(word, "LABEL")) {
		const char *eq = strchr(v, '='), *sp = strpbrk(v, " \t");
		bool spaced = !eq || (sp && sp < eq);
		char *key = strndup(v, spaced ? (size_t)(sp ? sp - v : (long)strlen(v)) : (size_t)(eq - v));
		const char *val = spaced ? (sp ? sp + strspn(sp, " \t") : "") : eq + 1;

		if (!key || !*key) {
			free(key);
			return bt_error_set(err, BERTH_EINVAL, 0, "dockerfile parse error: %s needs a name", word);
		}
		if (!strcmp(word, "ENV")) {
			char *kv = bt_strdup_printf("%s=%s", key, val);
			json_t *env = json_object_get(config, "Env");

			if (!json_is_array(env))
				json_object_set_new(config, "Env", env = json_array());
			if (kv)
				env_put(env, kv);
			free(kv);
		} else {
			json_t *labels = json_object_get(config, "Labels");

			if (!json_is_object(labels))
				json_object_set_new(config, "Labels", labels = json_object());
			json_object_set_new(labels, key, json_string(val));
		}
		free(key);
	} else if (!strcmp(word, "WORKDIR") || !strcmp(word, "USER") || !strcmp(word, "STOPSIGNAL")) {
		json_object_set_new(config, !strcmp(word, "WORKDIR") ? "WorkingDir" : !strcmp(word, "USER") ? "User" : "StopSignal",
				    json_string(v));
	} else if (!strcmp(word, "EXPOSE")) {
		char *port = strchr(v, '/') ? strdup(v) : bt_strdup_printf("%s/tcp", v);
		json_t *ports = json_object_get(config, "ExposedPorts");

		if (!json_is_object(ports))
			json_object_set_new(config, "ExposedPorts", ports = json_object());
		if (port)
			json_object_set_new(ports, port, json_object());
		free(port);
	} else {
		return bt_error_set(err, BERTH_EINVAL, 0, "dockerfile parse error: unknown instruction: %s", word);
	}
	return 0;
}

/* The new image's config section: the image's, the container's over it
 * (what it ran with), then the changes. */
static int commit_config(const berth_image *img, const json_t *record, const char *const *changes, char **out,
			 berth_error **err)
{
	const json_t *cc = json_object_get(record, "Config");
	json_t *image = json_loads(berth_image_config_json(img), 0, NULL), *config, *env;
	static const char *const keys[] = { "Cmd", "Entrypoint", "WorkingDir", "User", "Labels", "StopSignal" };
	size_t i;
	json_t *e;
	int rc = 0;

	config = json_deep_copy(json_object_get(image, "config"));
	json_decref(image);
	if (!json_is_object(config)) {
		json_decref(config);
		config = json_object();
	}
	for (i = 0; i < BT_ARRAY_SIZE(keys); i++)
		if (json_object_get(cc, keys[i]))
			json_object_set(config, keys[i], json_object_get(cc, keys[i]));
	/* the container's Env less what the engine adds per container */
	env = json_array();
	json_array_foreach(json_object_get(cc, "Env"), i, e)
		if (strncmp(json_string_value(e) ?: "HOSTNAME=", "HOSTNAME=", 9))
			json_array_append(env, e);
	json_object_set_new(config, "Env", env);
	for (const char *const *c = changes; c && *c && rc == 0; c++)
		rc = apply_change(config, *c, err);
	if (rc == 0 && !(*out = json_dumps(config, JSON_COMPACT)))
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	json_decref(config);
	return rc;
}

/* The container's command as history's created_by. */
static char *created_by(const json_t *record)
{
	size_t len = 0, i;
	json_t *a;
	char *s;

	len += strlen(json_string_value(json_object_get(record, "Path")) ?: "") + 1;
	json_array_foreach(json_object_get(record, "Args"), i, a)
		len += strlen(json_string_value(a) ?: "") + 1;
	if (!(s = calloc(1, len + 1)))
		return NULL;
	strcat(s, json_string_value(json_object_get(record, "Path")) ?: "");
	json_array_foreach(json_object_get(record, "Args"), i, a) {
		strcat(s, " ");
		strcat(s, json_string_value(a) ?: "");
	}
	return s;
}

int berth_container_commit(berth_ctx *ctx, const char *name, const berth_container_commit_opts *opts, char **id,
			   berth_error **err)
{
	berth_container_commit_opts o = BERTH_CONTAINER_COMMIT_OPTS_INIT;
	berth_image_commit_opts io = BERTH_IMAGE_COMMIT_OPTS_INIT;
	berth_image *img = NULL;
	struct bt_ct *ct;
	char *config = NULL, *by = NULL;
	int rc, fd = -1;

	*id = NULL;
	if ((rc = bt_opts_copy(&o, sizeof(o), opts, "berth_container_commit_opts", err)) < 0)
		return rc;
	if (!o.tag)
		return bt_error_set(err, BERTH_EINVAL, 0, "committing: a repository (and tag) is needed");
	if ((rc = bt_ct_open(ctx, name, &ct, err)) < 0)
		return rc;
	if ((rc = berth_image_lookup(ctx, json_string_value(json_object_get(ct->config, "Image")) ?: "", &img, err)) < 0 ||
	    (rc = commit_config(img, ct->config, o.changes, &config, err)) < 0)
		goto out;
	/* the layer is staged in an unnamed file beside the container's records */
	if ((fd = open(ct->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0) {
		rc = bt_error_os(err, "staging the new layer in %s", ct->dir);
		goto out;
	}
	if ((rc = berth_snapshot_diff(ctx, ct->id, fd, err)) < 0)
		goto out;
	if (lseek(fd, 0, SEEK_SET) < 0) {
		rc = bt_error_os(err, "reading the new layer");
		goto out;
	}
	by = created_by(ct->config);
	io.config = config;
	io.comment = o.comment;
	io.author = o.author;
	io.created_by = by;
	io.tag = o.tag;
	if ((rc = berth_image_commit(ctx, berth_image_id(img), fd, &io, id, err)) == 0)
		bt_ct_event(ctx, ct->id, "commit", ct->config, "imageName", o.tag);
out:
	if (fd >= 0)
		close(fd);
	free(by);
	free(config);
	berth_image_free(img);
	bt_ct_close(ct);
	return rc;
}
