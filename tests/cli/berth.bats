#!/usr/bin/env bats
# The berth example CLI: global options, version and info.

setup() {
	TEST_ROOT=$(mktemp -d /tmp/berth-cli-XXXXXX)
}

teardown() {
	rm -rf "$TEST_ROOT"
}

@test "version prints the library version" {
	run "$BERTH" version
	[ "$status" -eq 0 ]
	want=$(sed -n 's/^#define BERTH_VERSION_STRING "\(.*\)"/\1/p' "$top_builddir/include/berth/version.h")
	[ "$output" = "berth version $want" ]
	run "$BERTH" --version
	[ "$output" = "berth version $want" ]
}

@test "info shows the store root and host features" {
	run "$BERTH" --root "$TEST_ROOT/store" --runroot "$TEST_ROOT/run" info
	[ "$status" -eq 0 ]
	echo "$output" | grep -Eq "^root +$TEST_ROOT/store$"
	echo "$output" | grep -Eq "^runroot +$TEST_ROOT/run$"
	echo "$output" | grep -Eq '^cgroup.mode +(v1|v2|hybrid|none)$'
	echo "$output" | grep -Eq '^namespaces +.*pid'
	echo "$output" | grep -Eq '^overlayfs +(yes|no)$'
	echo "$output" | grep -Eq '^seccomp +(yes|no)$'
	# info reads; it creates nothing in the store
	[ ! -e "$TEST_ROOT/store" ]
}

@test "info shows the cgroup module's own view of cgroups, once" {
	run "$BERTH" --root "$TEST_ROOT/store" info
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c '^cgroup.mode ')" -eq 1 ]
	echo "$output" | grep -Eq '^cgroup.v1.controllers( |$)'
	echo "$output" | grep -Eq '^cgroup.v2.controllers( |$)'
	echo "$output" | grep -Eq '^cgroup.v2.delegated( |$)'
	run "$BERTH" --root "$TEST_ROOT/store" info --format json
	[ "$status" -eq 0 ]
	printf '%s' "$output" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["cgroup.mode"] in ("v1","v2","hybrid","none"); assert "cgroup.v2.delegated" in d'
}

@test "info --format json is one JSON object with the same facts" {
	run "$BERTH" --root "$TEST_ROOT/store" info --format json
	[ "$status" -eq 0 ]
	root=$(printf '%s' "$output" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["root"])')
	[ "$root" = "$TEST_ROOT/store" ]
}

@test "bad input gets a clear error and a non-zero status" {
	run "$BERTH" --root relative/dir info
	[ "$status" -eq 1 ]
	[ "$output" = 'berth: store root "relative/dir": must be an absolute path' ]
	run "$BERTH" --log-level loud version
	[ "$status" -eq 1 ]
	echo "$output" | grep -q 'log level "loud"'
	run "$BERTH" frobnicate
	[ "$status" -eq 125 ]
	echo "$output" | grep -q 'unknown command "frobnicate"'
	run "$BERTH" info --format '{{.yaml'
	[ "$status" -eq 1 ]
	echo "$output" | grep -q 'template: 1:1: unclosed action'
	run "$BERTH" --frobnicate info
	[ "$status" -eq 125 ]
	[ "${lines[0]}" = "berth: unknown flag: --frobnicate" ]
	run "$BERTH"
	[ "$status" -eq 125 ]
	echo "$output" | grep -q 'Usage:'
}

@test "--log-level debug shows the library's log lines on stderr" {
	run "$BERTH" --log-level debug --root "$TEST_ROOT/s" info
	[ "$status" -eq 0 ]
	echo "$output" | grep -q "berth: debug: common: context: root $TEST_ROOT/s"
}

@test "--help lists the commands" {
	run "$BERTH" --help
	[ "$status" -eq 0 ]
	echo "$output" | grep -q '^  info '
	echo "$output" | grep -q '^  version '
}
