/* A classic BPF interpreter for seccomp filters: what a compiled filter
 * answers for one system call, so the runtime knows before the fork whether
 * the container's filter lets its exec helper run (exec.c). Parent side. */
#include "runtime-internal.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>

#if BERTH_HAVE_SECCOMP
#include <seccomp.h>
#endif

static uint32_t alu(uint16_t op, uint32_t a, uint32_t v, bool *bad)
{
	switch (op) {
	case BPF_ADD: return a + v;
	case BPF_SUB: return a - v;
	case BPF_MUL: return a * v;
	case BPF_DIV: if (!v) { *bad = true; return 0; } return a / v;
	case BPF_MOD: if (!v) { *bad = true; return 0; } return a % v;
	case BPF_OR: return a | v;
	case BPF_AND: return a & v;
	case BPF_XOR: return a ^ v;
	case BPF_LSH: return v < 32 ? a << v : 0;
	case BPF_RSH: return v < 32 ? a >> v : 0;
	case BPF_NEG: return -a;
	}
	*bad = true;
	return 0;
}

static bool jump(uint16_t op, uint32_t a, uint32_t v, bool *bad)
{
	switch (op) {
	case BPF_JEQ: return a == v;
	case BPF_JGT: return a > v;
	case BPF_JGE: return a >= v;
	case BPF_JSET: return (a & v) != 0;
	}
	*bad = true;
	return false;
}

uint32_t bt_rt_seccomp_answer(const bt_rt_seccomp *sc, int nr, const uint64_t args[6])
{
	const struct sock_filter *f = sc->bpf;
	struct seccomp_data d;
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
	bool bad = false;

	memset(&d, 0, sizeof(d));
	d.nr = nr;
#if BERTH_HAVE_SECCOMP
	d.arch = seccomp_arch_native();
#endif
	for (int i = 0; i < 6; i++)
		d.args[i] = args[i];
	for (size_t pc = 0; pc < sc->len && !bad; pc++) {
		const struct sock_filter *in = &f[pc];
		uint32_t v = BPF_SRC(in->code) == BPF_X ? x : in->k;

		switch (BPF_CLASS(in->code)) {
		case BPF_LD:
		case BPF_LDX: {
			uint32_t *r = BPF_CLASS(in->code) == BPF_LD ? &a : &x;

			if (BPF_MODE(in->code) == BPF_ABS && BPF_CLASS(in->code) == BPF_LD &&
			    BPF_SIZE(in->code) == BPF_W && in->k % 4 == 0 && in->k <= sizeof(d) - 4)
				memcpy(r, (const char *)&d + in->k, 4);
			else if (BPF_MODE(in->code) == BPF_IMM)
				*r = in->k;
			else if (BPF_MODE(in->code) == BPF_MEM && in->k < BPF_MEMWORDS)
				*r = mem[in->k];
			else if (BPF_MODE(in->code) == BPF_LEN)
				*r = sizeof(d);
			else
				bad = true;
			break;
		}
		case BPF_ST:
		case BPF_STX:
			if (in->k >= BPF_MEMWORDS)
				bad = true;
			else
				mem[in->k] = BPF_CLASS(in->code) == BPF_ST ? a : x;
			break;
		case BPF_ALU:
			a = alu(BPF_OP(in->code), a, v, &bad);
			break;
		case BPF_JMP:
			if (BPF_OP(in->code) == BPF_JA)
				pc += in->k;
			else
				pc += jump(BPF_OP(in->code), a, v, &bad) ? in->jt : in->jf;
			break;
		case BPF_RET:
			return BPF_RVAL(in->code) == BPF_A ? a : in->k;
		case BPF_MISC:
			if (BPF_MISCOP(in->code) == BPF_TAX)
				x = a;
			else
				a = x;
			break;
		}
	}
	/* an instruction the kernel would not accept, or running off the end */
	return SECCOMP_RET_KILL_PROCESS;
}
