/* The registry client's parsers: WWW-Authenticate, base64, credentials
 * files (registry-auth.c), platforms and manifests (manifest.c). */
#include "unit.h"
#include "image-internal.h"

#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

#define D64A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define D64B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define D64C "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

START_TEST(challenge_bearer)
{
	berth_error *err = NULL;
	bt_auth_challenge c;

	ck_assert_ok(bt_auth_challenge_parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
					     "scope=\"repository:samalba/my-app:pull,push\"", &c, &err), err);
	ck_assert_str_eq(c.scheme, "Bearer");
	ck_assert_str_eq(c.realm, "https://auth.docker.io/token");
	ck_assert_str_eq(c.service, "registry.docker.io");
	ck_assert_str_eq(c.scope, "repository:samalba/my-app:pull,push");
	ck_assert_ptr_null(c.error);
	bt_auth_challenge_clear(&c);

	/* any case, blanks around '=' and ',', tokens unquoted, escapes, unknown keys */
	ck_assert_ok(bt_auth_challenge_parse("  bearer  realm = \"http://127.0.0.1:5/t\\\"x\" , foo=bar,"
					     "error=\"insufficient_scope\" , service=svc", &c, &err), err);
	ck_assert_str_eq(c.scheme, "Bearer");
	ck_assert_str_eq(c.realm, "http://127.0.0.1:5/t\"x");
	ck_assert_str_eq(c.service, "svc");
	ck_assert_str_eq(c.error, "insufficient_scope");
	ck_assert_ptr_null(c.scope);
	bt_auth_challenge_clear(&c);
}
END_TEST

START_TEST(challenge_basic)
{
	berth_error *err = NULL;
	bt_auth_challenge c;

	ck_assert_ok(bt_auth_challenge_parse("Basic realm=\"Registry Realm\"", &c, &err), err);
	ck_assert_str_eq(c.scheme, "Basic");
	ck_assert_str_eq(c.realm, "Registry Realm");
	bt_auth_challenge_clear(&c);
	ck_assert_ok(bt_auth_challenge_parse("Basic", &c, &err), err);
	ck_assert_str_eq(c.scheme, "Basic");
	ck_assert_ptr_null(c.realm);
	bt_auth_challenge_clear(&c);
}
END_TEST

static const char *const bad_challenges[] = {
	"",
	"   ",
	"Bearer realm=\"unterminated",
	"Bearer realm",
	"Bearer =x",
	"Bearer realm=\"a\" service=\"b\"",
	"Bearer realm=",
	"ThisSchemeNameIsFarTooLong realm=x",
};

START_TEST(challenge_malformed)
{
	berth_error *err = NULL;
	bt_auth_challenge c;
	int rc = bt_auth_challenge_parse(bad_challenges[_i], &c, &err);

	ck_assert_msg(rc == BERTH_EINVAL, "\"%s\" gave %d", bad_challenges[_i], rc);
	ck_assert_ptr_nonnull(strstr(berth_error_message(err), "WWW-Authenticate"));
	berth_error_free(err);
}
END_TEST

START_TEST(base64_round_trip)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar", "user:p@ss:w0rd" };
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy",
					   "dXNlcjpwQHNzOncwcmQ=" };

	for (size_t i = 0; i < BT_ARRAY_SIZE(plain); i++) {
		char *e = bt_base64_encode(plain[i], strlen(plain[i])), *d;
		size_t len;

		ck_assert_str_eq(e, enc[i]);
		ck_assert_int_eq(bt_base64_decode(e, &d, &len), 0);
		ck_assert_str_eq(d, plain[i]);
		ck_assert_uint_eq(len, strlen(plain[i]));
		free(e);
		free(d);
	}
	{
		char *d;

		ck_assert_int_eq(bt_base64_decode("not base64!", &d, NULL), -1);
		ck_assert_ptr_null(d);
	}
}
END_TEST

static void write_file(const char *path, const char *text)
{
	berth_error *err = NULL;

	ck_assert_ok(bt_write_file_atomic(path, text, strlen(text), 0600, &err), err);
}

