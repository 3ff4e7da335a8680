#!/usr/bin/env bats
# Errors that read once: each common failure says the thing and the reason,
# in one line, with no clause said twice.
bats_require_minimum_version 1.5.0
load lib/registry

setup_file() {
	cli_registry_start tls
	STORE=$(mktemp -d /tmp/berth-cli-errors-XXXXXX)
	export STORE
}

teardown_file() {
	if [ -n "${STORE:-}" ]; then
		umount "$STORE/tiny" 2>/dev/null || true
		rm -rf "$STORE"
	fi
	cli_registry_stop
}

setup() {
	B=("$BERTH" --root "$STORE/root" --runroot "$STORE/run")
}

# reads_once MESSAGE THING REASON_REGEX: one line starting "berth: ", THING
# said exactly once, REASON found, and no two clauses (split at ": ") that
# start with the same verb ("pulling X: pulling X:latest: ...")
reads_once() {
	/usr/bin/python3 - "$@" <<'PY'
import re, sys
msg, thing, reason = sys.argv[1:]
assert "\n" not in msg and msg.startswith("berth: "), repr(msg)
assert msg.count(thing) == 1, "%r said %d times in %r" % (thing, msg.count(thing), msg)
assert re.search(reason, msg), "no %r in %r" % (reason, msg)
verbs = [c.split(" ")[0] for c in msg[7:].split(": ") if c.split(" ")[0].endswith("ing")]
assert len(verbs) == len(set(verbs)), "a clause repeats its verb: %r" % msg
clauses = msg[7:].split(": ")
assert len(clauses) == len(set(clauses)), "a clause said twice: %r" % msg
PY
}

@test "a missing image, in every command that takes one" {
	for cmd in "image inspect" history rmi "tag" "image mount"; do
		args=(berth-test-nosuch)
		[ "$cmd" = tag ] && args+=(berth-test-other)
		run --separate-stderr "${B[@]}" $cmd "${args[@]}"
		[ "$status" -eq 1 ]
		reads_once "$stderr" berth-test-nosuch 'no image' || { echo "$cmd"; false; }
	done
}

@test "a missing image in the registry, an unreachable one, a bad reference" {
	run --separate-stderr "${B[@]}" pull -q "$REG_ADDR/berth-test/nosuch"
	[ "$status" -eq 1 ]
	reads_once "$stderr" "$REG_ADDR/berth-test/nosuch:latest" 'manifest unknown'
	port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	run --separate-stderr "${B[@]}" pull -q "127.0.0.1:$port/berth-test/x"
	[ "$status" -eq 1 ]
	reads_once "$stderr" "127.0.0.1:$port/berth-test/x" "Couldn't connect|refused"
	run --separate-stderr "${B[@]}" pull -q 'berth-test/b:c:d'
	[ "$status" -eq 1 ]
	reads_once "$stderr" 'berth-test/b:c:d' 'not allowed'
}

@test "credentials refused" {
	run --separate-stderr "${B[@]}" pull -q --certs-dir "$AUTH_CERTS" "$AUTH_ADDR/berth-test/x"
	[ "$status" -eq 1 ]
	reads_once "$stderr" "$AUTH_ADDR/berth-test/x:latest" 'needs credentials'
	run --separate-stderr "${B[@]}" login -u berth -p wrong --auth-file "$STORE/auth.json" \
		--certs-dir "$AUTH_CERTS" "$AUTH_ADDR"
	[ "$status" -eq 1 ]
	reads_once "$stderr" "$AUTH_ADDR" '401|refused|credentials'
}

@test "a full disk" {
	mkdir -p "$STORE/tiny"
	mount -t tmpfs -o size=600k berth-cli-test "$STORE/tiny"
	run --separate-stderr "$BERTH" --root "$STORE/tiny/root" --runroot "$STORE/run2" pull -q "$REG_ADDR/busybox"
	umount "$STORE/tiny"
	[ "$status" -eq 1 ]
	reads_once "$stderr" "$REG_ADDR/busybox:latest" 'No space left on device'
	digest=$(printf '%s' "$stderr" | grep -o 'sha256:[0-9a-f]*' | head -1)
	reads_once "$stderr" "$digest" 'No space left on device'
}
