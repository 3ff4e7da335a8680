/* lib/cgroup/devices.c: device rules parsed for both drivers, and the
 * eBPF device program built for v2: the exact instructions for small lists,
 * and what a small interpreter of those instructions decides for requests
 * against longer ones (the kernel's own run is in check_cgroup_host). */
#include "unit.h"

#include "cgroup-internal.h"

#include <linux/bpf.h>

static bt_cg_dev_rule *rules_of(const char *json, size_t *n)
{
	berth_error *err = NULL;
	bt_cg_dev_rule *rules;
	json_t *devs;

	ck_assert_ok(bt_json_parse(json, strlen(json), "test", &devs, &err), err);
	ck_assert_ok(bt_cg_dev_rules_parse(devs, "linux.resources.devices", &rules, n, &err), err);
	json_decref(devs);
	return rules;
}

static struct bpf_insn *program_of(const char *json, size_t *count)
{
	berth_error *err = NULL;
	struct bpf_insn *insns;
	bt_cg_dev_rule *rules;
	size_t n;

	rules = rules_of(json, &n);
	ck_assert_ok(bt_cg_dev_program(rules, n, &insns, count, &err), err);
	free(rules);
	return insns;
}

/* Runs the instructions the generator uses on one request; fails the test
 * on any other instruction, a backward jump or running off the end. */
static int run(const struct bpf_insn *p, size_t count, unsigned type, unsigned access,
	       unsigned major, unsigned minor)
{
	uint64_t r[11] = { 0 };
	struct bpf_cgroup_dev_ctx ctx = { (access << 16) | type, major, minor };

	for (size_t pc = 0; pc < count; pc++) {
		const struct bpf_insn *i = &p[pc];
		bool jump = false;

		switch (i->code) {
		case BPF_LDX | BPF_MEM | BPF_W:
			ck_assert_int_eq(i->src_reg, 1);
			ck_assert(i->off == 0 || i->off == 4 || i->off == 8);
			r[i->dst_reg] = ((const uint32_t *)&ctx)[i->off / 4];
			break;
		case BPF_ALU64 | BPF_MOV | BPF_X:
			r[i->dst_reg] = r[i->src_reg];
			break;
		case BPF_ALU64 | BPF_MOV | BPF_K:
			r[i->dst_reg] = (uint64_t)(int64_t)i->imm;
			break;
		case BPF_ALU64 | BPF_AND | BPF_K:
			r[i->dst_reg] &= (uint64_t)(int64_t)i->imm;
			break;
		case BPF_ALU64 | BPF_RSH | BPF_K:
			r[i->dst_reg] >>= i->imm;
			break;
		case BPF_JMP | BPF_JNE | BPF_K:
			jump = r[i->dst_reg] != (uint64_t)(int64_t)i->imm;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			jump = (r[i->dst_reg] & (uint64_t)(int64_t)i->imm) != 0;
			break;
		case BPF_JMP | BPF_JA:
			jump = true;
			break;
		case BPF_JMP | BPF_EXIT:
			return (int)r[0];
		default:
			ck_abort_msg("instruction %zu: unexpected code %#x", pc, i->code);
		}
		if (jump) {
			ck_assert_int_ge(i->off, 0);
			pc += (size_t)i->off;
		}
	}
	ck_abort_msg("the program ran off its end");
	return -1;
}

#define B BPF_DEVCG_DEV_BLOCK
#define C BPF_DEVCG_DEV_CHAR
#define M BPF_DEVCG_ACC_MKNOD
#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE

/* Every jump lands inside the program and every instruction is reached,
 * as the verifier demands. */
static void check_shape(const struct bpf_insn *p, size_t count)
{
	bool *reached = calloc(count, 1);

	reached[0] = true;
	for (size_t pc = 0; pc < count; pc++) {
		const struct bpf_insn *i = &p[pc];
		if (!reached[pc])
			ck_abort_msg("instruction %zu is unreachable", pc);
		if ((i->code & 0x07) == BPF_JMP && i->code != (BPF_JMP | BPF_EXIT)) {
			ck_assert_int_ge(i->off, 0);
			ck_assert_uint_lt(pc + 1 + (size_t)i->off, count);
			reached[pc + 1 + (size_t)i->off] = true;
		}
		if (i->code != (BPF_JMP | BPF_EXIT) && i->code != (BPF_JMP | BPF_JA) && pc + 1 < count)
			reached[pc + 1] = true;
	}
	ck_assert(p[count - 1].code == (BPF_JMP | BPF_EXIT));
	free(reached);
}

#define INSN(c, d, s, o, i) { (c), (d), (s), (o), (i) }

