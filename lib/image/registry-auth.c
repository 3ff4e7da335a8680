/* Registry credentials: WWW-Authenticate challenges, base64, the berth auth
 * file and docker's config.json, and berth_registry_login/logout. Apart from
 * the HTTP client because none of this needs libcurl, so it is unit-tested
 * without a network. */
#include "internal.h"
#include "image-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AUTH_FILE_MAX (1u << 20)

void bt_auth_challenge_clear(bt_auth_challenge *c)
{
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

static bool is_token_char(char c)
{
	return c && !strchr(" \t\",=;", c) && (unsigned char)c > 0x20 && (unsigned char)c < 0x7f;
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* auth-scheme 1*SP auth-param *( OWS "," OWS auth-param ), where
 * auth-param = token BWS "=" BWS ( token / quoted-string ) (RFC 7235). */
int bt_auth_challenge_parse(const char *value, bt_auth_challenge *out, berth_error **err)
{
	const char *p = skip_blanks(value ? value : ""), *start;
	size_t n;

	memset(out, 0, sizeof(*out));
	for (start = p; is_token_char(*p); p++)
		;
	n = (size_t)(p - start);
	if (n == 0 || n >= sizeof(out->scheme))
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "WWW-Authenticate \"%.100s\": no authentication scheme", value ? value : "");
	memcpy(out->scheme, start, n);
	/* schemes are case-insensitive: keep one spelling */
	if (!strcasecmp(out->scheme, "bearer"))
		strcpy(out->scheme, "Bearer");
	else if (!strcasecmp(out->scheme, "basic"))
		strcpy(out->scheme, "Basic");
	for (;;) {
		char key[32], *val, **slot = NULL;
		size_t klen, vlen = 0;

		p = skip_blanks(p);
		while (*p == ',')
			p = skip_blanks(p + 1);
		if (!*p || *p == '\r' || *p == '\n')
			return 0;
		for (start = p; is_token_char(*p); p++)
			;
		klen = (size_t)(p - start);
		p = skip_blanks(p);
		if (klen == 0 || *p != '=')
			goto bad;
		p = skip_blanks(p + 1);
		snprintf(key, sizeof(key), "%.*s", (int)(klen < sizeof(key) ? klen : sizeof(key) - 1), start);
		if (!(val = malloc(strlen(p) + 1)))
			goto nomem;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				val[vlen++] = *p;
			}
			if (*p != '"') {
				free(val);
				goto bad;
			}
			p++;
		} else {
			for (start = p; is_token_char(*p); p++)
				val[vlen++] = *p;
			if (vlen == 0) {
				free(val);
				goto bad;
			}
		}
		val[vlen] = '\0';
		if (!strcasecmp(key, "realm"))
			slot = &out->realm;
		else if (!strcasecmp(key, "service"))
			slot = &out->service;
		else if (!strcasecmp(key, "scope"))
			slot = &out->scope;
		else if (!strcasecmp(key, "error"))
			slot = &out->error;
		if (slot) {
			free(*slot);
			*slot = val;
		} else {
			free(val);
		}
		p = skip_blanks(p);
		if (*p && *p != ',')
			goto bad;
	}
bad:
	bt_auth_challenge_clear(out);
	return bt_error_set(err, BERTH_EINVAL, 0, "WWW-Authenticate \"%.200s\": malformed at offset %zu",
			    value, (size_t)(p - value));
nomem:
	bt_auth_challenge_clear(out);
	return bt_error_set(err, BERTH_ENOMEM, 0, "parsing WWW-Authenticate: out of memory");
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *bt_base64_encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0) |
			     (i + 2 < len ? in[i + 2] : 0);

		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < len ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

