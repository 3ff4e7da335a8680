/* lib/common/gzip.c: gzip streams through ISA-L and through zlib (each
 * test runs once per engine, chosen with BERTH_INFLATE): members one after
 * another, trailing zeros ignored; bad CRC-32, bad ISIZE, truncation at any
 * point and trailing garbage refused. Streams are made with zlib's deflate. */
#include "unit.h"

#include <zlib.h>

static const char *const engines[] = { "isal", "zlib" };

struct input {
	const unsigned char *data;
	size_t len, pos, chunk; /* handed out chunk bytes at a time */
};

static ssize_t feed(void *ud, const void **buf)
{
	struct input *in = ud;
	size_t n = in->len - in->pos < in->chunk ? in->len - in->pos : in->chunk;

	*buf = in->data + in->pos;
	in->pos += n;
	return (ssize_t)n;
}

/* with full_header: FEXTRA, FNAME, FCOMMENT and FHCRC set, as gzip(1) and
 * other tools may write them */
static unsigned char *gz_with(const unsigned char *data, size_t len, size_t *outlen,
				bool full_header)
{
	z_stream z = { 0 };
	unsigned char *out = malloc(len + len / 100 + 1024);
	gz_header h = { .text = 0, .time = 1700000000, .os = 3, .extra = (Bytef *)"XYab",
			.extra_len = 4, .name = (Bytef *)"layer.tar", .comment = (Bytef *)"a comment",
			.hcrc = 1 };

	ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	if (full_header)
		ck_assert_int_eq(deflateSetHeader(&z, &h), Z_OK);
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)(len + len / 100 + 1024);
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	*outlen = z.total_out;
	deflateEnd(&z);
	return out;
}

static unsigned char *gz(const unsigned char *data, size_t len, size_t *outlen)
{
	return gz_with(data, len, outlen, false);
}

/* Inflates data fed `chunk` bytes at a time, out `outchunk` at a time:
 * the byte count, or -1 with the reason copied to why. */
static ssize_t gunzip(int engine, const unsigned char *data, size_t len, size_t chunk,
		      size_t outchunk, unsigned char *out, size_t cap, char *why)
{
	struct input in = { data, len, 0, chunk };
	berth_error *err = NULL;
	const char *w;
	bt_gunzip *g;
	size_t total = 0;
	ssize_t n;

	setenv("BERTH_INFLATE", engines[engine], 1);
	ck_assert_ok(bt_gunzip_new(feed, &in, &g, &err), err);
	while ((n = bt_gunzip_read(g, out + total, outchunk < cap - total ? outchunk : cap - total, &w)) > 0)
		total += (size_t)n;
	if (n < 0) {
		ck_assert_ptr_nonnull(w);
		snprintf(why, 256, "%s", w);
	}
	bt_gunzip_free(g);
	unsetenv("BERTH_INFLATE");
	return n < 0 ? -1 : (ssize_t)total;
}

#define RAW_LEN (300u << 10)
static unsigned char *raw, *z1, *out;
static size_t z1len;

static void setup(void)
{
	raw = malloc(RAW_LEN);
	/* compressible but not trivial: deflate makes blocks of all kinds */
	for (size_t i = 0; i < RAW_LEN; i++)
		raw[i] = (unsigned char)((i * 7919u) >> (i % 13)) ^ (i % 251 ? 0 : 0xff);
	z1 = gz(raw, RAW_LEN, &z1len);
	out = malloc(4 * RAW_LEN);
}

static void teardown(void)
{
	free(raw);
	free(z1);
	free(out);
}

START_TEST(engine_is_the_one_asked_for)
{
	setenv("BERTH_INFLATE", engines[_i], 1);
	ck_assert_str_eq(bt_gunzip_engine(), _i == 0 ? "isa-l" : "zlib");
	unsetenv("BERTH_INFLATE");
}
END_TEST

START_TEST(one_member_any_chunking)
{
	static const size_t chunks[][2] = { { 1 << 20, 1 << 20 }, { 1, 4096 }, { 7, 1 }, { 4096, 100 } };
	char why[256];

	for (size_t c = 0; c < BT_ARRAY_SIZE(chunks); c++) {
		/* byte-at-a-time output is slow: a shorter stream for it */
		size_t len = chunks[c][1] == 1 ? 20000 : RAW_LEN, zlen;
		unsigned char *z = gz(raw, len, &zlen);

		ck_assert_int_eq(gunzip(_i, z, zlen, chunks[c][0], chunks[c][1], out, 4 * RAW_LEN, why),
				 (ssize_t)len);
		ck_assert(!memcmp(out, raw, len));
		free(z);
	}
}
END_TEST

static void refused(int engine, const unsigned char *s, size_t len, const char *what)
{
	char why[256] = "";

	ck_assert_msg(gunzip(engine, s, len, 4096, 65536, out, 4 * RAW_LEN, why) == -1,
		      "%s: accepted by %s", what, engines[engine]);
	ck_assert_msg(strstr(why, what) != NULL, "%s, %s: said \"%s\"", engines[engine], what, why);
}

