/* The registry client: the OCI distribution API over libcurl, which is
 * opened on first use and never linked (DESIGN.md, start-up cost). One
 * bt_registry per registry and pull; each request uses its own easy handle,
 * so the threads of a pull share only the token cache, under a mutex.
 *
 * Transport: https with the system CAs plus <certs_dir>/<host:port>/ca.crt;
 * plain http only for loopback registries (when the server does not speak
 * TLS) and registries listed insecure (which also skip TLS verification).
 * Transient failures (connection errors, 5xx, 429) are retried with
 * backoff, never 4xx; a blob cut mid-way resumes with Range. */
#include "internal.h"
#include "image-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define DEFAULT_CERTS_DIR "/etc/berth/certs.d"
#define ERROR_BODY_MAX 8192
#define TOKEN_BODY_MAX (1u << 20)
#define IDLE_HANDLES 8

static struct {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} curl;

static const bt_dl_sym curl_syms[] = {
	{ "curl_easy_init", (void **)&curl.easy_init },
	{ "curl_easy_setopt", (void **)&curl.easy_setopt },
	{ "curl_easy_perform", (void **)&curl.easy_perform },
	{ "curl_easy_cleanup", (void **)&curl.easy_cleanup },
	{ "curl_easy_reset", (void **)&curl.easy_reset },
	{ "curl_easy_getinfo", (void **)&curl.easy_getinfo },
	{ "curl_easy_strerror", (void **)&curl.easy_strerror },
	{ "curl_slist_append", (void **)&curl.slist_append },
	{ "curl_slist_free_all", (void **)&curl.slist_free_all },
	{ NULL, NULL },
};

static bt_dl_lib curl_lib = BT_DL_LIB(BERTH_LIBCURL_SONAME, curl_syms);