/* The loads every program starts with: r2 type, r3 access, r4 major, r5 minor. */
#define PROLOGUE                                                  \
	INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0),               \
	INSN(BPF_ALU64 | BPF_MOV | BPF_X, 3, 2, 0, 0),             \
	INSN(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xffff),        \
	INSN(BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, 16),            \
	INSN(BPF_LDX | BPF_MEM | BPF_W, 4, 1, 4, 0),               \
	INSN(BPF_LDX | BPF_MEM | BPF_W, 5, 1, 8, 0)

static void assert_program(const char *json, const struct bpf_insn *want, size_t nwant)
{
	size_t count;
	struct bpf_insn *got = program_of(json, &count);

	ck_assert_uint_eq(count, nwant);
	for (size_t i = 0; i < count; i++)
		ck_assert_msg(!memcmp(&got[i], &want[i], sizeof(want[i])),
			      "instruction %zu: code %#x dst %d src %d off %d imm %d, want %#x %d %d %d %d", i,
			      got[i].code, got[i].dst_reg, got[i].src_reg, got[i].off, got[i].imm, want[i].code,
			      want[i].dst_reg, want[i].src_reg, want[i].off, want[i].imm);
	check_shape(got, count);
	free(got);
}

START_TEST(program_empty_list_allows_everything)
{
	static const struct bpf_insn want[] = {
		PROLOGUE,
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	assert_program("[]", want, BT_ARRAY_SIZE(want));
}
END_TEST

/* One access bit's block of the program below: c 1:3 allowed, else denied. */
#define NULL_ONLY(bit)                                            \
	INSN(BPF_JMP | BPF_JSET | BPF_K, 3, 0, 1, bit),            \
	INSN(BPF_JMP | BPF_JA, 0, 0, 6, 0),                        \
	INSN(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 3, C),               \
	INSN(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 2, 1),               \
	INSN(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 1, 3),               \
	INSN(BPF_JMP | BPF_JA, 0, 0, 2, 0),                        \
	INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),             \
	INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

