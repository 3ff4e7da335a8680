/* Image references: the grammar of github.com/distribution/reference and
 * Docker's normalisation (docker.io, library/, latest).
 *
 *   reference   := name [ ":" tag ] [ "@" digest ]
 *   name        := [ domain "/" ] path-component [ "/" path-component ]*
 *   domain      := host [ ":" port ]      host: DNS name, IPv4 or [IPv6]
 *   path-component := [a-z0-9]+ ( separator [a-z0-9]+ )*
 *   separator   := "." | "_" | "__" | "-"+
 *   tag         := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *
 * The first component is the domain when it contains '.' or ':', is
 * "localhost", or has an uppercase letter (which a path may not); otherwise
 * the domain is docker.io. */
#include "internal.h"
#include "image-internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DOMAIN "docker.io"
#define LEGACY_DOMAIN "index.docker.io"
#define OFFICIAL_PREFIX "library/"
#define DEFAULT_TAG "latest"
#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128

struct berth_reference {
	char *domain;
	char *path;
	char *name;          /* domain/path */
	char *familiar_name; /* as docker prints it */
	char *tag;           /* NULL for digest-only references */
	char *digest;        /* NULL when none */
	char *string;
	char *familiar;
};

/* The text as it may appear in a message: quoted, non-printable bytes as
 * \xNN, cut after 200 bytes. */
static void quote(const char *text, char out[1024])
{
	size_t o = 0;

	out[o++] = '"';
	for (size_t i = 0; text[i] && o < 1000; i++) {
		unsigned char c = (unsigned char)text[i];

		if (i == 200) {
			o += (size_t)snprintf(out + o, 1024 - o, "...");
			break;
		}
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, 1024 - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o++] = '"';
	out[o] = '\0';
}

static int fail(berth_error **err, int code, const char *text, const char *fmt, ...)
	BT_PRINTF(4, 5);