enum { AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

struct token {
	char *scope;
	char *token;
	int64_t expires_ms; /* CLOCK_MONOTONIC milliseconds */
};

struct bt_registry {
	const berth_ctx *ctx;
	char *domain;
	char *host;    /* where requests go: docker.io is served by registry-1.docker.io */
	char *base;    /* "https://host" or "http://host", set by the first ping */
	bool insecure; /* listed by the caller */
	bool loopback;
	char *cafile, *client_cert, *client_key;
	char *user, *pass;
	int retries;
	const int *cancel;
	pthread_mutex_t lock; /* mode, tokens, base, idle */
	int mode;
	struct token *tokens;
	size_t ntokens;
	/* handles done with, kept for their open connections and their parsed
	 * CA store: a new handle per request would connect (and for TLS load
	 * the CA bundle, tens of milliseconds) every time */
	CURL *idle[IDLE_HANDLES];
	size_t nidle;
};

/* ---- set-up -------------------------------------------------------------- */

static bool host_is_loopback(const char *domain)
{
	char host[256];
	struct in_addr a4;
	struct in6_addr a6;

	if (domain[0] == '[') {
		snprintf(host, sizeof(host), "%s", domain + 1);
		host[strcspn(host, "]/")] = '\0';
	} else {
		snprintf(host, sizeof(host), "%s", domain);
		host[strcspn(host, ":/")] = '\0';
	}
	if (!strcmp(host, "localhost") || (strlen(host) > 10 && !strcmp(host + strlen(host) - 10, ".localhost")))
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

void bt_registry_free(bt_registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ntokens; i++) {
		free(r->tokens[i].scope);
		if (r->tokens[i].token)
			explicit_bzero(r->tokens[i].token, strlen(r->tokens[i].token));
		free(r->tokens[i].token);
	}
	free(r->tokens);
	if (r->pass)
		explicit_bzero(r->pass, strlen(r->pass));
	free(r->pass);
	free(r->user);
	free(r->cafile);
	free(r->client_cert);
	free(r->client_key);
	free(r->base);
	free(r->host);
	free(r->domain);
	for (size_t i = 0; i < r->nidle; i++)
		curl.easy_cleanup(r->idle[i]);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int bt_registry_new(const berth_ctx *ctx, const char *domain, const bt_registry_conf *conf,
		    bt_registry **out, berth_error **err)
{
	const char *certs = conf->certs_dir ? conf->certs_dir : DEFAULT_CERTS_DIR;
	bt_registry *r;
	char *dir = NULL;
	int rc;

	*out = NULL;
	if ((rc = bt_dl_load(&curl_lib, err)) < 0)
		return bt_error_wrap(err, rc, "registry %s: the registry client needs libcurl", domain);
	if (!(r = calloc(1, sizeof(*r))))
		return bt_error_set(err, BERTH_ENOMEM, 0, "registry %s: out of memory", domain);
	pthread_mutex_init(&r->lock, NULL);
	r->ctx = ctx;
	r->retries = conf->retries < 0 ? 0 : conf->retries;
	r->cancel = conf->cancel;
	r->loopback = host_is_loopback(domain);
	for (const char *const *i = conf->insecure; i && *i; i++)
		if (!strcmp(*i, domain))
			r->insecure = true;
	if (!(r->domain = strdup(domain)) ||
	    !(r->host = strdup(strcmp(domain, "docker.io") ? domain : "registry-1.docker.io")))
		goto nomem;
	/* Docker's certs.d: <dir>/<host:port>/ca.crt, client.cert, client.key */
	if (!(dir = bt_strdup_printf("%s/%s", certs, domain)) ||
	    !(r->cafile = bt_strdup_printf("%s/ca.crt", dir)) ||
	    !(r->client_cert = bt_strdup_printf("%s/client.cert", dir)) ||
	    !(r->client_key = bt_strdup_printf("%s/client.key", dir)))
		goto nomem;
	free(dir);
	if (!file_exists(r->cafile)) {
		free(r->cafile);
		r->cafile = NULL;
	}
	if (!file_exists(r->client_cert) || !file_exists(r->client_key)) {
		free(r->client_cert);
		free(r->client_key);
		r->client_cert = r->client_key = NULL;
	}
	if (conf->username) {
		if (!(r->user = strdup(conf->username)) || !(r->pass = strdup(conf->password ? conf->password : "")))
			goto nomem;
	} else if ((rc = bt_auth_lookup(ctx, conf, domain, &r->user, &r->pass, err)) < 0) {
		bt_registry_free(r);
		return bt_error_wrap(err, rc, "registry %s", domain);
	}
	bt_log_debug(ctx, "image", "registry %s: %s%s%s", domain, r->user ? "credentials of " : "anonymous",
		     r->user ? r->user : "", r->cafile ? ", with its own CA" : "");
	*out = r;
	return 0;
nomem:
	free(dir);
	bt_registry_free(r);
	return bt_error_set(err, BERTH_ENOMEM, 0, "registry %s: out of memory", domain);
}

/* ---- one HTTP exchange ---------------------------------------------------- */

struct req {
	bt_registry *r;
	const char *url;
	const char *accept;
	const char *scope;           /* token scope for this request, or NULL */
	bool no_registry_auth;       /* the token request itself */
	const char *basic_user, *basic_pass;
	const bt_blob_consumer *c;   /* streamed 2xx body; NULL: collected */
	size_t max;                  /* collected 2xx body limit */
	/* this response */
	long status;
	char *www_auth, *content_type, *docker_digest;
	long long range_start;       /* from Content-Range, -1 when none */
	bool first_write;
	char *buf;
	size_t len;
	bool too_big;
	uint64_t offset;             /* Range start asked for */
	uint64_t delivered;          /* bytes handed to c and kept */
	int cb_rc;
	berth_error *cb_err;
	char errbuf[CURL_ERROR_SIZE];
};

static void req_reset_response(struct req *q)
{
	free(q->www_auth);
	free(q->content_type);
	free(q->docker_digest);
	q->www_auth = q->content_type = q->docker_digest = NULL;
	q->range_start = -1;
	q->status = 0;
	q->len = 0;
	q->too_big = false;
	q->first_write = true;
}

static void req_clear(struct req *q)
{
	req_reset_response(q);
	free(q->buf);
	q->buf = NULL;
	berth_error_free(q->cb_err);
	q->cb_err = NULL;
}

static char *header_value(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);
	const char *v;

	if (n <= k || strncasecmp(line, name, k) || line[k] != ':')
		return NULL;
	for (v = line + k + 1; v < line + n && (*v == ' ' || *v == '\t'); v++)
		;
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' '))
		n--;
	return strndup(v, v < line + n ? (size_t)(line + n - v) : 0);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct req *q = ud;
	size_t n = size * nmemb;
	char *v;

	if (n > 5 && !strncmp(data, "HTTP/", 5)) {
		const char *sp = memchr(data, ' ', n);

		req_reset_response(q); /* a new response (redirect, 100) starts */
		q->status = sp ? strtol(sp + 1, NULL, 10) : 0;
	} else if ((v = header_value(data, n, "WWW-Authenticate"))) {
		free(q->www_auth);
		q->www_auth = v;
	} else if ((v = header_value(data, n, "Content-Type"))) {
		free(q->content_type);
		q->content_type = v;
	} else if ((v = header_value(data, n, "Docker-Content-Digest"))) {
		free(q->docker_digest);
		q->docker_digest = v;
	} else if ((v = header_value(data, n, "Content-Range"))) {
		/* "bytes 100-199/200" */
		if (!strncmp(v, "bytes ", 6))
			q->range_start = strtoll(v + 6, NULL, 10);
		free(v);
	}
	return n;
}

