/* Credentials files: berth's auth.json and Docker's config.json. Input: a
 * first line naming the registry looked up, then the file; it is tried as
 * the auth file, then as the Docker config behind an empty auth file. */
#include "fuzz.h"
#include "image-internal.h"

static void lookup(const char *auth, const char *docker, const char *domain)
{
	bt_registry_conf conf = { .auth_file = auth, .docker_config = docker };
	char *user = NULL, *pass = NULL;
	berth_error *err = NULL;

	if (bt_auth_lookup(NULL, &conf, domain, &user, &pass, &err) == 0) {
		FUZZ_CHECK(!user == !pass);
	} else {
		FUZZ_CHECK(err && !user && !pass);
		berth_error_free(err);
	}
	free(user);
	free(pass);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_tmpdir();
	char *domain, *doc, *file = bt_strdup_printf("%s/auth.json", dir),
			    *empty = bt_strdup_printf("%s/empty.json", dir);
	size_t len;

	fuzz_split(data, size, &domain, &doc, &len);
	fuzz_write_file(dir, "auth.json", doc, len);
	fuzz_write_file(dir, "empty.json", "{\"auths\":{}}", 12);
	lookup(file, "", *domain ? domain : "docker.io");
	lookup(empty, file, *domain ? domain : "docker.io");
	free(file);
	free(empty);
	free(domain);
	free(doc);
	return 0;
}