START_TEST(credentials_from_files)
{
	char *dir = unit_tmpdir(), *auth = unit_path(dir, "auth.json"), *docker = unit_path(dir, "config.json");
	bt_registry_conf conf = { .auth_file = auth, .docker_config = docker };
	berth_ctx_opts co = BERTH_CTX_OPTS_INIT;
	berth_error *err = NULL;
	char *user, *pass;
	berth_ctx *ctx;

	co.root = dir;
	ck_assert_ok(berth_ctx_new(&ctx, &co, &err), err);
	/* nothing anywhere */
	ck_assert_ok(bt_auth_lookup(ctx, &conf, "127.0.0.1:5000", &user, &pass, &err), err);
	ck_assert_ptr_null(user);
	/* docker's config: a URL key, base64 user:pass with a ':' in the password */
	write_file(docker, "{\"auths\":{\"https://127.0.0.1:5000/v1/\":{\"auth\":\"dXNlcjpwQHNzOncwcmQ=\"},"
			   "\"https://index.docker.io/v1/\":{\"auth\":\"aHViOmh1YnBhc3M=\"}}}");
	ck_assert_ok(bt_auth_lookup(ctx, &conf, "127.0.0.1:5000", &user, &pass, &err), err);
	ck_assert_str_eq(user, "user");
	ck_assert_str_eq(pass, "p@ss:w0rd");
	free(user);
	free(pass);
	ck_assert_ok(bt_auth_lookup(ctx, &conf, "docker.io", &user, &pass, &err), err);
	ck_assert_str_eq(user, "hub");
	free(user);
	free(pass);
	ck_assert_ok(bt_auth_lookup(ctx, &conf, "127.0.0.1:5001", &user, &pass, &err), err);
	ck_assert_ptr_null(user);
	/* the berth auth file comes first */
	write_file(auth, "{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"YmVydGg6c2VjcmV0\"}}}");
	ck_assert_ok(bt_auth_lookup(ctx, &conf, "127.0.0.1:5000", &user, &pass, &err), err);
	ck_assert_str_eq(user, "berth");
	ck_assert_str_eq(pass, "secret");
	free(user);
	free(pass);
	/* "" turns docker's config off */
	conf.docker_config = "";
	ck_assert_ok(bt_auth_lookup(ctx, &conf, "docker.io", &user, &pass, &err), err);
	ck_assert_ptr_null(user);
	/* hostile files: clear errors */
	write_file(auth, "{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"bm8gY29sb24=\"}}}");
	ck_assert_fails(bt_auth_lookup(ctx, &conf, "127.0.0.1:5000", &user, &pass, &err), err, BERTH_EINVAL,
			"not base64 of user:password");
	write_file(auth, "{\"auths\":[]}");
	ck_assert_fails(bt_auth_lookup(ctx, &conf, "127.0.0.1:5000", &user, &pass, &err), err, BERTH_EINVAL, "auths");
	write_file(auth, "{");
	ck_assert_fails(bt_auth_lookup(ctx, &conf, "127.0.0.1:5000", &user, &pass, &err), err, BERTH_EINVAL, "auth.json");
	conf.auth_file = "relative.json";
	ck_assert_fails(bt_auth_lookup(ctx, &conf, "x", &user, &pass, &err), err, BERTH_EINVAL, "not an absolute path");
	berth_ctx_free(ctx);
	free(auth);
	free(docker);
	unit_tmpdir_free(dir);
}
END_TEST

START_TEST(platform_parse)
{
	berth_error *err = NULL;
	bt_platform p;

	ck_assert_ok(bt_platform_parse("linux/arm64/v8", &p, &err), err);
	ck_assert_str_eq(p.os, "linux");
	ck_assert_str_eq(p.arch, "arm64");
	ck_assert_str_eq(p.variant, "v8");
	ck_assert_ok(bt_platform_parse("windows/amd64", &p, &err), err);
	ck_assert_str_eq(p.variant, "");
	ck_assert_ok(bt_platform_parse(NULL, &p, &err), err);
	ck_assert_str_eq(p.os, "linux");
#if defined(__x86_64__)
	ck_assert_str_eq(p.arch, "amd64");
#endif
	ck_assert_fails(bt_platform_parse("linux", &p, &err), err, BERTH_EINVAL, "os/architecture");
	ck_assert_fails(bt_platform_parse("linux/", &p, &err), err, BERTH_EINVAL, "\"linux/\"");
	ck_assert_fails(bt_platform_parse("Linux/amd64", &p, &err), err, BERTH_EINVAL, "lowercase");
	ck_assert_fails(bt_platform_parse("linux/arm/v7/x", &p, &err), err, BERTH_EINVAL, "linux/arm/v7/x");
	ck_assert_fails(bt_platform_parse("linux/amd 64", &p, &err), err, BERTH_EINVAL, "platform");
}
END_TEST