static bool collect(struct req *q, const char *data, size_t n, size_t max)
{
	char *b;

	if (q->len + n > max)
		return false;
	if (!(b = realloc(q->buf, q->len + n + 1)))
		return false;
	q->buf = b;
	memcpy(q->buf + q->len, data, n);
	q->len += n;
	q->buf[q->len] = '\0';
	return true;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct req *q = ud;
	size_t n = size * nmemb;

	if (q->status < 200 || q->status >= 300) {
		/* an error's body only feeds the message; cut it short */
		collect(q, data, n, ERROR_BODY_MAX);
		return n;
	}
	if (!q->c) {
		if (!collect(q, data, n, q->max)) {
			q->too_big = true;
			return 0;
		}
		return n;
	}
	if (q->first_write) {
		q->first_write = false;
		if (q->offset > 0 && (q->status != 206 || q->range_start != (long long)q->offset)) {
			/* the server sent the whole blob again: start over */
			bt_log_info(q->r->ctx, "image", "%s: the registry did not resume at byte %llu; starting over",
				    q->url, (unsigned long long)q->offset);
			if (q->status == 206 || (q->cb_rc = q->c->restart(q->c->ud, &q->cb_err)) < 0)
				return 0;
			q->delivered = 0;
		}
	}
	if ((q->cb_rc = q->c->data(q->c->ud, data, n, &q->cb_err)) < 0)
		return 0;
	q->delivered += n;
	return n;
}

static int on_xfer(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct req *q = ud;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return q->r->cancel && __atomic_load_n(q->r->cancel, __ATOMIC_RELAXED) ? 1 : 0;
}

/* The Authorization header for a request, or NULL. */
static char *auth_header(struct req *q)
{
	bt_registry *r = q->r;
	char *h = NULL, *plain, *enc;
	struct timespec now;

	if (q->basic_user) {
		if (!(plain = bt_strdup_printf("%s:%s", q->basic_user, q->basic_pass)))
			return NULL;
		enc = bt_base64_encode(plain, strlen(plain));
		explicit_bzero(plain, strlen(plain));
		free(plain);
		h = enc ? bt_strdup_printf("Authorization: Basic %s", enc) : NULL;
		free(enc);
		return h;
	}
	if (q->no_registry_auth)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&r->lock);
	if (r->mode == AUTH_BEARER) {
		for (size_t i = 0; i < r->ntokens; i++)
			if (!strcmp(r->tokens[i].scope, q->scope ? q->scope : "") &&
			    r->tokens[i].expires_ms > (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000)
				h = bt_strdup_printf("Authorization: Bearer %s", r->tokens[i].token);
	} else if (r->mode == AUTH_BASIC && r->user) {
		pthread_mutex_unlock(&r->lock);
		q->basic_user = r->user;
		q->basic_pass = r->pass;
		h = auth_header(q);
		q->basic_user = q->basic_pass = NULL;
		return h;
	}
	pthread_mutex_unlock(&r->lock);
	return h;
}

