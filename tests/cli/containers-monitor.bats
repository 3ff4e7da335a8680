#!/usr/bin/env bats
# What a container's monitor does beyond holding it: attach and terminals
# (real pseudo-terminals driven by tests/cli/pty-session.py), log rotation,
# restart policies, healthchecks, system boot. Same image and clean-up as
# containers.bats: busybox-static made offline; every container removed
# and every monitor ended by its PID in teardown. Root only.
bats_require_minimum_version 1.5.0

setup_file() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, cgroups, mounts)"
	command -v skopeo >/dev/null || skip "skopeo is not installed (scripts/install-deps)"
	STORE=$(mktemp -d /tmp/berth-cli-mon-XXXXXX)
	export STORE
	export BERTH_MONITOR="$top_builddir/lib/container/berth-monitor"
	/usr/bin/python3 "$top_srcdir/tests/integration/lib/registry-mkimage.py" "$STORE/layout" >/dev/null
	mkdir -p "$STORE/root/content"
	skopeo copy -q "oci:$STORE/layout:busybox" "oci:$STORE/root/content:docker.io/library/busybox:latest"
}

teardown_file() {
	[ -n "${STORE:-}" ] || return 0
	B=("$BERTH" --root "$STORE/root" --runroot "$STORE/run")
	for id in $("${B[@]}" ps -a -q --no-trunc 2>/dev/null); do
		pid=$("${B[@]}" container inspect -f '{{.State.MonitorPid}}' "$id" 2>/dev/null || true)
		"${B[@]}" rm -f "$id" >/dev/null 2>&1 || true
		[ -z "$pid" ] || [ "$pid" = 0 ] || kill -9 "$pid" 2>/dev/null || true
	done
	grep -o " $STORE/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" || true; done
	rm -rf "$STORE"
}

setup() {
	B=("$BERTH" --root "$STORE/root" --runroot "$STORE/run")
	PTY=(/usr/bin/python3 "$top_srcdir/tests/cli/pty-session.py")
}

# waits up to 10 s for container $1's inspect field $2 to print $3
wait_for() {
	for i in $(seq 100); do
		[ "$("${B[@]}" container inspect -f "$2" "$1" 2>/dev/null)" = "$3" ] && return 0
		sleep 0.1
	done
	echo "$1: $2 is $("${B[@]}" container inspect -f "$2" "$1" 2>&1), not $3" >&2
	return 1
}

@test "run -it: a real terminal, its size followed, output and exit code 3" {
	run --separate-stderr "${PTY[@]}" --rows 33 --cols 101 'expect:# ' \
		'send:tty; stty size\r' 'expect:33 101' 'resize:40:120' 'sleep:0.5' \
		'send:stty size; echo h""i; exit 3\r' -- "${B[@]}" run -it --rm busybox sh
	echo "$output"
	[ "$status" -eq 3 ]
	[[ "$output" == *"/dev/pts/0"* ]]
	[[ "$output" == *"40 120"* ]]
	[[ "$output" == *$'\nhi\r'* ]]
	[[ "$stderr" == *"tty-modes-restored: yes"* ]]
	[ -z "$("${B[@]}" ps -a -q)" ]
}

@test "ctrl-p ctrl-q detaches, the container runs on; attach takes it back" {
	run --separate-stderr "${PTY[@]}" 'expect:# ' 'send:echo o""ne\r' 'expect:one' 'send:\x10\x11' \
		-- "${B[@]}" run -it --name dt busybox sh
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"tty-modes-restored: yes"* ]]
	wait_for dt '{{.State.Status}}' running
	# other detach keys; what came before them reaches the shell
	run "${PTY[@]}" 'send:\r' 'expect:# ' 'send:echo t""wo\r' 'expect:two' 'send:x' \
		-- "${B[@]}" attach --detach-keys x dt
	[ "$status" -eq 0 ]
	wait_for dt '{{.State.Status}}' running
	run "${PTY[@]}" 'send:\r' 'expect:# ' 'send:exit 5\r' -- "${B[@]}" attach dt
	[ "$status" -eq 5 ]
	wait_for dt '{{.State.Status}}' exited
	# the log has what the terminal showed, attached or not
	run "${B[@]}" logs dt
	[[ "$output" == *one* && "$output" == *two* ]]
	"${B[@]}" rm dt
	[ ! -e "$STORE/run/containers/$("${B[@]}" ps -aq --no-trunc | head -1)" ] || true
}