START_TEST(program_deny_all_then_allow_null)
{
	/* docker's start: deny everything, then /dev/null for reading and writing */
	static const struct bpf_insn want[] = {
		PROLOGUE,
		/* m: only the deny-all names it */
		INSN(BPF_JMP | BPF_JSET | BPF_K, 3, 0, 1, M),
		INSN(BPF_JMP | BPF_JA, 0, 0, 2, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		/* r: c 1:3 allows, else deny; w: the same */
		NULL_ONLY(R),
		NULL_ONLY(W),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	assert_program("[{\"allow\": false, \"access\": \"rwm\"},"
		       " {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"rw\"}]",
		       want, BT_ARRAY_SIZE(want));
}
END_TEST

START_TEST(program_allow_list_with_one_deny_and_wildcard_minor)
{
	/* no deny-all: allowed by default; block 8:* may not be written */
	static const struct bpf_insn want[] = {
		PROLOGUE,
		INSN(BPF_JMP | BPF_JSET | BPF_K, 3, 0, 1, W),
		INSN(BPF_JMP | BPF_JA, 0, 0, 4, 0),
		INSN(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 3, B),
		INSN(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 2, 8),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	assert_program("[{\"allow\": false, \"type\": \"b\", \"major\": 8, \"minor\": -1, \"access\": \"w\"}]",
		       want, BT_ARRAY_SIZE(want));
}
END_TEST

START_TEST(program_decisions_follow_the_last_matching_rule)
{
	size_t count;
	/* a docker-like list with a later deny punching a hole, and a later
	 * allow-all that makes everything before it moot for mknod */
	struct bpf_insn *p = program_of(
		"[{\"allow\": false, \"access\": \"rwm\"},"
		" {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"rwm\"},"
		" {\"allow\": true, \"type\": \"c\", \"major\": 1, \"access\": \"rw\"},"
		" {\"allow\": false, \"type\": \"c\", \"major\": 1, \"minor\": 1, \"access\": \"w\"},"
		" {\"allow\": true, \"type\": \"c\", \"major\": 136, \"access\": \"r\"},"
		" {\"allow\": true, \"type\": \"c\", \"major\": 136, \"access\": \"w\"},"
		" {\"allow\": true, \"type\": \"a\", \"access\": \"m\"}]", &count);

	check_shape(p, count);
	ck_assert_int_eq(run(p, count, C, R | W, 1, 3), 1);  /* /dev/null */
	ck_assert_int_eq(run(p, count, C, R, 1, 5), 1);      /* /dev/zero through c 1:* */
	ck_assert_int_eq(run(p, count, C, R, 1, 1), 1);      /* /dev/mem readable... */
	ck_assert_int_eq(run(p, count, C, W, 1, 1), 0);      /* ...but not writable */
	ck_assert_int_eq(run(p, count, C, R | W, 1, 1), 0);  /* a deny of w refuses rw */
	ck_assert_int_eq(run(p, count, C, R | W, 136, 0), 1); /* r and w from two rules */
	ck_assert_int_eq(run(p, count, B, R, 8, 0), 0);      /* block devices: denied */
	ck_assert_int_eq(run(p, count, C, R, 10, 200), 0);   /* /dev/net/tun: denied */
	ck_assert_int_eq(run(p, count, B, M, 8, 0), 1);      /* mknod of anything */
	ck_assert_int_eq(run(p, count, B, M | R, 8, 0), 0);  /* but not mknod and read */
	free(p);

	/* no rules naming write: writes are allowed by default */
	p = program_of("[{\"allow\": false, \"type\": \"c\", \"access\": \"r\"}]", &count);
	check_shape(p, count);
	ck_assert_int_eq(run(p, count, C, R, 1, 3), 0);
	ck_assert_int_eq(run(p, count, C, W, 1, 3), 1);
	ck_assert_int_eq(run(p, count, B, R, 8, 0), 1);
	free(p);

	/* a deny-all last denies everything, whatever came before */
	p = program_of("[{\"allow\": true, \"access\": \"rwm\"}, {\"allow\": false}]", &count);
	check_shape(p, count);
	ck_assert_int_eq(run(p, count, C, R, 1, 3), 0);
	ck_assert_int_eq(run(p, count, B, M, 8, 0), 0);
	free(p);
}
END_TEST

START_TEST(rules_parsed_and_hostile_ones_refused)
{
	berth_error *err = NULL;
	bt_cg_dev_rule *rules;
	size_t n;
	json_t *devs;
	static const struct {
		const char *json, *message;
	} bad[] = {
		{ "[1]", "linux.resources.devices[0]: expected an object, got integer" },
		{ "[{\"type\": \"c\"}]", "linux.resources.devices[0].allow: missing" },
		{ "[{\"allow\": true, \"type\": \"cc\"}]", "\"cc\" is not a, b or c" },
		{ "[{\"allow\": true, \"type\": \"\"}]", "\"\" is not a, b or c" },
		{ "[{\"allow\": true, \"access\": \"rwx\"}]", "\"rwx\" is not made of r, w and m" },
		{ "[{\"allow\": true, \"access\": \"\"}]", "\"\" is not made of r, w and m" },
		{ "[{\"allow\": true, \"major\": -2}]", "major: -2 is below the minimum -1" },
		{ "[{\"allow\": true, \"minor\": 1048576}]", "minor: 1048576 is above the largest minor 1048575" },
		{ "[{\"allow\": true, \"major\": 4294967297}]", "major: 4294967297 is above the largest major" },
		{ "[{\"allow\": true, \"path\": \"/dev/null\"}]", "linux.resources.devices[0].path: unknown field" },
		{ "{}", "linux.resources.devices: expected an array, got object" },
	};

	rules = rules_of("[{\"allow\": true, \"type\": \"b\", \"major\": 8, \"minor\": 16, \"access\": \"mr\"},"
			 " {\"allow\": false}]", &n);
	ck_assert_uint_eq(n, 2);
	ck_assert(rules[0].allow && rules[0].type == 'b' && rules[0].major == 8 && rules[0].minor == 16);
	ck_assert_uint_eq(rules[0].access, BT_CG_DEV_MKNOD | BT_CG_DEV_READ);
	/* absent fields: any type, any number, every access */
	ck_assert(!rules[1].allow && rules[1].type == 'a' && rules[1].major == -1 && rules[1].minor == -1);
	ck_assert_uint_eq(rules[1].access, BT_CG_DEV_MKNOD | BT_CG_DEV_READ | BT_CG_DEV_WRITE);
	free(rules);

	for (size_t i = 0; i < BT_ARRAY_SIZE(bad); i++) {
		ck_assert_ok(bt_json_parse(bad[i].json, strlen(bad[i].json), "test", &devs, &err), err);
		ck_assert_fails(bt_cg_dev_rules_parse(devs, "linux.resources.devices", &rules, &n, &err), err,
				BERTH_EINVAL, bad[i].message);
		json_decref(devs);
	}

	/* more rules than any real list: refused before any work */
	devs = json_array();
	for (int i = 0; i < 5000; i++)
		json_array_append_new(devs, json_pack("{s:b}", "allow", 1));
	ck_assert_fails(bt_cg_dev_rules_parse(devs, "linux.resources.devices", &rules, &n, &err), err,
			BERTH_EINVAL, "5000 rules, more than the 4096 allowed");
	json_decref(devs);
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("cgroup_devices");
	TCase *tc = tcase_create("devices");

	tcase_add_test(tc, program_empty_list_allows_everything);
	tcase_add_test(tc, program_deny_all_then_allow_null);
	tcase_add_test(tc, program_allow_list_with_one_deny_and_wildcard_minor);
	tcase_add_test(tc, program_decisions_follow_the_last_matching_rule);
	tcase_add_test(tc, rules_parsed_and_hostile_ones_refused);
	suite_add_tcase(s, tc);
	return s;
}