static CURL *take_handle(bt_registry *r)
{
	CURL *e = NULL;

	pthread_mutex_lock(&r->lock);
	if (r->nidle > 0)
		e = r->idle[--r->nidle];
	pthread_mutex_unlock(&r->lock);
	return e ? e : curl.easy_init();
}

static void give_back_handle(bt_registry *r, CURL *e)
{
	curl.easy_reset(e); /* options go; connections and caches stay */
	pthread_mutex_lock(&r->lock);
	if (r->nidle < IDLE_HANDLES) {
		r->idle[r->nidle++] = e;
		e = NULL;
	}
	pthread_mutex_unlock(&r->lock);
	if (e)
		curl.easy_cleanup(e);
}

static CURLcode perform(struct req *q, bool verify_tls)
{
	bt_registry *r = q->r;
	struct curl_slist *headers = NULL, *h;
	char *line = NULL, *auth = auth_header(q);
	CURLcode cc = CURLE_OUT_OF_MEMORY;
	CURL *e = take_handle(r);

	if (!e)
		goto out;
	req_reset_response(q);
	q->errbuf[0] = '\0';
	if (q->accept && (line = bt_strdup_printf("Accept: %s", q->accept))) {
		if (!(h = curl.slist_append(headers, line)))
			goto out;
		headers = h;
		free(line);
		line = NULL;
	}
	if (auth) {
		if (!(h = curl.slist_append(headers, auth)))
			goto out;
		headers = h;
	}
	q->offset = q->c ? q->delivered : 0;
	if (q->offset > 0 && (line = bt_strdup_printf("Range: bytes=%llu-", (unsigned long long)q->offset))) {
		if (!(h = curl.slist_append(headers, line)))
			goto out;
		headers = h;
	}
	curl.easy_setopt(e, CURLOPT_URL, q->url);
	curl.easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	curl.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl.easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
	curl.easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl.easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
	curl.easy_setopt(e, CURLOPT_USERAGENT, "berth/" PACKAGE_VERSION);
	curl.easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 15L);
	curl.easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl.easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 30L);
	curl.easy_setopt(e, CURLOPT_ERRORBUFFER, q->errbuf);
	curl.easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl.easy_setopt(e, CURLOPT_HEADERDATA, q);
	curl.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	/* blobs arrive in big pieces: fewer calls down the write path (digest,
	 * blob file, unpacker) per byte; libcurl's default is 16 KiB */
	curl.easy_setopt(e, CURLOPT_BUFFERSIZE, 512L << 10);
	curl.easy_setopt(e, CURLOPT_WRITEDATA, q);
	curl.easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_xfer);
	curl.easy_setopt(e, CURLOPT_XFERINFODATA, q);
	curl.easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	if (r->cafile)
		curl.easy_setopt(e, CURLOPT_CAINFO, r->cafile);
	if (r->client_cert) {
		curl.easy_setopt(e, CURLOPT_SSLCERT, r->client_cert);
		curl.easy_setopt(e, CURLOPT_SSLKEY, r->client_key);
	}
	if (!verify_tls) {
		curl.easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl.easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	cc = curl.easy_perform(e);
out:
	if (auth)
		explicit_bzero(auth, strlen(auth));
	free(auth);
	free(line);
	curl.slist_free_all(headers);
	if (e)
		give_back_handle(r, e);
	return cc;
}

static bool transient_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

