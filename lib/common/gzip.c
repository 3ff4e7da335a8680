/* gzip streams inflated with ISA-L's isal_inflate where it is there (about
 * four times zlib's speed on layer-sized streams), else with zlib's
 * inflate. Both are opened on first use (dl.c): only unpacking needs them.
 * Every member's header, CRC-32 and ISIZE are checked by the library; this
 * file walks the members as gzip does (one after another, trailing zeros
 * ignored) and refuses any other bytes after the last one, which zlib and
 * ISA-L leave to the caller and libarchive's gzip filter lets through. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#if BERTH_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

static struct {
	int (*init2)(z_stream *, int, const char *, int);
	int (*inflate)(z_stream *, int);
	int (*reset)(z_stream *);
	int (*end)(z_stream *);
} zl;

static const bt_dl_sym zlib_syms[] = {
	{ "inflateInit2_", (void **)&zl.init2 },
	{ "inflate", (void **)&zl.inflate },
	{ "inflateReset", (void **)&zl.reset },
	{ "inflateEnd", (void **)&zl.end },
	{ NULL, NULL },
};
static bt_dl_lib zlib_lib = BT_DL_LIB(BERTH_LIBZ_SONAME, zlib_syms);

#if BERTH_HAVE_ISAL
static struct {
	void (*init)(struct inflate_state *);
	void (*reset)(struct inflate_state *);
	int (*inflate)(struct inflate_state *);
} isal;

static const bt_dl_sym isal_syms[] = {
	{ "isal_inflate_init", (void **)&isal.init },
	{ "isal_inflate_reset", (void **)&isal.reset },
	{ "isal_inflate", (void **)&isal.inflate },
	{ NULL, NULL },
};
static bt_dl_lib isal_lib = BT_DL_LIB(BERTH_LIBISAL_SONAME, isal_syms);
#endif

enum engine { ENGINE_NONE, ENGINE_ISAL, ENGINE_ZLIB };
enum phase { IN_MEMBER, BETWEEN_MEMBERS, AT_END };

struct bt_gunzip {
	bt_gunzip_read_fn read;
	void *ud;
	enum engine engine;
	enum phase phase;
	const unsigned char *in; /* the input not yet taken */
	size_t avail;
	bool in_eof;
	bool zeros;        /* zero bytes seen after a member */
	unsigned member;   /* 1-based, for messages */
	bool header_done;  /* ISA-L: the member's header was handed over whole */
	unsigned char *hdr; /* ISA-L: the header gathered so far */
	size_t hdrlen;
	z_stream *z;
#if BERTH_HAVE_ISAL
	struct inflate_state *is;
#endif
	char why[200];
};

/* BERTH_INFLATE=zlib or =isal picks one; unset or empty: ISA-L when it loads. */
static enum engine pick_engine(const char **forced)
{
	const char *want = getenv("BERTH_INFLATE");

	*forced = want && *want ? want : NULL;
#if BERTH_HAVE_ISAL
	if ((!*forced || !strcmp(*forced, "isal")) && bt_dl_load(&isal_lib, NULL) == 0)
		return ENGINE_ISAL;
#endif
	if ((!*forced || !strcmp(*forced, "zlib")) && bt_dl_load(&zlib_lib, NULL) == 0)
		return ENGINE_ZLIB;
	return ENGINE_NONE;
}

const char *bt_gunzip_engine(void)
{
	const char *forced;

	switch (pick_engine(&forced)) {
	case ENGINE_ISAL:
		return "isa-l";
	case ENGINE_ZLIB:
		return "zlib";
	default:
		return NULL;
	}
}

static int engine_error(const char *forced, berth_error **err)
{
	int rc;

	if (forced && strcmp(forced, "isal") && strcmp(forced, "zlib"))
		return bt_error_set(err, BERTH_EINVAL, 0,
				    "BERTH_INFLATE=%.40s: expected \"isal\", \"zlib\" or nothing", forced);
	if (forced && !strcmp(forced, "isal")) {
#if BERTH_HAVE_ISAL
		rc = bt_dl_load(&isal_lib, err);
#else
		rc = bt_error_set(err, BERTH_EUNSUPPORTED, 0,
				  "this build has no ISA-L (configured --without-isal or without libisal-dev)");
#endif
		return bt_error_wrap(err, rc, "BERTH_INFLATE=isal");
	}
	rc = bt_dl_load(&zlib_lib, err);
	return bt_error_wrap(err, rc, "inflating gzip");
}

