/* lib/common/digest.c: known answers through the dlopened libcrypto. */
#include "unit.h"


START_TEST(known_answers)
{
	char out[BT_DIGEST_MAX];
	berth_error *err = NULL;

	ck_assert(bt_digest_available());
	ck_assert_ok(bt_digest_buffer("sha256", "", 0, out, &err), err);
	ck_assert_str_eq(out, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ck_assert_ok(bt_digest_buffer("sha256", "abc", 3, out, &err), err);
	ck_assert_str_eq(out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ck_assert_ok(bt_digest_buffer("sha512", "abc", 3, out, &err), err);
	ck_assert_str_eq(out, "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
			      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	ck_assert_int_eq(bt_digest_validate(out, &err), 0);
}
END_TEST

START_TEST(streaming_equals_one_shot)
{
	static char data[1 << 20];
	char whole[BT_DIGEST_MAX], parts[BT_DIGEST_MAX];
	berth_error *err = NULL;
	bt_digester *d;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 + (i >> 9));
	ck_assert_ok(bt_digest_buffer("sha256", data, sizeof(data), whole, &err), err);
	ck_assert_ok(bt_digester_new("sha256", &d, &err), err);
	for (size_t off = 0; off < sizeof(data); off += 4093)
		bt_digester_update(d, data + off, off + 4093 > sizeof(data) ? sizeof(data) - off : 4093);
	bt_digester_final(d, parts);
	bt_digester_free(d);
	ck_assert_str_eq(whole, parts);
}
END_TEST

START_TEST(validate_refuses_malformed_digests)
{
	berth_error *err = NULL;
	bt_digester *d;

	ck_assert_ok(bt_digest_validate("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", &err), err);
	ck_assert_fails(bt_digest_validate("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", &err),
			err, BERTH_EINVAL, "lowercase hex");
	ck_assert_fails(bt_digest_validate("sha256:abc", &err), err, BERTH_EINVAL, "64");
	ck_assert_fails(bt_digest_validate("md5:900150983cd24fb0d6963f7d28e17f72", &err), err,
			BERTH_EUNSUPPORTED, "unknown algorithm");
	ck_assert_fails(bt_digest_validate("e3b0c44298fc", &err), err, BERTH_EINVAL, "ALGORITHM:HEX");
	ck_assert_fails(bt_digester_new("md5", &d, &err), err, BERTH_EUNSUPPORTED, "md5");
	ck_assert_ptr_null(d);
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("digest");
	TCase *tc = tcase_create("digest");

	tcase_add_test(tc, known_answers);
	tcase_add_test(tc, streaming_equals_one_shot);
	tcase_add_test(tc, validate_refuses_malformed_digests);
	suite_add_tcase(s, tc);
	return s;
}