/* 200 ms, 400 ms, ... 3.2 s: long enough for a restarting registry, short
 * enough that a registry that is down fails in seconds. */
static int backoff(struct req *q, int attempt)
{
	long ms = 200L << (attempt < 4 ? attempt : 4);

	for (; ms > 0; ms -= 50) {
		struct timespec ts = { 0, 50 * 1000000L };

		if (q->r->cancel && __atomic_load_n(q->r->cancel, __ATOMIC_RELAXED))
			return -1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* "MANIFEST_UNKNOWN: manifest unknown" from a registry's error body. */
static char *error_detail(const struct req *q)
{
	json_t *doc, *first;
	const char *code, *msg;
	char *out = NULL;

	if (!q->buf || !(doc = json_loadb(q->buf, q->len, 0, NULL)))
		return NULL;
	first = json_array_get(json_object_get(doc, "errors"), 0);
	code = json_string_value(json_object_get(first, "code"));
	msg = json_string_value(json_object_get(first, "message"));
	if (code || msg)
		out = bt_strdup_printf(": %.100s%s%.200s", code ? code : "", code && msg ? ": " : "",
				       msg ? msg : "");
	json_decref(doc);
	return out;
}

static int status_error(struct req *q, berth_error **err)
{
	char *detail = error_detail(q);
	long st = q->status;
	int code = st == 404 ? BERTH_ENOTFOUND
		   : st == 401 || st == 403 ? BERTH_EAUTH
		   : st == 416 ? BERTH_EINTEGRITY
		   : st >= 400 && st < 500 ? BERTH_EINVAL : BERTH_ENETWORK;
	bool anonymous = (st == 401 || st == 403) && !q->r->user && !q->basic_user;
	int rc = bt_error_set(err, code, 0, "GET %s: registry answered %ld%s%s%s%s", q->url, st,
			      st == 401 ? " Unauthorized" : st == 404 ? " Not Found" : st == 403 ? " Forbidden" : "",
			      detail ? detail : "", anonymous ? "; no credentials for " : "",
			      anonymous ? q->r->domain : "");

	free(detail);
	return rc;
}

static void add_query(char **url, const char *key, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(*url), vl = strlen(value);
	char *u = realloc(*url, n + strlen(key) + 3 * vl + 3), *o;

	if (!u) {
		free(*url);
		*url = NULL;
		return;
	}
	o = u + n;
	*o++ = strchr(u, '?') ? '&' : '?';
	o = stpcpy(o, key);
	*o++ = '=';
	for (const unsigned char *c = (const unsigned char *)value; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    strchr("-._~", *c)) {
			*o++ = (char)*c;
		} else {
			*o++ = '%';
			*o++ = hex[*c >> 4];
			*o++ = hex[*c & 15];
		}
	}
	*o = '\0';
	*url = u;
}

static int run(struct req *q, berth_error **err);

/* Answers a 401: Basic with the credentials, or a Bearer token fetched from
 * the challenge's realm and cached under the request's scope. */
static int authenticate(struct req *q, berth_error **err)
{
	bt_registry *r = q->r;
	bt_auth_challenge ch;
	struct req t = { 0 };
	struct timespec now;
	const char *tok;
	json_t *doc = NULL;
	long long expires = 60;
	char *url = NULL;
	int rc;

	if (!q->www_auth)
		return bt_error_set(err, BERTH_EAUTH, 0, "GET %s: registry answered 401 without a challenge",
				    q->url);
	if ((rc = bt_auth_challenge_parse(q->www_auth, &ch, err)) < 0)
		return bt_error_wrap(err, BERTH_EAUTH, "GET %s: registry answered 401", q->url);
	if (!strcmp(ch.scheme, "Basic")) {
		bt_auth_challenge_clear(&ch);
		if (!r->user)
			return bt_error_set(err, BERTH_EAUTH, 0,
					    "GET %s: registry %s needs credentials (berth login %s)", q->url,
					    r->domain, r->domain);
		pthread_mutex_lock(&r->lock);
		r->mode = AUTH_BASIC;
		pthread_mutex_unlock(&r->lock);
		return 0;
	}
	if (strcmp(ch.scheme, "Bearer") || !ch.realm) {
		rc = bt_error_set(err, BERTH_EAUTH, 0, "GET %s: registry asks for %s authentication, "
				  "which berth does not speak", q->url, ch.scheme);
		goto out;
	}
	/* the realm gets our password: only over TLS, unless the registry itself is local or insecure */
	if (strncmp(ch.realm, "https://", 8) &&
	    !(strncmp(ch.realm, "http://", 7) == 0 && (r->loopback || r->insecure || host_is_loopback(ch.realm + 7)))) {
		rc = bt_error_set(err, BERTH_EAUTH, 0, "GET %s: token realm \"%.200s\" is not an https URL",
				  q->url, ch.realm);
		goto out;
	}
	if (!(url = strdup(ch.realm)))
		goto nomem;
	if (ch.service)
		add_query(&url, "service", ch.service);
	if (url && (q->scope || ch.scope))
		add_query(&url, "scope", q->scope ? q->scope : ch.scope);
	if (!url)
		goto nomem;
	t.r = r;
	t.url = url;
	t.max = TOKEN_BODY_MAX;
	t.no_registry_auth = true;
	t.basic_user = r->user;
	t.basic_pass = r->pass;
	if ((rc = run(&t, err)) < 0) {
		if (rc == BERTH_EAUTH && r->user)
			bt_error_wrap(err, rc, "the token server refused the credentials of %s", r->user);
		bt_error_wrap(err, rc, "getting a token for %s", q->url);
		goto out;
	}
	if ((rc = bt_json_parse(t.buf ? t.buf : "", t.len, "token response", &doc, err)) < 0)
		goto out;
	tok = json_string_value(json_object_get(doc, "token"));
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(doc, "access_token"));
	if (!tok || !*tok || strpbrk(tok, "\r\n")) {
		rc = bt_error_set(err, BERTH_EAUTH, 0, "getting a token from %s: no token in the answer", ch.realm);
		goto out;
	}
	/* the issuer's lifetime as given (the spec's 60 s when absent or not
	 * positive); a day at most, so a bogus value cannot pin a token */
	if (json_is_integer(json_object_get(doc, "expires_in")) &&
	    json_integer_value(json_object_get(doc, "expires_in")) > 0)
		expires = json_integer_value(json_object_get(doc, "expires_in"));
	if (expires > 86400)
		expires = 86400;
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&r->lock);
	{
		struct token *v = realloc(r->tokens, (r->ntokens + 1) * sizeof(*v));
		size_t i;

		if (v)
			r->tokens = v;
		for (i = 0; v && i < r->ntokens && strcmp(v[i].scope, q->scope ? q->scope : ""); i++)
			;
		if (v && i == r->ntokens && (v[i].scope = strdup(q->scope ? q->scope : ""))) {
			v[i].token = NULL;
			r->ntokens++;
		}
		if (v && i < r->ntokens) {
			free(v[i].token);
			v[i].token = strdup(tok);
			/* dropped a tenth of its lifetime early (10 s at most), so a
			 * token never expires on the way to the registry */
			v[i].expires_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 +
					  expires * 1000 - (expires >= 100 ? 10000 : expires * 100);
			r->mode = AUTH_BEARER;
			rc = v[i].token ? 0 : BERTH_ENOMEM;
		} else {
			rc = BERTH_ENOMEM;
		}
	}
	pthread_mutex_unlock(&r->lock);
	if (rc < 0)
		goto nomem;
	goto out;
