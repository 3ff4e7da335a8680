/* nftables through libnftables, opened on first use: it brings libnftnl,
 * libxtables and libgmp, which a container on --network none never needs
 * (DESIGN.md, start-up cost). Commands are given as nft's own language and
 * run as one transaction per call, so a ruleset is replaced whole or not
 * at all. */
#include "network-internal.h"

#include <string.h>

#include <nftables/libnftables.h>

static struct {
	struct nft_ctx *(*ctx_new)(uint32_t flags);
	void (*ctx_free)(struct nft_ctx *ctx);
	int (*buffer_output)(struct nft_ctx *ctx);
	int (*buffer_error)(struct nft_ctx *ctx);
	const char *(*get_error_buffer)(struct nft_ctx *ctx);
	int (*run_cmd_from_buffer)(struct nft_ctx *nft, const char *buf);
} nft;

static const bt_dl_sym nft_syms[] = {
	{ "nft_ctx_new", (void **)&nft.ctx_new },
	{ "nft_ctx_free", (void **)&nft.ctx_free },
	{ "nft_ctx_buffer_output", (void **)&nft.buffer_output },
	{ "nft_ctx_buffer_error", (void **)&nft.buffer_error },
	{ "nft_ctx_get_error_buffer", (void **)&nft.get_error_buffer },
	{ "nft_run_cmd_from_buffer", (void **)&nft.run_cmd_from_buffer },
	{ NULL, NULL },
};
static bt_dl_lib nft_lib = BT_DL_LIB(BERTH_LIBNFTABLES_SONAME, nft_syms);

int bt_nft_run(const char *cmds, berth_error **err)
{
	struct nft_ctx *c;
	int rc;

	if ((rc = bt_dl_load(&nft_lib, err)) < 0)
		return rc;
	if (!(c = nft.ctx_new(NFT_CTX_DEFAULT)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "making an nftables context");
	nft.buffer_output(c);
	nft.buffer_error(c);
	if (nft.run_cmd_from_buffer(c, cmds) != 0) {
		const char *msg = nft.get_error_buffer(c);
		size_t len = msg ? strlen(msg) : 0;

		while (len && msg[len - 1] == '\n')
			len--;
		rc = bt_error_set(err, BERTH_EOS, 0, "nftables refused the rules: %.*s", (int)len, msg ? msg : "");
	}
	nft.ctx_free(c);
	return rc;
}
