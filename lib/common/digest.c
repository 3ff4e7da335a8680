/* Digests through libcrypto, opened on first use (dl.c): most processes
 * that load libberth never hash anything. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* The libcrypto functions we use, filled by the first bt_dl_load(). */
static struct {
	EVP_MD_CTX *(*ctx_new)(void);
	void (*ctx_free)(EVP_MD_CTX *);
	const EVP_MD *(*sha256)(void);
	const EVP_MD *(*sha512)(void);
	int (*init)(EVP_MD_CTX *, const EVP_MD *, ENGINE *);
	int (*update)(EVP_MD_CTX *, const void *, size_t);
	int (*final)(EVP_MD_CTX *, unsigned char *, unsigned int *);
} crypto;

static const bt_dl_sym crypto_syms[] = {
	{ "EVP_MD_CTX_new", (void **)&crypto.ctx_new },
	{ "EVP_MD_CTX_free", (void **)&crypto.ctx_free },
	{ "EVP_sha256", (void **)&crypto.sha256 },
	{ "EVP_sha512", (void **)&crypto.sha512 },
	{ "EVP_DigestInit_ex", (void **)&crypto.init },
	{ "EVP_DigestUpdate", (void **)&crypto.update },
	{ "EVP_DigestFinal_ex", (void **)&crypto.final },
	{ NULL, NULL },
};

static bt_dl_lib crypto_lib = BT_DL_LIB(BERTH_LIBCRYPTO_SONAME, crypto_syms);

bool bt_digest_available(void)
{
	return bt_dl_load(&crypto_lib, NULL) == 0;
}

struct bt_digester {
	EVP_MD_CTX *md;
	const char *algorithm;
};

static const struct {
	const char *name;
	size_t hex_len;
} algorithms[] = { { "sha256", 64 }, { "sha512", 128 } };

int bt_digester_new(const char *algorithm, bt_digester **out, berth_error **err)
{
	const EVP_MD *md;
	bt_digester *d;
	int rc;

	*out = NULL;

	if ((rc = bt_dl_load(&crypto_lib, err)) < 0)
		return bt_error_wrap(err, rc, "digests need libcrypto");
	if (!strcmp(algorithm, "sha256"))
		md = crypto.sha256();
	else if (!strcmp(algorithm, "sha512"))
		md = crypto.sha512();
	else
		return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "digest algorithm \"%s\": not supported",
				    algorithm);
	if (!(d = calloc(1, sizeof(*d))) || !(d->md = crypto.ctx_new())) {
		free(d);
		return bt_error_set(err, BERTH_ENOMEM, 0, "digest: out of memory");
	}
	if (crypto.init(d->md, md, NULL) != 1) {
		bt_digester_free(d);
		return bt_error_set(err, BERTH_ERROR, 0, "digest %s: libcrypto failed to start", algorithm);
	}
	d->algorithm = md == crypto.sha256() ? "sha256" : "sha512";
	*out = d;
	return 0;
}

void bt_digester_update(bt_digester *d, const void *data, size_t len)
{
	crypto.update(d->md, data, len);
}

void bt_digester_final(bt_digester *d, char out[BT_DIGEST_MAX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t len = strlen(d->algorithm);

	crypto.final(d->md, raw, &n);
	memcpy(out, d->algorithm, len);
	out[len++] = ':';
	for (unsigned int i = 0; i < n; i++) {
		out[len++] = hex[raw[i] >> 4];
		out[len++] = hex[raw[i] & 15];
	}
	out[len] = '\0';
}

void bt_digester_free(bt_digester *d)
{
	if (!d)
		return;
	if (d->md)
		crypto.ctx_free(d->md);
	free(d);
}

int bt_digest_buffer(const char *algorithm, const void *data, size_t len, char out[BT_DIGEST_MAX],
		     berth_error **err)
{
	bt_digester *d;
	int rc = bt_digester_new(algorithm, &d, err);

	if (rc < 0)
		return rc;
	bt_digester_update(d, data, len);
	bt_digester_final(d, out);
	bt_digester_free(d);
	return 0;
}

int bt_digest_validate(const char *digest, berth_error **err)
{
	const char *colon = strchr(digest, ':');

	if (!colon)
		return bt_error_set(err, BERTH_EINVAL, 0, "digest \"%.80s\": expected ALGORITHM:HEX", digest);
	for (size_t i = 0; i < BT_ARRAY_SIZE(algorithms); i++) {
		size_t alen = strlen(algorithms[i].name);
		const char *hex = colon + 1;

		if ((size_t)(colon - digest) != alen || strncmp(digest, algorithms[i].name, alen))
			continue;
		if (strlen(hex) != algorithms[i].hex_len ||
		    strspn(hex, "0123456789abcdef") != algorithms[i].hex_len)
			return bt_error_set(err, BERTH_EINVAL, 0,
					    "digest \"%.80s\": %s needs %zu lowercase hex digits",
					    digest, algorithms[i].name, algorithms[i].hex_len);
		return 0;
	}
	return bt_error_set(err, BERTH_EUNSUPPORTED, 0, "digest \"%.80s\": unknown algorithm", digest);
}