int bt_base64_decode(const char *text, char **out, size_t *len)
{
	size_t n = strlen(text), o = 0;
	unsigned v = 0;
	int bits = 0;
	char *buf;

	*out = NULL;
	while (n > 0 && text[n - 1] == '=')
		n--;
	if (!(buf = malloc(n * 3 / 4 + 2)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *c = text[i] ? strchr(b64, text[i]) : NULL;

		if (!c) {
			free(buf);
			return -1;
		}
		v = v << 6 | (unsigned)(c - b64);
		if ((bits += 6) >= 8) {
			bits -= 8;
			buf[o++] = (char)(v >> bits & 0xff);
		}
	}
	buf[o] = '\0';
	*out = buf;
	if (len)
		*len = o;
	return 0;
}

int bt_auth_file_path(const berth_ctx *ctx, const bt_registry_conf *conf, char **out,
		      berth_error **err)
{
	if (conf && conf->auth_file) {
		if (conf->auth_file[0] != '/')
			return bt_error_set(err, BERTH_EINVAL, 0, "auth file \"%.200s\": not an absolute path",
					    conf->auth_file);
		*out = strdup(conf->auth_file);
		return *out ? 0 : bt_error_set(err, BERTH_ENOMEM, 0, "auth file: out of memory");
	}
	return bt_path_join(ctx->root, "auth.json", out, err);
}

/* "https://host:port/v1/" and "host:port" name the same registry. */
static bool server_matches(const char *key, const char *domain)
{
	size_t n;

	if (!strncmp(key, "https://", 8))
		key += 8;
	else if (!strncmp(key, "http://", 7))
		key += 7;
	n = strcspn(key, "/");
	if (!strcmp(domain, "docker.io") && n == 15 && !strncmp(key, "index.docker.io", 15))
		return true;
	return strlen(domain) == n && !strncmp(key, domain, n);
}

/* Credentials for domain in a config with an "auths" object: 1 when found. */
static int lookup_file(const char *path, const char *domain, char **user, char **pass,
		       berth_error **err)
{
	json_t *doc, *auths, *entry;
	const char *key;
	int rc;

	if (access(path, F_OK) < 0)
		return 0;
	if ((rc = bt_json_load_file(path, AUTH_FILE_MAX, &doc, err)) < 0)
		return bt_error_wrap(err, rc, "reading credentials");
	if ((rc = bt_json_member(doc, "", "auths", JSON_OBJECT, false, &auths, err)) < 0) {
		bt_error_wrap(err, rc, "reading credentials from %s", path);
		goto out;
	}
	rc = 0;
	json_object_foreach(auths, key, entry) {
		const char *enc = json_string_value(json_object_get(entry, "auth"));
		char *plain, *colon;

		if (!server_matches(key, domain) || !enc || !*enc)
			continue;
		if (bt_base64_decode(enc, &plain, NULL) < 0 || !(colon = strchr(plain, ':'))) {
			if (plain)
				free(plain);
			rc = bt_error_set(err, BERTH_EINVAL, 0,
					  "reading credentials from %s: auths.\"%.100s\".auth is not "
					  "base64 of user:password", path, key);
			goto out;
		}
		*colon = '\0';
		*user = strdup(plain);
		*pass = strdup(colon + 1);
		explicit_bzero(colon + 1, strlen(colon + 1));
		free(plain);
		if (!*user || !*pass) {
			free(*user);
			free(*pass);
			*user = *pass = NULL;
			rc = bt_error_set(err, BERTH_ENOMEM, 0, "reading credentials: out of memory");
		} else {
			rc = 1;
		}
		break;
	}
out:
	json_decref(doc);
	return rc;
}

int bt_auth_lookup(const berth_ctx *ctx, const bt_registry_conf *conf, const char *domain,
		   char **user, char **pass, berth_error **err)
{
	char *path = NULL;
	const char *dc = conf ? conf->docker_config : NULL;
	int rc;

	*user = *pass = NULL;
	if ((rc = bt_auth_file_path(ctx, conf, &path, err)) < 0)
		return rc;
	rc = lookup_file(path, domain, user, pass, err);
	free(path);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	if (dc && !*dc)
		return 0;
	if (dc) {
		path = strdup(dc);
	} else if (getenv("DOCKER_CONFIG")) {
		path = bt_strdup_printf("%s/config.json", getenv("DOCKER_CONFIG"));
	} else if (getenv("HOME")) {
		path = bt_strdup_printf("%s/.docker/config.json", getenv("HOME"));
	} else {
		return 0;
	}
	if (!path)
		return bt_error_set(err, BERTH_ENOMEM, 0, "reading credentials: out of memory");
	rc = lookup_file(path, domain, user, pass, err);
	free(path);
	return rc < 0 ? rc : 0;
}

/* Sets or (user NULL) removes the entry of server in the auth file, under
 * a lock beside it so two logins do not lose each other's entries. */
static int auth_file_update(const berth_ctx *ctx, const bt_registry_conf *conf, const char *server,
			    const char *user, const char *pass, berth_error **err)
{
	char *path = NULL, *lock = NULL, *text = NULL, *plain = NULL, *enc = NULL;
	json_t *doc = NULL, *auths;
	int fd = -1, rc;

	if ((rc = bt_auth_file_path(ctx, conf, &path, err)) < 0)
		return rc;
	if (!(lock = bt_strdup_printf("%s.lock", path)))
		goto nomem;
	{
		char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;

		if (!dir)
			goto nomem;
		if (slash && slash != dir)
			*slash = '\0';
		rc = bt_mkdir_p(dir, 0700, err);
		free(dir);
		if (rc < 0)
			goto out;
	}
	if ((rc = bt_lock_acquire(lock, BT_LOCK_EXCLUSIVE, &fd, err)) < 0)
		goto out;
	if (access(path, F_OK) == 0) {
		if ((rc = bt_json_load_file(path, AUTH_FILE_MAX, &doc, err)) < 0)
			goto out;
		if (!json_is_object(doc)) {
			rc = bt_error_set(err, BERTH_EINVAL, 0, "%s: expected an object", path);
			goto out;
		}
	} else if (!(doc = json_object())) {
		goto nomem;
	}
	if (!(auths = json_object_get(doc, "auths"))) {
		if (json_object_set_new(doc, "auths", json_object()) < 0)
			goto nomem;
		auths = json_object_get(doc, "auths");
	}
	if (!json_is_object(auths)) {
		rc = bt_error_set(err, BERTH_EINVAL, 0, "%s: auths: expected an object", path);
		goto out;
	}
	if (user) {
		if (!(plain = bt_strdup_printf("%s:%s", user, pass)) ||
		    !(enc = bt_base64_encode(plain, strlen(plain))) ||
		    json_object_set_new(auths, server, json_pack("{s:s}", "auth", enc)) < 0)
			goto nomem;
	} else if (json_object_del(auths, server) < 0) {
		rc = bt_error_set(err, BERTH_ENOTFOUND, 0, "not logged in to %s (no entry in %s)", server, path);
		goto out;
	}
	if (!(text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS)))
		goto nomem;
	/* credentials: readable by their owner only */
	rc = bt_write_file_atomic(path, text, strlen(text), 0600, err);
	goto out;
nomem:
	rc = bt_error_set(err, BERTH_ENOMEM, 0, "updating credentials: out of memory");
out:
	if (plain)
		explicit_bzero(plain, strlen(plain));
	if (text)
		explicit_bzero(text, strlen(text));
	free(plain);
	free(enc);
	free(text);
	bt_lock_release(fd);
	json_decref(doc);
	free(lock);
	free(path);
	return rc;
}