@test "run -dt logs the terminal; the monitor's fds do not reach the container" {
	id=$("${B[@]}" run -d -t --name dtt busybox sh -c 'tty; ls -1 /proc/self/fd; sleep 30')
	for i in $(seq 50); do "${B[@]}" logs dtt | grep -q '^3' && break; sleep 0.1; done
	run "${B[@]}" logs dtt
	# 0-2 the terminal, 3 the directory ls reads: nothing of the monitor's
	[ "$(echo "$output" | tr -d '\r' | tr '\n' ' ')" = "/dev/pts/0 0 1 2 3 " ]
	[ -S "$STORE/run/containers/$id/attach.sock" ]
	"${B[@]}" rm -f dtt
	[ ! -e "$STORE/run/containers/$id" ]
}

@test "-i without a terminal: stdin forwarded and closed at its end, stdout and stderr apart" {
	run --separate-stderr "${B[@]}" run -i --rm busybox sh -c 'cat; echo err >&2' <<< "piped"
	[ "$status" -eq 0 ]
	[ "$output" = "piped" ]
	[ "$stderr" = "err" ]
	# detached with -i: attach feeds its stdin pipe, EOF ends cat
	"${B[@]}" run -d -i --name di busybox sh -c 'cat; echo done >&2; exit 7' >/dev/null
	run --separate-stderr "${B[@]}" attach di <<< "through attach"
	[ "$status" -eq 7 ]
	[ "$output" = "through attach" ]
	[ "$stderr" = "done" ]
	"${B[@]}" rm di
}

@test "attach to a stopped container is refused" {
	"${B[@]}" create --name st busybox true >/dev/null
	run "${B[@]}" attach st
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot attach to a stopped container"* ]]
	"${B[@]}" rm st
}

@test "--log-opt max-size/max-file rotate the json-file log as Docker does; logs reads across the files" {
	id=$("${B[@]}" run -d --name rot --log-opt max-size=1k --log-opt max-file=3 busybox \
		sh -c 'for i in $(seq 1 200); do echo line-$i; done')
	run "${B[@]}" wait rot
	[ "$output" = "0" ]
	log=$STORE/root/containers/$id/$id-json.log
	[ -s "$log" ] && [ -s "$log.1" ] && [ -s "$log.2" ] && [ ! -e "$log.3" ]
	for f in "$log" "$log.1" "$log.2"; do [ "$(stat -c %s "$f")" -le 1000 ]; done
	# the oldest lines are gone, what is kept comes in order up to the last
	run "${B[@]}" logs rot
	[ "${lines[-1]}" = "line-200" ]
	[ "${lines[0]}" != "line-1" ]
	first=${lines[0]#line-}
	[ "${#lines[@]}" -eq $((201 - first)) ]
	run "${B[@]}" logs --tail 2 rot
	[ "$output" = $'line-199\nline-200' ]
	run "${B[@]}" logs -n 0 rot
	[ -z "$output" ]
	run "${B[@]}" logs -t --tail 1 rot
	[[ "$output" =~ ^20[0-9-]+T[0-9:]+\.[0-9]{9}Z\ line-200$ ]]
	# --since: a time after the last line shows nothing, one long before all
	run "${B[@]}" logs --since "$(date -u -d '+1 min' +%Y-%m-%dT%H:%M:%SZ)" rot
	[ -z "$output" ]
	run "${B[@]}" logs --since 10m rot
	[ "${lines[-1]}" = "line-200" ]
	run "${B[@]}" run --rm --log-opt max-size=lots busybox true
	[ "$status" -eq 125 ]
	[[ "$output" == *"log opt"* ]]
	"${B[@]}" rm rot
}