int bt_gunzip_new(bt_gunzip_read_fn read, void *ud, bt_gunzip **out, berth_error **err)
{
	const char *forced;
	enum engine engine = pick_engine(&forced);
	bt_gunzip *g;

	*out = NULL;
	if (engine == ENGINE_NONE)
		return engine_error(forced, err);
	if (!(g = calloc(1, sizeof(*g))))
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	g->read = read;
	g->ud = ud;
	g->engine = engine;
	g->member = 1;
#if BERTH_HAVE_ISAL
	if (engine == ENGINE_ISAL) {
		if (!(g->is = malloc(sizeof(*g->is)))) {
			free(g);
			return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		}
		isal.init(g->is);
		g->is->crc_flag = ISAL_GZIP; /* header parsed, CRC-32 and ISIZE checked */
	}
#endif
	if (engine == ENGINE_ZLIB) {
		/* 16 + 15: a gzip wrapper only, the largest window */
		if (!(g->z = calloc(1, sizeof(*g->z))) ||
		    zl.init2(g->z, 16 + MAX_WBITS, ZLIB_VERSION, (int)sizeof(*g->z)) != Z_OK) {
			free(g->z);
			free(g);
			return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		}
	}
	*out = g;
	return 0;
}

void bt_gunzip_free(bt_gunzip *g)
{
	if (!g)
		return;
	if (g->z) {
		zl.end(g->z);
		free(g->z);
	}
#if BERTH_HAVE_ISAL
	free(g->is);
#endif
	free(g->hdr);
	free(g);
}

static ssize_t failed(bt_gunzip *g, const char *what, const char *detail)
{
	snprintf(g->why, sizeof(g->why), "gzip member %u: %s%s%s%s", g->member, what,
		 detail ? " (" : "", detail ? detail : "", detail ? ")" : "");
	return -1;
}

#if BERTH_HAVE_ISAL
/* ISA-L 2.30 checks a header's CRC-16 (FHCRC) over only the part of the
 * header in the current input, so a header split across reads fails: it is
 * gathered here and handed over in one piece. */
#define HEADER_MAX (64u << 10)

/* The length of the gzip header in h, or 0 while it is incomplete (a wrong
 * magic: what there is, for ISA-L to refuse). */
static size_t header_length(const unsigned char *h, size_t n)
{
	size_t pos = 10;

	if (n >= 2 && (h[0] != 0x1f || h[1] != 0x8b))
		return n;
	if (n < 10)
		return 0;
	if (h[3] & 0x04) { /* FEXTRA */
		if (n < 12)
			return 0;
		pos += 2 + (size_t)(h[10] | h[11] << 8);
	}
	for (unsigned flag = 0x08; flag <= 0x10; flag <<= 1) { /* FNAME, FCOMMENT */
		const unsigned char *nul;

		if (!(h[3] & flag))
			continue;
		if (pos >= n || !(nul = memchr(h + pos, 0, n - pos)))
			return 0;
		pos = (size_t)(nul - h) + 1;
	}
	if (h[3] & 0x02) /* FHCRC */
		pos += 2;
	return pos <= n ? pos : 0;
}

static ssize_t isal_step(bt_gunzip *g, unsigned char *out, size_t len, bool *member_end);

static ssize_t isal_header(bt_gunzip *g, unsigned char *out, size_t len)
{
	size_t take = HEADER_MAX - g->hdrlen < g->avail ? HEADER_MAX - g->hdrlen : g->avail;
	size_t whole, before = g->hdrlen;
	const unsigned char *rest;
	size_t restlen;
	bool member_end = false;
	ssize_t n;

	if (!g->hdr && !(g->hdr = malloc(HEADER_MAX)))
		return failed(g, "out of memory", NULL);
	memcpy(g->hdr + g->hdrlen, g->in, take);
	g->hdrlen += take;
	if (!(whole = header_length(g->hdr, g->hdrlen))) {
		if (g->hdrlen == HEADER_MAX)
			return failed(g, "a header longer than 64 KiB", NULL);
		g->in += take;
		g->avail -= take;
		return 0;
	}
	/* the input past the header goes on after it */
	rest = g->in + (whole - before);
	restlen = g->avail - (whole - before);
	g->in = g->hdr;
	g->avail = whole;
	n = isal_step(g, out, len, &member_end);
	if (n >= 0 && g->avail != 0)
		n = failed(g, "not a gzip header (or an unsupported one)", NULL);
	g->in = rest;
	g->avail = restlen;
	g->hdrlen = 0;
	g->header_done = true;
	return n;
}

