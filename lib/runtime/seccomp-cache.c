/* Compiled seccomp filters, kept under <runtime root>/.seccomp/ (a dot
 * name: never a container id, and skipped by listings and sweeps).
 *
 * libseccomp takes milliseconds of a start (and of every exec) to turn
 * Docker's profile into BPF, and the profiles are few: the default one, a
 * user's own. An entry holds the profile's canonical text beside its BPF
 * and is used only when that text equals the profile byte for byte and it
 * was made for this kernel release and this libseccomp; its file name is a
 * hash of the text, an index never trusted on its own. Entries are written
 * atomically in the runtime's root (root's, 0700); one that does not read
 * back whole is compiled again and replaced.
 */
#define _GNU_SOURCE
#include "runtime-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#if BERTH_HAVE_SECCOMP
#include <seccomp.h>
#endif

#define CACHE_MAGIC "berth-seccomp-bpf 1"
#define CACHE_MAX (4u << 20)

/* What the BPF depends on besides the profile: the kernel (libseccomp asks
 * it which actions and flags exist) and libseccomp itself. */
static int cache_origin(char *buf, size_t size)
{
#if BERTH_HAVE_SECCOMP
	struct utsname u;
	const struct scmp_version *v = seccomp_version();

	if (uname(&u) < 0 || !v)
		return -1;
	return snprintf(buf, size, "%s %s %u.%u.%u", CACHE_MAGIC, u.release, v->major, v->minor, v->micro) <
			       (int)size
		       ? 0
		       : -1;
#else
	(void)buf;
	(void)size;
	return -1;
#endif
}

static uint64_t fnv1a(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

/* The entry's layout: "<origin>\n<flags> <text bytes> <bpf bytes>\n", the
 * text, the BPF. Fills out when path holds text's filter; false otherwise. */
static bool cache_read(const char *path, const char *origin, const char *text, size_t tlen,
		       bt_rt_seccomp *out)
{
	char *buf = NULL, *p, *nl;
	size_t len, olen = strlen(origin), blen, xlen;
	unsigned flags;
	bool ok = false;
	int n = 0;

	if (bt_read_file(path, CACHE_MAX, &buf, &len, NULL) < 0)
		return false;
	if (len <= olen + 1 || memcmp(buf, origin, olen) || buf[olen] != '\n')
		goto out;
	p = buf + olen + 1;
	if (!(nl = memchr(p, '\n', len - (size_t)(p - buf))) ||
	    sscanf(p, "%u %zu %zu%n", &flags, &xlen, &blen, &n) != 3 || p + n != nl)
		goto out;
	p = nl + 1;
	if (xlen != tlen || blen == 0 || blen % sizeof(struct sock_filter) ||
	    blen / sizeof(struct sock_filter) > BPF_MAXINSNS || (size_t)(p - buf) + xlen + blen != len ||
	    memcmp(p, text, tlen))
		goto out;
	if (!(out->bpf = malloc(blen)))
		goto out;
	memcpy(out->bpf, p + xlen, blen);
	out->len = (unsigned short)(blen / sizeof(struct sock_filter));
	out->flags = flags;
	ok = true;
out:
	free(buf);
	return ok;
}

static void cache_write(const char *dir, const char *path, const char *origin, const char *text,
			size_t tlen, const bt_rt_seccomp *sc)
{
	size_t blen = (size_t)sc->len * sizeof(struct sock_filter);
	char head[512];
	int hlen = snprintf(head, sizeof(head), "%s\n%u %zu %zu\n", origin, sc->flags, tlen, blen);
	char *buf;

	if (hlen < 0 || (size_t)hlen >= sizeof(head) || bt_mkdir_p(dir, 0700, NULL) < 0 ||
	    !(buf = malloc((size_t)hlen + tlen + blen)))
		return;
	memcpy(buf, head, (size_t)hlen);
	memcpy(buf + hlen, text, tlen);
	memcpy(buf + hlen + tlen, sc->bpf, blen);
	/* a cache: lost with a crash, it is compiled again */
	bt_write_file_volatile(path, buf, (size_t)hlen + tlen + blen, 0600, NULL);
	free(buf);
}

int bt_rt_seccomp_get(const berth_runtime *rt, const json_t *seccomp, bt_rt_seccomp *out,
		      berth_error **err)
{
	char origin[400], *text = NULL, *dir = NULL, *path = NULL;
	size_t tlen;
	int rc;

	memset(out, 0, sizeof(*out));
	if (cache_origin(origin, sizeof(origin)) < 0 ||
	    !(text = json_dumps(seccomp, JSON_COMPACT | JSON_SORT_KEYS)))
		return bt_rt_seccomp_compile(seccomp, out, err);
	tlen = strlen(text);
	if (!(dir = bt_strdup_printf("%s/.seccomp", rt->root)) ||
	    !(path = bt_strdup_printf("%s/%016" PRIx64 ".bpf", dir, fnv1a(text, tlen)))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if (cache_read(path, origin, text, tlen, out)) {
		rc = 0;
		goto out;
	}
	if ((rc = bt_rt_seccomp_compile(seccomp, out, err)) == 0 && out->bpf)
		cache_write(dir, path, origin, text, tlen, out);
out:
	free(path);
	free(dir);
	free(text);
	return rc;
}
