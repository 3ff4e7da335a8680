#!/usr/bin/env bats
# Options as Docker users type them: anywhere, --help on every command and
bats_require_minimum_version 1.5.0
# group, unknown flags as one line plus the usage on stderr, status 125.

setup() {
	TEST_ROOT=$(mktemp -d /tmp/berth-cli-opt-XXXXXX)
	B=("$BERTH" --root "$TEST_ROOT/store" --runroot "$TEST_ROOT/run")
}

teardown() {
	rm -rf "$TEST_ROOT"
}

@test "pull --help prints the usage to stdout and exits 0 (issue case 3)" {
	run --separate-stderr "${B[@]}" pull --help
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ "${lines[0]}" == "Usage: berth pull [OPTIONS] NAME[:TAG|@DIGEST]" ]]
}

@test "--help and -h on every command and group" {
	for cmd in pull images history rmi tag login logout info version "system df" "system prune" system image \
		"image inspect" "image ls" "image rm" "image pull" "image tag" "image history" \
		"image prune" "image mount" "image unmount"; do
		for h in --help -h; do
			run --separate-stderr "${B[@]}" $cmd $h
			[ "$status" -eq 0 ] || { echo "$cmd $h: $status $stderr"; false; }
			[ -z "$stderr" ] || { echo "$cmd $h: $stderr"; false; }
			[[ "${lines[0]}" == "Usage: berth "* ]] || { echo "$cmd $h: ${lines[0]}"; false; }
		done
	done
}

@test "an unknown flag: one line and the usage on stderr, status 125" {
	for cmd in pull images history rmi info "system df" "system prune" "image inspect" "image prune"; do
		run --separate-stderr "${B[@]}" $cmd --frobnicate
		[ "$status" -eq 125 ] || { echo "$cmd: $status"; false; }
		[ -z "$output" ]
		first=$(printf '%s\n' "$stderr" | head -1)
		[ "$first" = "berth: unknown flag: --frobnicate" ] || { echo "$cmd: $first"; false; }
		printf '%s\n' "$stderr" | sed -n 2p | grep -q '^Usage: berth '
	done
	run --separate-stderr "${B[@]}" images -x
	[ "$status" -eq 125 ]
	[ "$(printf '%s\n' "$stderr" | head -1)" = "berth: unknown shorthand flag: 'x' in -x" ]
}

@test "options after arguments, and -- ends options (issue case 2)" {
	# the option is read wherever it stands: the image is the only argument
	run --separate-stderr "${B[@]}" image inspect nosuch --format '{{.Id}}'
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == *'"nosuch"'* ]]
	[[ "$stderr" != *'--format'* ]]
	# after -- a flag-looking word is an argument
	run --separate-stderr "${B[@]}" image inspect -- --format
	[ "$status" -eq 1 ]
	[[ "$stderr" == *'"--format"'* ]]
}

@test "a missing argument is a usage error" {
	run --separate-stderr "${B[@]}" pull
	[ "$status" -eq 125 ]
	[[ "$stderr" == *'"berth pull" requires exactly 1 argument'* ]]
	run --separate-stderr "${B[@]}" images --format
	[ "$status" -eq 125 ]
	[ "$(printf '%s\n' "$stderr" | head -1)" = "berth: flag needs an argument: --format" ]
}