static ssize_t isal_step(bt_gunzip *g, unsigned char *out, size_t len, bool *member_end)
{
	struct inflate_state *s = g->is;
	int r;

	s->next_in = (uint8_t *)g->in;
	s->avail_in = (uint32_t)g->avail; /* input and output are at most a few MiB */
	s->next_out = out;
	s->avail_out = (uint32_t)len;
	r = isal.inflate(s);
	g->in = s->next_in;
	g->avail = s->avail_in;
	switch (r) {
	case ISAL_DECOMP_OK:
	case ISAL_END_INPUT:
	case ISAL_OUT_OVERFLOW:
		break;
	case ISAL_INCORRECT_CHECKSUM:
		return failed(g, "its CRC-32 or length (ISIZE) does not match its data", NULL);
	case ISAL_INVALID_WRAPPER:
	case ISAL_UNSUPPORTED_METHOD:
		return failed(g, "not a gzip header (or an unsupported one)", NULL);
	default:
		return failed(g, "invalid deflate data", NULL);
	}
	*member_end = s->block_state == ISAL_BLOCK_FINISH;
	return (ssize_t)(len - s->avail_out);
}
#endif

static ssize_t zlib_step(bt_gunzip *g, unsigned char *out, size_t len, bool *member_end)
{
	z_stream *z = g->z;
	int r;

	z->next_in = (Bytef *)g->in;
	z->avail_in = (uInt)g->avail;
	z->next_out = out;
	z->avail_out = (uInt)len;
	r = zl.inflate(z, Z_NO_FLUSH);
	g->in = z->next_in;
	g->avail = z->avail_in;
	if (r == Z_DATA_ERROR && z->msg && !strcmp(z->msg, "incorrect data check"))
		return failed(g, "its CRC-32 does not match its data", NULL);
	if (r == Z_DATA_ERROR && z->msg && !strcmp(z->msg, "incorrect length check"))
		return failed(g, "its length (ISIZE) does not match its data", NULL);
	if (r == Z_DATA_ERROR || r == Z_NEED_DICT || r == Z_STREAM_ERROR || r == Z_MEM_ERROR)
		return failed(g, "invalid gzip data", z->msg ? z->msg : "zlib error");
	*member_end = r == Z_STREAM_END;
	return (ssize_t)(len - z->avail_out);
}

static void next_member(bt_gunzip *g)
{
	g->member++;
	g->phase = IN_MEMBER;
	g->header_done = false;
#if BERTH_HAVE_ISAL
	if (g->is) {
		isal.reset(g->is);
		g->is->crc_flag = ISAL_GZIP;
	}
#endif
	if (g->z)
		zl.reset(g->z);
}

/* Between members: zeros are skipped (gzip ignores them too); the next
 * member must start with gzip's magic byte. */
static ssize_t between_members(bt_gunzip *g)
{
	while (g->avail > 0 && g->in[0] == 0) {
		g->in++;
		g->avail--;
		g->zeros = true;
	}
	if (g->avail == 0) {
		if (g->in_eof)
			g->phase = AT_END;
		return 0;
	}
	if (g->zeros || g->in[0] != 0x1f) {
		snprintf(g->why, sizeof(g->why), "trailing data after gzip member %u that is not a gzip member",
			 g->member);
		return -1;
	}
	next_member(g);
	return 0;
}

ssize_t bt_gunzip_read(bt_gunzip *g, void *out, size_t len, const char **why)
{
	size_t done = 0;

	*why = NULL;
	while (done < len && g->phase != AT_END) {
		bool member_end = false, drained = g->avail == 0 && g->in_eof;
		ssize_t n;

		if (g->avail == 0 && !g->in_eof) {
			const void *buf;

			if ((n = g->read(g->ud, &buf)) < 0)
				return -1; /* the reader knows why */
			g->in = buf;
			g->avail = (size_t)n;
			g->in_eof = n == 0;
			continue;
		}
		if (g->phase == BETWEEN_MEMBERS) {
			if (between_members(g) < 0)
				break;
			continue;
		}
#if BERTH_HAVE_ISAL
		if (g->engine == ENGINE_ISAL && !g->header_done && !drained)
			n = isal_header(g, (unsigned char *)out + done, len - done);
		else if (g->engine == ENGINE_ISAL)
			n = isal_step(g, (unsigned char *)out + done, len - done, &member_end);
		else
#endif
			n = zlib_step(g, (unsigned char *)out + done, len - done, &member_end);
		if (n < 0)
			break;
		done += (size_t)n;
		if (member_end)
			g->phase = BETWEEN_MEMBERS;
		else if (drained && n == 0) {
			snprintf(g->why, sizeof(g->why), "truncated gzip stream (in member %u)", g->member);
			break;
		}
	}
	if (g->why[0]) {
		*why = g->why;
		return -1;
	}
	return (ssize_t)done;
}
