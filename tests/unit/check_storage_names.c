/* lib/storage/names.c: chain IDs, whiteout names, tar entry names, layer
 * compression. No root needed. */
#include "unit.h"
#include "storage-internal.h"

#include <limits.h>

#define A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define C "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

START_TEST(chain_ids_follow_the_image_spec)
{
	char c0[BT_DIGEST_MAX], c1[BT_DIGEST_MAX], c2[BT_DIGEST_MAX];
	berth_error *err = NULL;

	/* ChainID(L0) = DiffID(L0) */
	ck_assert_ok(bt_chain_id(NULL, A, c0, &err), err);
	ck_assert_str_eq(c0, A);
	/* ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)), values from Python's hashlib */
	ck_assert_ok(bt_chain_id(c0, B, c1, &err), err);
	ck_assert_str_eq(c1, "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c");
	ck_assert_ok(bt_chain_id(c1, C, c2, &err), err);
	ck_assert_str_eq(c2, "sha256:c1377126441fb2f5ec2c21ae2a60255331d639e830f0ee1b40a36e52d4c40588");
	ck_assert_fails(bt_chain_id(c1, "sha256:xyz", c2, &err), err, BERTH_EINVAL, "diff_id");
}
END_TEST

START_TEST(whiteout_names_map_to_overlay)
{
	berth_error *err = NULL;
	const char *t;

	ck_assert_int_eq(bt_whiteout_kind("file", &t, &err), BT_WHITEOUT_NONE);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(bt_whiteout_kind(".whatever", &t, &err), BT_WHITEOUT_NONE);
	ck_assert_int_eq(bt_whiteout_kind(".wh.file", &t, &err), BT_WHITEOUT_FILE);
	ck_assert_str_eq(t, "file");
	ck_assert_int_eq(bt_whiteout_kind(".wh..hidden", &t, &err), BT_WHITEOUT_FILE);
	ck_assert_str_eq(t, ".hidden");
	ck_assert_int_eq(bt_whiteout_kind(".wh..wh..opq", &t, &err), BT_WHITEOUT_OPAQUE);
	ck_assert_ptr_null(err);
	ck_assert_fails(bt_whiteout_kind(".wh...", &t, &err), err, BERTH_ESCAPE, "hides \"..\"");
	ck_assert_fails(bt_whiteout_kind(".wh..", &t, &err), err, BERTH_ESCAPE, "hides \".\"");
	ck_assert_fails(bt_whiteout_kind(".wh.", &t, &err), err, BERTH_EINVAL, "names nothing");
	ck_assert_fails(bt_whiteout_kind(".wh..wh.other", &t, &err), err, BERTH_EINVAL,
			"another whiteout");
}
END_TEST

static void name_ok(const char *in, const char *want)
{
	berth_error *err = NULL;
	char *out;

	ck_assert_ok(bt_layer_entry_name(in, &out, &err), err);
	ck_assert_str_eq(out, want);
	free(out);
}

START_TEST(entry_names_are_cleaned)
{
	name_ok("a/b", "a/b");
	name_ok("./a//b/", "a/b");
	name_ok("./", "");
	name_ok(".", "");
	name_ok("a/./b/.", "a/b");
	name_ok("..a/b..", "..a/b..");
	name_ok(".wh..wh..opq", ".wh..wh..opq");
}
END_TEST