START_TEST(platform_match)
{
	json_t *amd64 = json_pack("{s:s, s:s}", "os", "linux", "architecture", "amd64");
	json_t *arm64 = json_pack("{s:s, s:s}", "os", "linux", "architecture", "arm64");
	json_t *armv6 = json_pack("{s:s, s:s, s:s}", "os", "linux", "architecture", "arm", "variant", "v6");
	json_t *arm = json_pack("{s:s, s:s}", "os", "linux", "architecture", "arm");
	json_t *broken = json_pack("{s:i}", "os", 3);
	bt_platform p;

	bt_platform_parse("linux/amd64", &p, NULL);
	ck_assert(bt_platform_match(&p, amd64));
	ck_assert(!bt_platform_match(&p, arm64));
	ck_assert(!bt_platform_match(&p, broken));
	bt_platform_parse("linux/arm64/v8", &p, NULL);
	ck_assert(bt_platform_match(&p, arm64)); /* arm64 without a variant is v8 */
	bt_platform_parse("linux/arm/v7", &p, NULL);
	ck_assert(bt_platform_match(&p, arm));   /* arm without a variant is v7 */
	ck_assert(!bt_platform_match(&p, armv6));
	bt_platform_parse("linux/arm", &p, NULL);
	ck_assert(bt_platform_match(&p, armv6)); /* no variant asked: any */
	bt_platform_parse("windows/amd64", &p, NULL);
	ck_assert(!bt_platform_match(&p, amd64));
	json_decref(amd64);
	json_decref(arm64);
	json_decref(armv6);
	json_decref(arm);
	json_decref(broken);
}
END_TEST