nomem:
	rc = bt_error_set(err, BERTH_ENOMEM, 0, "authenticating to %s: out of memory", r->domain);
out:
	json_decref(doc);
	req_clear(&t);
	free(url);
	bt_auth_challenge_clear(&ch);
	return rc;
}

/* Performs q with retries and authentication; 0 on a 2xx answer. */
static int run(struct req *q, berth_error **err)
{
	bool auth_tried = false, verify = !q->r->insecure;
	int attempt = 0, rc;

	for (;;) {
		uint64_t before = q->delivered;
		CURLcode cc = perform(q, verify);

		if (q->cb_rc < 0) { /* the consumer's own error (a cancel from progress) says most */
			rc = q->cb_rc;
			if (err && !*err) {
				*err = q->cb_err;
				q->cb_err = NULL;
			}
			return rc;
		}
		if (q->r->cancel && __atomic_load_n(q->r->cancel, __ATOMIC_RELAXED))
			return bt_error_set(err, BERTH_ECANCELED, 0, "GET %s: cancelled", q->url);
		if (q->too_big)
			return bt_error_set(err, BERTH_EINVAL, 0, "GET %s: answer larger than the %zu bytes allowed",
					    q->url, q->max);
		if (q->delivered > before)
			attempt = 0; /* progress: a connection that keeps dropping still gets there */
		if (cc != CURLE_OK) {
			if (transient_curl(cc) && attempt < q->r->retries) {
				bt_log_info(q->r->ctx, "image", "GET %s: %s; retrying", q->url,
					    q->errbuf[0] ? q->errbuf : curl.easy_strerror(cc));
				if (backoff(q, attempt++) < 0)
					continue;
				continue;
			}
			return bt_error_set(err, cc == CURLE_PEER_FAILED_VERIFICATION ? BERTH_EAUTH : BERTH_ENETWORK, 0,
					    "GET %s: %s", q->url, q->errbuf[0] ? q->errbuf : curl.easy_strerror(cc));
		}
		if (q->status == 401 && !auth_tried && !q->no_registry_auth) {
			auth_tried = true;
			if ((rc = authenticate(q, err)) < 0)
				return rc;
			continue;
		}
		if ((q->status >= 500 || q->status == 429) && attempt < q->r->retries) {
			bt_log_info(q->r->ctx, "image", "GET %s: registry answered %ld; retrying", q->url, q->status);
			backoff(q, attempt++);
			continue;
		}
		if (q->status < 200 || q->status >= 300)
			return status_error(q, err);
		return 0;
	}
}

