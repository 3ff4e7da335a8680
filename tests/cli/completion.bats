#!/usr/bin/env bats
# bash completion: commands, sub-commands, flags and image names.
bats_require_minimum_version 1.5.0
load lib/registry

setup() {
	TEST_ROOT=$(mktemp -d /tmp/berth-cli-comp-XXXXXX)
	# the script calls COMP_WORDS[0]; let it find the build tree's berth
	mkdir "$TEST_ROOT/bin"
	ln -s "$BERTH" "$TEST_ROOT/bin/berth"
	PATH=$TEST_ROOT/bin:$PATH
	. "$top_srcdir/examples/berth/berth.bash-completion"
}

teardown() {
	cli_registry_stop
	rm -rf "$TEST_ROOT"
}

# complete WORDS...: what completing the last word offers, one per line
complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	_berth
	printf '%s\n' "${COMPREPLY[@]}" | sort
}

@test "commands, sub-commands and flags" {
	run complete_words berth im
	[ "$output" = "$(printf 'image\nimages')" ]
	run complete_words berth --root /x image ins
	[ "$output" = "inspect" ]
	run complete_words berth system ""
	[ "$output" = "$(printf 'boot\ndf\nprune')" ]
	run complete_words berth pull --pl
	[ "$output" = "--platform" ]
	run complete_words berth images --no
	[ "$output" = "--no-trunc" ]
}

@test "image names from the store the command line names" {
	cli_registry_start
	"$BERTH" --root "$TEST_ROOT/store" --runroot "$TEST_ROOT/run" pull -q --no-unpack "$REG_ADDR/victim" >/dev/null
	run complete_words berth --root "$TEST_ROOT/store" rmi ""
	[ "$output" = "$REG_ADDR/victim:latest" ]
	run complete_words berth --root "$TEST_ROOT/store" image inspect "$REG_ADDR/vi"
	[ "$output" = "$REG_ADDR/victim:latest" ]
	# another store, another list
	run complete_words berth --root "$TEST_ROOT/other" rmi ""
	[ -z "$output" ]
}