static int check_server(const char *server, berth_error **err)
{
	if (!server || !*server || strlen(server) > 255 || strpbrk(server, "/ \t\r\n@\"\\"))
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "registry \"%.100s\": expected host[:port] without a scheme or path",
				    server ? server : "");
	return 0;
}

int berth_registry_login(berth_ctx *ctx, const char *server, const char *username,
			 const char *password, const berth_login_opts *opts, berth_error **err)
{
	berth_login_opts o = BERTH_LOGIN_OPTS_INIT;
	bt_registry_conf conf = { 0 };
	bt_registry *r = NULL;
	int rc;

	if ((rc = bt_opts_copy(&o, sizeof(o), opts, "login options", err)) < 0 ||
	    (rc = check_server(server, err)) < 0)
		return rc;
	if (!username || !*username || !password || strchr(username, ':') ||
	    strpbrk(username, "\r\n") || strpbrk(password, "\r\n"))
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "logging in to %s: a user name (without ':') and a password are needed",
				    server);
	conf.insecure = o.insecure_registries;
	conf.certs_dir = o.certs_dir;
	conf.auth_file = o.auth_file;
	conf.docker_config = "";
	conf.username = username;
	conf.password = password;
	conf.retries = 1;
	if ((rc = bt_registry_new(ctx, server, &conf, &r, err)) < 0 ||
	    (rc = bt_registry_ping(r, true, err)) < 0 ||
	    (rc = auth_file_update(ctx, &conf, server, username, password, err)) < 0)
		bt_error_wrap(err, rc, "logging in to %s as %s", server, username);
	bt_registry_free(r);
	return rc;
}

int berth_registry_logout(berth_ctx *ctx, const char *server, const berth_login_opts *opts,
			  berth_error **err)
{
	berth_login_opts o = BERTH_LOGIN_OPTS_INIT;
	bt_registry_conf conf = { 0 };
	int rc;

	if ((rc = bt_opts_copy(&o, sizeof(o), opts, "login options", err)) < 0 ||
	    (rc = check_server(server, err)) < 0)
		return rc;
	conf.auth_file = o.auth_file;
	if ((rc = auth_file_update(ctx, &conf, server, NULL, NULL, err)) < 0)
		bt_error_wrap(err, rc, "logging out of %s", server);
	return rc;
}