/* ---- the API ----------------------------------------------------------------- */

static int ping_at(bt_registry *r, const char *base, bool must_auth, CURLcode *cc_out,
		   berth_error **err)
{
	struct req q = { 0 };
	char *url = bt_strdup_printf("%s/v2/", base);
	int rc;

	if (!url)
		return bt_error_set(err, BERTH_ENOMEM, 0, "registry %s: out of memory", r->domain);
	q.r = r;
	q.url = url;
	q.max = ERROR_BODY_MAX;
	*cc_out = CURLE_OK;
	if (!must_auth) {
		/* only the scheme is being found out: one try, any HTTP answer will
		 * do. Nothing secret is sent, so a loopback registry is not verified
		 * here (later requests are): loading the CA bundle costs more than
		 * the rest of a small pull from a plain-HTTP local registry. */
		CURLcode cc;

		q.no_registry_auth = true; /* and no credentials go with it, whatever is known */
		cc = perform(&q, !(r->insecure || r->loopback));

		*cc_out = cc;
		if (cc != CURLE_OK)
			rc = bt_error_set(err, BERTH_ENETWORK, 0, "GET %s: %s", url,
					  q.errbuf[0] ? q.errbuf : curl.easy_strerror(cc));
		else if (q.status >= 500)
			rc = status_error(&q, err);
		else
			rc = 0;
	} else {
		rc = run(&q, err);
	}
	req_clear(&q);
	free(url);
	return rc;
}