static const char oci_manifest[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D64A "\",\"size\":10},"
	"\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" D64B "\",\"size\":20},"
	"{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" D64C "\",\"size\":30}]}";

START_TEST(manifest_oci)
{
	berth_error *err = NULL;
	bt_manifest m;

	ck_assert_ok(bt_manifest_parse(oci_manifest, strlen(oci_manifest), "application/vnd.oci.image.manifest.v1+json",
				       &m, &err), err);
	ck_assert(!m.is_index);
	ck_assert_str_eq(m.media_type, BT_MEDIA_OCI_MANIFEST);
	ck_assert_str_eq(m.config.digest, D64A);
	ck_assert_int_eq(m.config.size, 10);
	ck_assert_uint_eq(m.nlayers, 2);
	ck_assert_str_eq(m.layers[1].digest, D64C);
	ck_assert_int_eq(m.layers[1].size, 30);
	bt_manifest_clear(&m);
	/* a generic content type says nothing; the document's mediaType counts */
	ck_assert_ok(bt_manifest_parse(oci_manifest, strlen(oci_manifest), "application/json; charset=utf-8", &m, &err), err);
	bt_manifest_clear(&m);
}
END_TEST

START_TEST(manifest_docker_and_indexes)
{
	static const char docker[] =
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
		"\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"" D64A "\",\"size\":1},"
		"\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"digest\":\"" D64B "\",\"size\":2}]}";
	static const char list[] =
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\",\"manifests\":["
		"{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" D64A "\",\"size\":5,"
		"\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
		"{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" D64B "\",\"size\":6,"
		"\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}}]}";
	static const char bare_index[] = /* OCI allows mediaType to be absent */
		"{\"schemaVersion\":2,\"manifests\":[]}";
	berth_error *err = NULL;
	bt_descriptor d;
	bt_platform p;
	bt_manifest m;

	ck_assert_ok(bt_manifest_parse(docker, strlen(docker), NULL, &m, &err), err);
	ck_assert_str_eq(m.media_type, BT_MEDIA_DOCKER_MANIFEST);
	ck_assert_uint_eq(m.nlayers, 1);
	bt_manifest_clear(&m);

	ck_assert_ok(bt_manifest_parse(list, strlen(list), BT_MEDIA_DOCKER_LIST, &m, &err), err);
	ck_assert(m.is_index);
	bt_platform_parse("linux/arm/v6", &p, NULL);
	ck_assert_ok(bt_index_select(&m, &p, &d, &err), err);
	ck_assert_str_eq(d.digest, D64B);
	ck_assert_int_eq(d.size, 6);
	bt_descriptor_clear(&d);
	bt_platform_parse("linux/amd64", &p, NULL);
	ck_assert_ok(bt_index_select(&m, &p, &d, &err), err);
	ck_assert_str_eq(d.digest, D64A);
	bt_descriptor_clear(&d);
	bt_platform_parse("linux/s390x", &p, NULL);
	ck_assert_fails(bt_index_select(&m, &p, &d, &err), err, BERTH_ENOTFOUND,
			"no manifest for platform linux/s390x in the index (it has: linux/amd64, linux/arm/v6)");
	bt_manifest_clear(&m);

	ck_assert_ok(bt_manifest_parse(bare_index, strlen(bare_index), NULL, &m, &err), err);
	ck_assert(m.is_index);
	ck_assert_str_eq(m.media_type, BT_MEDIA_OCI_INDEX);
	ck_assert_fails(bt_index_select(&m, &p, &d, &err), err, BERTH_ENOTFOUND, "it has: none");
	bt_manifest_clear(&m);
}
END_TEST

static const struct {
	const char *text, *type;
	int code;
	const char *part;
} bad_manifests[] = {
	{ "{", NULL, BERTH_EINVAL, "malformed JSON at line 1" },
	{ "[]", NULL, BERTH_EINVAL, "expected an object" },
	{ "{\"schemaVersion\":2}", "application/vnd.docker.distribution.manifest.v1+prettyjws", BERTH_EUNSUPPORTED,
	  "schema 1" },
	{ "{\"schemaVersion\":1,\"fsLayers\":[]}", "application/json", BERTH_EUNSUPPORTED, "schema 1" },
	{ "{\"schemaVersion\":3}", NULL, BERTH_EUNSUPPORTED, "schemaVersion 3" },
	{ "{\"mediaType\":\"" BT_MEDIA_OCI_MANIFEST "\"}", NULL, BERTH_EINVAL, "schemaVersion" },
	{ "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.example+json\"}", NULL, BERTH_EUNSUPPORTED,
	  "unknown media type \"application/vnd.example+json\"" },
	{ "{\"schemaVersion\":2,\"mediaType\":\"" BT_MEDIA_OCI_MANIFEST "\",\"layers\":[]}", NULL, BERTH_EINVAL, "config" },
	{ "{\"schemaVersion\":2,\"mediaType\":\"" BT_MEDIA_OCI_MANIFEST "\",\"config\":{\"mediaType\":\"x\","
	  "\"digest\":\"sha256:12\",\"size\":1},\"layers\":[]}", NULL, BERTH_EINVAL, "config.digest" },
	{ "{\"schemaVersion\":2,\"mediaType\":\"" BT_MEDIA_OCI_MANIFEST "\",\"config\":{\"mediaType\":\"x\","
	  "\"digest\":\"" D64A "\",\"size\":-1},\"layers\":[]}", NULL, BERTH_EINVAL, "config.size: negative" },
	{ "{\"schemaVersion\":2,\"mediaType\":\"" BT_MEDIA_OCI_MANIFEST "\",\"config\":{\"mediaType\":\"x\","
	  "\"digest\":\"" D64A "\",\"size\":1},\"layers\":[{\"mediaType\":\"text/plain\",\"digest\":\"" D64B
	  "\",\"size\":1}]}", NULL, BERTH_EUNSUPPORTED, "layers[0]: unknown layer media type \"text/plain\"" },
	{ "{\"schemaVersion\":2,\"mediaType\":\"" BT_MEDIA_OCI_MANIFEST "\",\"config\":{\"mediaType\":\"x\","
	  "\"digest\":\"" D64A "\",\"size\":1},\"layers\":[7]}", NULL, BERTH_EINVAL, "layers[0]: expected an object" },
	{ "{\"schemaVersion\":2,\"mediaType\":\"" BT_MEDIA_OCI_INDEX "\",\"manifests\":[{\"mediaType\":\"x\","
	  "\"digest\":\"" D64A "\",\"size\":1,\"platform\":\"linux\"}]}", NULL, BERTH_EINVAL, "manifests[0].platform" },
	{ "{\"schemaVersion\":2,\"mediaType\":\"" BT_MEDIA_OCI_INDEX "\"}", BT_MEDIA_OCI_MANIFEST, BERTH_EINVAL,
	  "served as application/vnd.oci.image.manifest.v1+json" },
};

START_TEST(manifest_malformed)
{
	berth_error *err = NULL;
	bt_manifest m;

	ck_assert_fails(bt_manifest_parse(bad_manifests[_i].text, strlen(bad_manifests[_i].text),
					  bad_manifests[_i].type, &m, &err),
			err, bad_manifests[_i].code, bad_manifests[_i].part);
	ck_assert_ptr_null(m.json);
}
END_TEST

START_TEST(manifest_oversized)
{
	size_t len = BT_MANIFEST_MAX + 1;
	char *big = malloc(len);
	berth_error *err = NULL;
	bt_manifest m;

	ck_assert_ptr_nonnull(big);
	memset(big, ' ', len);
	ck_assert_fails(bt_manifest_parse(big, len, NULL, &m, &err), err, BERTH_EINVAL, "larger than the 4194304");
	free(big);
}
END_TEST

START_TEST(pull_options_are_versioned)
{
	struct {
		berth_pull_opts o;
		long tail;
	} big = { BERTH_PULL_OPTS_INIT, 1 };
	berth_ctx_opts co = BERTH_CTX_OPTS_INIT;
	berth_pull_opts small = BERTH_PULL_OPTS_INIT;
	char *dir = unit_tmpdir();
	berth_error *err = NULL;
	berth_ctx *ctx;

	co.root = dir;
	ck_assert_ok(berth_ctx_new(&ctx, &co, &err), err);
	/* an older caller's struct (up to the platform) is read; the reference then fails */
	small.size = offsetof(berth_pull_opts, platform);
	ck_assert_fails(berth_image_pull(ctx, "Busybox", &small, NULL, &err), err, BERTH_EINVAL, "lowercase");
	/* a newer caller's struct with a non-zero tail we do not know is refused */
	big.o.size = sizeof(big);
	ck_assert_fails(berth_image_pull(ctx, "busybox", &big.o, NULL, &err), err, BERTH_EUNSUPPORTED, "pull options");
	/* nothing was created for either */
	ck_assert_int_eq(access(dir, F_OK), 0);
	{
		char *content = unit_path(dir, "content");

		ck_assert_int_eq(access(content, F_OK), -1);
		free(content);
	}
	berth_ctx_free(ctx);
	unit_tmpdir_free(dir);
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("registry");

	tcase_add_test(tc, challenge_bearer);
	tcase_add_test(tc, challenge_basic);
	tcase_add_loop_test(tc, challenge_malformed, 0, (int)BT_ARRAY_SIZE(bad_challenges));
	tcase_add_test(tc, base64_round_trip);
	tcase_add_test(tc, credentials_from_files);
	tcase_add_test(tc, platform_parse);
	tcase_add_test(tc, platform_match);
	tcase_add_test(tc, manifest_oci);
	tcase_add_test(tc, manifest_docker_and_indexes);
	tcase_add_loop_test(tc, manifest_malformed, 0, (int)BT_ARRAY_SIZE(bad_manifests));
	tcase_add_test(tc, manifest_oversized);
	tcase_add_test(tc, pull_options_are_versioned);
	suite_add_tcase(s, tc);
	return s;
}