START_TEST(full_header)
{
	size_t zlen;
	unsigned char *z = gz_with(raw, RAW_LEN, &zlen, true);
	char why[256];

	/* fed a byte at a time, so the header is parsed across reads */
	ck_assert_int_eq(gunzip(_i, z, zlen, 1, 65536, out, 4 * RAW_LEN, why), (ssize_t)RAW_LEN);
	ck_assert(!memcmp(out, raw, RAW_LEN));
	z[12] ^= 0x01; /* inside FEXTRA: the header's CRC-16 no longer matches */
	ck_assert_int_eq(gunzip(_i, z, zlen, 4096, 65536, out, 4 * RAW_LEN, why), -1);
	free(z);
	if (_i == 0) { /* ISA-L's header is gathered in memory: bounded */
		unsigned char *h = calloc(1, 80000);

		memcpy(h, "\x1f\x8b\x08\x08\0\0\0\0\0\x03", 10);
		memset(h + 10, 'n', 80000 - 10); /* FNAME, no end */
		refused(_i, h, 80000, "a header longer than 64 KiB");
		free(h);
	}
}
END_TEST

START_TEST(members_and_trailing_zeros)
{
	unsigned char *s = malloc(3 * z1len + 600);
	char why[256];

	memcpy(s, z1, z1len);
	memcpy(s + z1len, z1, z1len);
	memcpy(s + 2 * z1len, z1, z1len);
	ck_assert_int_eq(gunzip(_i, s, 3 * z1len, 65536, 65536, out, 4 * RAW_LEN, why), 3 * (ssize_t)RAW_LEN);
	ck_assert(!memcmp(out + 2 * RAW_LEN, raw, RAW_LEN));
	/* a member boundary inside one input chunk and across chunks */
	ck_assert_int_eq(gunzip(_i, s, 2 * z1len, 3 * z1len, 1 << 20, out, 4 * RAW_LEN, why), 2 * (ssize_t)RAW_LEN);
	memset(s + z1len, 0, 600);
	ck_assert_int_eq(gunzip(_i, s, z1len + 600, 1000, 65536, out, 4 * RAW_LEN, why), (ssize_t)RAW_LEN);
	free(s);
}
END_TEST

START_TEST(bad_streams_refused)
{
	unsigned char *s = malloc(2 * z1len + 16);

	memcpy(s, z1, z1len);
	s[z1len - 8] ^= 0x01; /* CRC-32 */
	refused(_i, s, z1len, "CRC-32");
	s[z1len - 8] ^= 0x01;
	s[z1len - 2] ^= 0x01; /* ISIZE */
	refused(_i, s, z1len, "length (ISIZE)");
	s[z1len - 2] ^= 0x01;
	for (size_t cut = 0; cut < z1len; cut += cut < 20 ? 1 : z1len / 7)
		refused(_i, s, cut, "truncated");
	refused(_i, s, z1len - 1, "truncated");
	memcpy(s + z1len, "garbage!", 8);
	refused(_i, s, z1len + 8, "not a gzip member");
	memset(s + z1len, 0, 8);
	s[z1len + 7] = 'x'; /* zeros, then something */
	refused(_i, s, z1len + 8, "not a gzip member");
	memcpy(s + z1len, z1, 10); /* a second member cut after its header */
	refused(_i, s, z1len + 10, "truncated gzip stream (in member 2)");
	s[0] = 0x1e;
	refused(_i, s, z1len, "gzip");
	s[0] = 0x1f;
	s[z1len / 2] ^= 0xff; /* the deflate data itself */
	refused(_i, s, z1len, "gzip member 1");
	free(s);
}
END_TEST

START_TEST(unknown_choice_refused)
{
	berth_error *err = NULL;
	bt_gunzip *g = NULL;

	setenv("BERTH_INFLATE", "pigz", 1);
	ck_assert_int_eq(bt_gunzip_new(feed, NULL, &g, &err), BERTH_EINVAL);
	ck_assert(strstr(berth_error_message(err), "BERTH_INFLATE=pigz") != NULL);
	ck_assert_ptr_null(g);
	berth_error_free(err);
	unsetenv("BERTH_INFLATE");
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("gzip");
	TCase *tc = tcase_create("gzip");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	/* _i: 0 ISA-L, 1 zlib; a build without ISA-L runs the zlib half */
#if BERTH_HAVE_ISAL
	int from = 0;
#else
	int from = 1;
#endif
	tcase_add_loop_test(tc, engine_is_the_one_asked_for, from, 2);
	tcase_add_loop_test(tc, one_member_any_chunking, from, 2);
	tcase_add_loop_test(tc, full_header, from, 2);
	tcase_add_loop_test(tc, members_and_trailing_zeros, from, 2);
	tcase_add_loop_test(tc, bad_streams_refused, from, 2);
	tcase_add_test(tc, unknown_choice_refused);
	suite_add_tcase(s, tc);
	return s;
}