int bt_registry_ping(bt_registry *r, bool must_auth, berth_error **err)
{
	char *https = NULL, *http = NULL;
	berth_error *first = NULL;
	CURLcode cc;
	int rc, attempt = 0;

	if (r->base && !must_auth)
		return 0;
	if (!(https = bt_strdup_printf("https://%s", r->host)) || !(http = bt_strdup_printf("http://%s", r->host))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "registry %s: out of memory", r->domain);
		goto out;
	}
	for (;;) {
		berth_error_free(first);
		first = NULL;
		rc = ping_at(r, r->base ? r->base : https, false, &cc, &first);
		if (rc == 0 || r->base)
			break;
		/* a server that does not speak TLS: plain HTTP where allowed */
		if ((cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING) &&
		    (r->loopback || r->insecure)) {
			berth_error_free(first);
			first = NULL;
			if ((rc = ping_at(r, http, false, &cc, &first)) == 0) {
				free(r->base);
				r->base = http;
				http = NULL;
				break;
			}
		}
		if (!transient_curl(cc) || attempt >= r->retries)
			break;
		{
			struct req dummy = { .r = r };

			if (backoff(&dummy, attempt++) < 0)
				break;
		}
	}
	if (rc < 0) {
		if (cc == CURLE_SSL_CONNECT_ERROR && !(r->loopback || r->insecure))
			bt_error_wrap(&first, rc, "the registry does not speak TLS; list it as insecure to use plain HTTP");
		if (err)
			*err = first;
		else
			berth_error_free(first);
		first = NULL;
		bt_error_wrap(err, rc, "reaching registry %s", r->domain);
		goto out;
	}
	if (!r->base) {
		r->base = https;
		https = NULL;
	}
	if (must_auth && (rc = ping_at(r, r->base, true, &cc, err)) < 0)
		bt_error_wrap(err, rc, "checking credentials with registry %s", r->domain);
out:
	berth_error_free(first);
	free(https);
	free(http);
	return rc;
}

static const char accept_all[] = BT_MEDIA_OCI_INDEX ", " BT_MEDIA_OCI_MANIFEST ", " BT_MEDIA_DOCKER_LIST
	", " BT_MEDIA_DOCKER_MANIFEST;

int bt_registry_get_manifest(bt_registry *r, const char *repo, const char *ref, char **body,
			     size_t *len, char **content_type, char **digest, berth_error **err)
{
	struct req q = { 0 };
	char *url = NULL, *scope = NULL;
	int rc;

	*body = *content_type = *digest = NULL;
	*len = 0;
	if ((rc = bt_registry_ping(r, false, err)) < 0)
		return rc;
	if (!(url = bt_strdup_printf("%s/v2/%s/manifests/%s", r->base, repo, ref)) ||
	    !(scope = bt_strdup_printf("repository:%s:pull", repo))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "fetching manifest: out of memory");
		goto out;
	}
	q.r = r;
	q.url = url;
	q.scope = scope;
	q.accept = accept_all;
	q.max = BT_MANIFEST_MAX;
	if ((rc = run(&q, err)) < 0) {
		if (rc == BERTH_EINVAL && q.too_big)
			bt_error_wrap(err, rc, "manifest %s:%s is too large", repo, ref);
		goto out;
	}
	*body = q.buf ? q.buf : strdup("");
	q.buf = NULL;
	*len = q.len;
	*content_type = q.content_type;
	q.content_type = NULL;
	*digest = q.docker_digest;
	q.docker_digest = NULL;
	if (!*body)
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "fetching manifest: out of memory");
out:
	req_clear(&q);
	free(url);
	free(scope);
	return rc;
}

int bt_registry_get_blob(bt_registry *r, const char *repo, const char *digest,
			 const bt_blob_consumer *c, berth_error **err)
{
	struct req q = { 0 };
	char *url = NULL, *scope = NULL;
	int rc;

	if ((rc = bt_registry_ping(r, false, err)) < 0)
		return rc;
	if (!(url = bt_strdup_printf("%s/v2/%s/blobs/%s", r->base, repo, digest)) ||
	    !(scope = bt_strdup_printf("repository:%s:pull", repo))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "fetching blob: out of memory");
		goto out;
	}
	q.r = r;
	q.url = url;
	q.scope = scope;
	q.c = c;
	rc = run(&q, err);
out:
	req_clear(&q);
	free(url);
	free(scope);
	return rc;
}