START_TEST(hostile_entry_names_are_refused)
{
	char *big = malloc(PATH_MAX + 10), comp[NAME_MAX + 2], *out = NULL;
	berth_error *err = NULL;

	ck_assert_fails(bt_layer_entry_name("../etc/passwd", &out, &err), err, BERTH_ESCAPE,
			"\"..\" components are not allowed");
	ck_assert_fails(bt_layer_entry_name("a/../../b", &out, &err), err, BERTH_ESCAPE, "\"..\"");
	ck_assert_fails(bt_layer_entry_name("a/..", &out, &err), err, BERTH_ESCAPE, "\"..\"");
	ck_assert_fails(bt_layer_entry_name("/etc/passwd", &out, &err), err, BERTH_ESCAPE,
			"absolute paths are not allowed");
	memset(comp, 'n', NAME_MAX + 1);
	comp[NAME_MAX + 1] = '\0';
	ck_assert_fails(bt_layer_entry_name(comp, &out, &err), err, BERTH_EINVAL, "longer than NAME_MAX");
	comp[NAME_MAX] = '\0'; /* exactly NAME_MAX is fine */
	name_ok(comp, comp);
	for (size_t i = 0; i < PATH_MAX + 9; i++)
		big[i] = i % 100 == 99 ? '/' : 'd';
	big[PATH_MAX + 9] = '\0';
	ck_assert_fails(bt_layer_entry_name(big, &out, &err), err, BERTH_EINVAL, "longer than PATH_MAX");
	ck_assert_ptr_null(out);
	free(big);
}
END_TEST

START_TEST(compression_needs_media_type_and_magic_to_agree)
{
	static const unsigned char gz[] = { 0x1f, 0x8b, 8, 0 }, zst[] = { 0x28, 0xb5, 0x2f, 0xfd },
				   tar[] = { 'e', 't', 'c', '/' };
	berth_error *err = NULL;
	int c;

	ck_assert_ok(bt_layer_compression("application/vnd.oci.image.layer.v1.tar+gzip", gz, 4, &c, &err), err);
	ck_assert_int_eq(c, BT_COMPRESS_GZIP);
	ck_assert_ok(bt_layer_compression("application/vnd.docker.image.rootfs.diff.tar.gzip", gz, 4, &c, &err), err);
	ck_assert_int_eq(c, BT_COMPRESS_GZIP);
	ck_assert_ok(bt_layer_compression("application/vnd.oci.image.layer.v1.tar+zstd", zst, 4, &c, &err), err);
	ck_assert_int_eq(c, BT_COMPRESS_ZSTD);
	ck_assert_ok(bt_layer_compression("application/vnd.oci.image.layer.v1.tar", tar, 4, &c, &err), err);
	ck_assert_int_eq(c, BT_COMPRESS_NONE);
	ck_assert_fails(bt_layer_compression("application/vnd.oci.image.layer.v1.tar+zstd", gz, 4, &c, &err),
			err, BERTH_EINVAL, "says zstd, but the content is gzip");
	ck_assert_fails(bt_layer_compression("application/vnd.oci.image.layer.v1.tar", gz, 4, &c, &err),
			err, BERTH_EINVAL, "says uncompressed, but the content is gzip");
	ck_assert_fails(bt_layer_compression("application/vnd.oci.image.layer.v1.tar+gzip", tar, 4, &c, &err),
			err, BERTH_EINVAL, "content is uncompressed");
	ck_assert_fails(bt_layer_compression("application/octet-stream", gz, 4, &c, &err), err,
			BERTH_EINVAL, "unknown layer media type");
	/* a blob shorter than any magic */
	ck_assert_ok(bt_layer_compression("application/vnd.oci.image.layer.v1.tar", gz, 1, &c, &err), err);
}
END_TEST

START_TEST(overlay_xattrs_are_recognised)
{
	ck_assert(bt_xattr_is_overlay("trusted.overlay.opaque"));
	ck_assert(bt_xattr_is_overlay("trusted.overlay.redirect"));
	ck_assert(bt_xattr_is_overlay("user.overlay.origin"));
	ck_assert(!bt_xattr_is_overlay("trusted.berth"));
	ck_assert(!bt_xattr_is_overlay("security.capability"));
	ck_assert(!bt_xattr_is_overlay("user.overlayish"));
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("storage names");
	TCase *tc = tcase_create("names");

	tcase_add_test(tc, chain_ids_follow_the_image_spec);
	tcase_add_test(tc, whiteout_names_map_to_overlay);
	tcase_add_test(tc, entry_names_are_cleaned);
	tcase_add_test(tc, hostile_entry_names_are_refused);
	tcase_add_test(tc, compression_needs_media_type_and_magic_to_agree);
	tcase_add_test(tc, overlay_xattrs_are_recognised);
	suite_add_tcase(s, tc);
	return s;
}