static int fail(berth_error **err, int code, const char *text, const char *fmt, ...)
{
	char q[1024], *what;
	va_list ap;

	if (!err)
		return code;
	quote(text, q);
	va_start(ap, fmt);
	what = bt_strdup_vprintf(fmt, ap);
	va_end(ap);
	bt_error_set(err, code, 0, "image reference %s: %s", q, what ? what : "malformed");
	free(what);
	return code;
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_word(char c)
{
	return is_alnum(c) || c == '_';
}

static bool has_upper(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return true;
	return false;
}

/* One path component, s[0..len). */
static int check_component(const char *text, const char *s, size_t len, berth_error **err)
{
	size_t i = 0;

	if (len == 0)
		return fail(err, BERTH_EINVAL, text, "empty path component");
	if (!is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
		return fail(err, BERTH_EINVAL, text,
			    "path component \"%.*s\" must start and end with a lowercase letter or digit",
			    (int)len, s);
	while (i < len) {
		size_t run = 0;

		while (i < len && is_lower_alnum(s[i]))
			i++;
		if (i == len)
			break;
		while (i + run < len && !is_lower_alnum(s[i + run]))
			run++;
		/* s[i..i+run) is the separator */
		bool dashes = strspn(s + i, "-") >= run;
		bool ok = dashes || (run == 1 && (s[i] == '.' || s[i] == '_')) ||
			  (run == 2 && s[i] == '_' && s[i + 1] == '_');
		if (!ok) {
			for (size_t k = 0; k < run; k++)
				if (!strchr("._-", s[i + k]))
					return fail(err, BERTH_EINVAL, text,
						    "path component \"%.*s\": character '%c' is not allowed",
						    (int)len, s, s[i + k]);
			return fail(err, BERTH_EINVAL, text,
				    "path component \"%.*s\": separator \"%.*s\" is not allowed "
				    "(one of '.', '_', '__' or dashes)",
				    (int)len, s, (int)run, s + i);
		}
		i += run;
	}
	return 0;
}

static int check_path(const char *text, const char *path, berth_error **err)
{
	const char *p = path;

	if (has_upper(path, strlen(path)))
		return fail(err, BERTH_EINVAL, text, "repository name \"%s\" must be lowercase", path);
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		int rc = check_component(text, p, len, err);

		if (rc < 0)
			return rc;
		if (!slash)
			return 0;
		p = slash + 1;
	}
}

/* host [":" port]; host a DNS name, an IPv4 address or [IPv6]. */
static int check_domain(const char *text, const char *d, berth_error **err)
{
	const char *host_end, *port = NULL;

	if (d[0] == '[') {
		const char *close = strchr(d, ']');

		if (!close || close == d + 1)
			return fail(err, BERTH_EINVAL, text, "domain \"%s\": unterminated IPv6 address", d);
		for (const char *c = d + 1; c < close; c++)
			if (!strchr("0123456789abcdefABCDEF:.", *c))
				return fail(err, BERTH_EINVAL, text,
					    "domain \"%s\": malformed IPv6 address", d);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return fail(err, BERTH_EINVAL, text,
				    "domain \"%s\": unexpected text after the IPv6 address", d);
	} else {
		const char *colon = strchr(d, ':');

		host_end = colon ? colon : d + strlen(d);
		if (colon)
			port = colon + 1;
		if (host_end == d)
			return fail(err, BERTH_EINVAL, text, "domain \"%s\": empty host name", d);
		for (const char *c = d; c < host_end;) {
			const char *dot = memchr(c, '.', (size_t)(host_end - c));
			const char *end = dot ? dot : host_end;

			if (end == c)
				return fail(err, BERTH_EINVAL, text,
					    "domain \"%s\": empty label in the host name", d);
			if (!is_alnum(c[0]) || !is_alnum(end[-1]))
				return fail(err, BERTH_EINVAL, text,
					    "domain \"%s\": host name labels must start and end "
					    "with a letter or digit",
					    d);
			for (const char *k = c; k < end; k++)
				if (!is_alnum(*k) && *k != '-')
					return fail(err, BERTH_EINVAL, text,
						    "domain \"%s\": character '%c' is not allowed in a host name",
						    d, *k);
			c = dot ? dot + 1 : host_end;
			if (dot && c == host_end)
				return fail(err, BERTH_EINVAL, text,
					    "domain \"%s\": empty label in the host name", d);
		}
	}
	if (port) {
		size_t n = strlen(port);

		if (n == 0 || strspn(port, "0123456789") != n)
			return fail(err, BERTH_EINVAL, text, "domain \"%s\": port must be a number", d);
		if (n > 5 || atoi(port) > 65535)
			return fail(err, BERTH_EINVAL, text, "domain \"%s\": port out of range", d);
	}
	return 0;
}

static int check_tag(const char *text, const char *tag, berth_error **err)
{
	size_t len = strlen(tag);

	if (len == 0)
		return fail(err, BERTH_EINVAL, text, "empty tag after ':'");
	if (len > TAG_MAX_LEN)
		return fail(err, BERTH_EINVAL, text, "tag is %zu characters long, more than the %d allowed",
			    len, TAG_MAX_LEN);
	if (!is_word(tag[0]))
		return fail(err, BERTH_EINVAL, text,
			    "tag \"%s\" must start with a letter, a digit or '_'", tag);
	for (size_t i = 1; i < len; i++)
		if (!is_word(tag[i]) && tag[i] != '.' && tag[i] != '-')
			return fail(err, BERTH_EINVAL, text, "tag \"%s\": character '%c' is not allowed",
				    tag, tag[i]);
	return 0;
}

void berth_reference_free(berth_reference *ref)
{
	if (!ref)
		return;
	free(ref->domain);
	free(ref->path);
	free(ref->name);
	free(ref->familiar_name);
	free(ref->tag);
	free(ref->digest);
	free(ref->string);
	free(ref->familiar);
	free(ref);
}

/* Whether the first component of name (up to a '/', which it must have)
 * would be read as a domain. */
static bool names_domain(const char *name)
{
	size_t n = strcspn(name, "/");

	return memchr(name, '.', n) || memchr(name, ':', n) || (n == 9 && !strncmp(name, "localhost", 9)) ||
	       has_upper(name, n);
}

/* Fills the derived strings of ref from domain, path, tag and digest. */
static int finish(berth_reference *ref)
{
	const char *fam = ref->name;
	const char *t = ref->tag ? ":" : "", *tag = ref->tag ? ref->tag : "";
	const char *a = ref->digest ? "@" : "", *dig = ref->digest ? ref->digest : "";

	if (!strcmp(ref->domain, DEFAULT_DOMAIN)) {
		const char *rest = ref->path;

		if (!strncmp(rest, OFFICIAL_PREFIX, strlen(OFFICIAL_PREFIX)) &&
		    !strchr(rest + strlen(OFFICIAL_PREFIX), '/'))
			rest += strlen(OFFICIAL_PREFIX);
		/* "docker.io/a.b/c" stays whole: "a.b/c" would name registry a.b */
		if (!strchr(rest, '/') || !names_domain(rest))
			fam = rest;
	}
	ref->familiar_name = strdup(fam);
	ref->string = bt_strdup_printf("%s%s%s%s%s", ref->name, t, tag, a, dig);
	ref->familiar = bt_strdup_printf("%s%s%s%s%s", fam, t, tag, a, dig);
	return ref->familiar_name && ref->string && ref->familiar ? 0 : -1;
}

int berth_reference_parse(const char *text, berth_reference **out, berth_error **err)
{
	berth_reference *ref = NULL;
	char *buf = NULL, *at, *name, *colon, *slash, *remainder;
	const char *domain;
	int rc;

	*out = NULL;
	if (!text)
		return bt_error_set(err, BERTH_EINVAL, 0, "image reference: none given (NULL)");
	if (!*text)
		return fail(err, BERTH_EINVAL, text, "empty");
	for (const char *c = text; *c; c++) {
		unsigned char u = (unsigned char)*c;

		if (u == ' ' || (u >= '\t' && u <= '\r'))
			return fail(err, BERTH_EINVAL, text, "contains whitespace");
		if (u < 0x20 || u >= 0x7f)
			return fail(err, BERTH_EINVAL, text, "contains a control or non-ASCII character");
	}
	if (strlen(text) == 64 && strspn(text, "0123456789abcdef") == 64)
		return fail(err, BERTH_EINVAL, text,
			    "a 64-digit hex string is an image ID, not a repository name");
	if (!(buf = strdup(text)) || !(ref = calloc(1, sizeof(*ref))))
		goto nomem;

	/* name [":" tag] ["@" digest] */
	if ((at = strchr(buf, '@'))) {
		*at = '\0';
		if (strchr(at + 1, '@')) {
			rc = fail(err, BERTH_EINVAL, text, "more than one '@'");
			goto fail;
		}
		if (!at[1]) {
			rc = fail(err, BERTH_EINVAL, text, "empty digest after '@'");
			goto fail;
		}
		if ((rc = bt_digest_validate(at + 1, err)) < 0) {
			char q[1024];

			quote(text, q);
			bt_error_wrap(err, rc, "image reference %s", q);
			goto fail;
		}
		if (!(ref->digest = strdup(at + 1)))
			goto nomem;
	}
	name = buf;
	slash = strrchr(name, '/');
	colon = strrchr(name, ':');
	if (colon && (!slash || colon > slash)) {
		*colon = '\0';
		if ((rc = check_tag(text, colon + 1, err)) < 0)
			goto fail;
		if (!(ref->tag = strdup(colon + 1)))
			goto nomem;
	}
	if (!*name) {
		rc = fail(err, BERTH_EINVAL, text, "empty repository name");
		goto fail;
	}

	/* the domain, when the first component looks like one */
	slash = strchr(name, '/');
	if (slash && names_domain(name)) {
		*slash = '\0';
		if ((rc = check_domain(text, name, err)) < 0)
			goto fail;
		domain = !strcmp(name, LEGACY_DOMAIN) ? DEFAULT_DOMAIN : name;
		remainder = slash + 1;
	} else {
		domain = DEFAULT_DOMAIN;
		remainder = name;
	}
	if ((rc = check_path(text, remainder, err)) < 0)
		goto fail;
	if (!(ref->domain = strdup(domain)))
		goto nomem;
	if (!strcmp(domain, DEFAULT_DOMAIN) && !strchr(remainder, '/'))
		ref->path = bt_strdup_printf("%s%s", OFFICIAL_PREFIX, remainder);
	else
		ref->path = strdup(remainder);
	if (!ref->path || !(ref->name = bt_strdup_printf("%s/%s", ref->domain, ref->path)))
		goto nomem;
	if (strlen(ref->name) > NAME_MAX_LEN) {
		rc = fail(err, BERTH_EINVAL, text, "name \"%.40s...\" is %zu characters long, more than the %d allowed",
			  ref->name, strlen(ref->name), NAME_MAX_LEN);
		goto fail;
	}
	if (!ref->tag && !ref->digest && !(ref->tag = strdup(DEFAULT_TAG)))
		goto nomem;
	if (finish(ref) < 0)
		goto nomem;
	free(buf);
	*out = ref;
	return 0;

nomem:
	rc = bt_error_set(err, BERTH_ENOMEM, 0, "parsing image reference: out of memory");
fail:
	free(buf);
	berth_reference_free(ref);
	return rc;
}

const char *berth_reference_domain(const berth_reference *ref)
{
	return ref->domain;
}

const char *berth_reference_path(const berth_reference *ref)
{
	return ref->path;
}

const char *berth_reference_name(const berth_reference *ref)
{
	return ref->name;
}

const char *berth_reference_familiar_name(const berth_reference *ref)
{
	return ref->familiar_name;
}

const char *berth_reference_tag(const berth_reference *ref)
{
	return ref->tag;
}

const char *berth_reference_digest(const berth_reference *ref)
{
	return ref->digest;
}

const char *berth_reference_string(const berth_reference *ref)
{
	return ref->string;
}

const char *berth_reference_familiar(const berth_reference *ref)
{
	return ref->familiar;
}
