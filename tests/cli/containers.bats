#!/usr/bin/env bats
# Containers from an image, as a Docker user drives them: run, create,
# start, stop, kill, rm, ps, wait, logs, inspect, with the kernel's real
# namespaces, cgroups and overlay mounts. The image is busybox-static made
# offline (tests/integration/lib/registry-mkimage.py) and copied into the
# store with skopeo as docker.io/library/busybox. Root only. Every
# container is removed, and every monitor ended by its PID, in teardown.
bats_require_minimum_version 1.5.0
load lib/engine

setup_file() {
	engine_setup_file ct
}

teardown_file() {
	engine_teardown_file
}

setup() {
	engine_setup
}

# nothing of container id is left: state, snapshot mount, cgroup, process
assert_gone() {
	id=$1
	[ ! -e "$STORE/root/containers/$id" ]
	! grep -q "$id" /proc/self/mounts
	! ls -d /sys/fs/cgroup/*/berth/"$id"-* 2>/dev/null
	! ls -d /sys/fs/cgroup/unified/berth/"$id"-* 2>/dev/null
}

@test "run --rm echo hello prints hello and leaves nothing" {
	run --separate-stderr "${B[@]}" run --rm busybox echo hello
	[ "$status" -eq 0 ]
	[ "$output" = "hello" ]
	run "${B[@]}" ps -a -q
	[ -z "$output" ]
	[ -z "$(ls "$STORE/root/containers" | grep -v names)" ]
	! grep -q " $STORE/" /proc/self/mounts
}

@test "exit codes pass through: 3, 127 for a missing command, 137 for an OOM kill" {
	run "${B[@]}" run --rm busybox sh -c 'exit 3'
	[ "$status" -eq 3 ]
	run -127 --separate-stderr "${B[@]}" run --rm busybox no-such-command
	[[ "$stderr" == *"no-such-command"* || "$stderr" == *"process.args[0]"* ]]
	run "${B[@]}" run --name oom -m 8m busybox sh -c 'x=x; while :; do x=$x$x; done'
	[ "$status" -eq 137 ]
	run "${B[@]}" container inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}}' oom
	[ "$output" = "true 137" ]
	# Docker's oom and die events, the code with the die
	run "${B[@]}" events --since 1h --until 0s --format '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}'
	[[ "$output" == *$'oom oom <no value>\ndie oom 137'* ]]
	"${B[@]}" rm oom
}

@test "the image's config and the options reach the process" {
	run --separate-stderr "${B[@]}" run --rm -u 1000:1000 -w /work/dir -e FOO=bar --hostname h1 busybox \
		sh -c 'echo "$(id) $(pwd) $FOO $(hostname) $HOSTNAME"'
	[ "$status" -eq 0 ]
	[ "$output" = "uid=1000 gid=1000 /work/dir bar h1 h1" ]
	# Docker's 14 default capabilities, none with --cap-drop ALL, all with --privileged
	run "${B[@]}" run --rm busybox sh -c 'grep CapEff /proc/self/status'
	[[ "$output" == *00000000a80425fb ]]
	run "${B[@]}" run --rm --cap-drop ALL --cap-add chown busybox sh -c 'grep CapEff /proc/self/status'
	[[ "$output" == *0000000000000001 ]]
	# all we have: this host may withhold some from root
	run "${B[@]}" run --rm --privileged busybox sh -c 'grep CapEff /proc/self/status'
	[ "${output##*	}" = "$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)" ]
	# masked and read-only kernel paths; a read-only root with --read-only
	run "${B[@]}" run --rm busybox sh -c 'cat /proc/kcore | wc -c; echo 1 > /proc/sys/kernel/ostype'
	[ "$status" -ne 0 ]
	run "${B[@]}" run --rm --read-only busybox sh -c 'echo x > /x'
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	run "${B[@]}" run --rm busybox sh -c 'echo x > /x && cat /x'
	[ "$output" = "x" ]
	# the generated /etc files; no network but loopback
	run "${B[@]}" run --rm --hostname h2 busybox sh -c 'cat /etc/hostname; grep -c localhost /etc/hosts; ls /sys/class/net'
	[ "${lines[0]}" = "h2" ]
	[ "${lines[1]}" = "2" ]
	[ "${lines[2]}" = "lo" ]
}

@test "run -d, logs, ps, stop, start, rm: a detached container's life" {
	run "${B[@]}" run -d --name c1 busybox sh -c 'echo out; echo err >&2; trap "echo bye; exit 0" TERM; while :; do sleep 0.1; done'
	[ "$status" -eq 0 ]
	id=$output
	[[ "$id" =~ ^[0-9a-f]{64}$ ]]
	for i in $(seq 50); do "${B[@]}" logs c1 2>&1 | grep -q err && break; sleep 0.1; done
	run --separate-stderr "${B[@]}" logs c1
	[ "$output" = "out" ]
	[ "$stderr" = "err" ]
	grep -q '"stream":"stderr"' "$STORE/root/containers/$id/$id-json.log"
	run "${B[@]}" ps --format '{{.Names}} {{.State}} {{.Image}}'
	[ "$output" = "c1 running busybox" ]
	# a unique prefix of the id names it too
	run "${B[@]}" container inspect -f '{{.Name}} {{.State.Running}}' "${id:0:8}"
	[ "$output" = "/c1 true" ]
	run "${B[@]}" rm c1
	[ "$status" -ne 0 ]
	[[ "$output" == *"container is running"* ]]
	run "${B[@]}" stop c1
	[ "$status" -eq 0 ]
	run "${B[@]}" wait c1
	[ "$output" = "0" ]
	run --separate-stderr "${B[@]}" logs c1
	[ "${lines[1]}" = "bye" ]
	run "${B[@]}" stop c1
	[ "$status" -ne 0 ]
	[[ "$output" == *"not running"* ]]
	run "${B[@]}" ps -a --format '{{.Names}} {{.Status}}'
	[[ "$output" == "c1 Exited (0) "* ]]
	run "${B[@]}" start c1
	[ "$status" -eq 0 ]
	run "${B[@]}" kill -s KILL c1
	run "${B[@]}" wait c1
	[ "$output" = "137" ]
	run "${B[@]}" rm c1
	[ "$status" -eq 0 ]
	assert_gone "$id"
}

@test "rm -f of a running container, and run -d --rm removes itself" {
	id=$("${B[@]}" run -d busybox sh -c 'while :; do sleep 1; done')
	run "${B[@]}" rm -f "$id"
	[ "$status" -eq 0 ]
	assert_gone "$id"
	id=$("${B[@]}" run -d --rm busybox sh -c 'sleep 0.2')
	for i in $(seq 100); do [ -e "$STORE/root/containers/$id" ] || break; sleep 0.1; done
	assert_gone "$id"
}

@test "the container outlives a SIGKILLed CLI; a SIGKILLed monitor is reported" {
	"${B[@]}" run --name fg busybox sh -c 'sleep 1; echo done' > "$STORE/fg.out" &
	cli=$!
	for i in $(seq 100); do [ "$("${B[@]}" container inspect -f '{{.State.Status}}' fg 2>/dev/null)" = running ] && break; sleep 0.05; done
	kill -9 "$cli"
	wait "$cli" || true
	run "${B[@]}" wait fg
	[ "$output" = "0" ]
	"${B[@]}" rm fg
	id=$("${B[@]}" run -d --name mon busybox sh -c 'while :; do sleep 1; done')
	mon=$("${B[@]}" container inspect -f '{{.State.MonitorPid}}' mon)
	init=$("${B[@]}" container inspect -f '{{.State.Pid}}' mon)
	kill -9 "$mon"
	kill -9 "$init"
	for i in $(seq 50); do kill -0 "$init" 2>/dev/null || break; sleep 0.1; done
	run "${B[@]}" container inspect -f '{{.State.Status}} {{.State.ExitCode}}' mon
	[ "$output" = "exited -1" ]
	run "${B[@]}" rm mon
	[ "$status" -eq 0 ]
	assert_gone "$id"
}

@test "bad input: unknown image, name in use, bad user, bad flag, unknown container, damaged or empty state" {
	before=$(ls "$STORE/root/containers" | grep -vc names || true)
	run "${B[@]}" run --rm no-such-image true
	[ "$status" -eq 125 ]
	[[ "$output" == *"Unable to find image 'no-such-image'"* ]]
	"${B[@]}" create --name taken busybox true >/dev/null
	run "${B[@]}" create --name taken busybox true
	[ "$status" -eq 125 ]
	[[ "$output" == *'"/taken" is already in use'* ]]
	run "${B[@]}" run --rm -u nobody busybox true
	[ "$status" -eq 125 ]
	[[ "$output" == *"unable to find user nobody"* ]]
	run "${B[@]}" run --rm -m lots busybox true
	[ "$status" -eq 125 ]
	[[ "$output" == *'invalid argument "lots" for "--memory"'* ]]
	run "${B[@]}" run --rm --name 'bad/name' busybox true
	[ "$status" -eq 125 ]
	run "${B[@]}" stop no-such-container
	[[ "$output" == *"No such container: no-such-container"* ]]
	# a failed create leaves nothing: only the one named taken exists
	[ "$(ls "$STORE/root/containers" | grep -vc names)" -eq $((before + 1)) ]
	ls "$STORE/root/containers/names" | grep -qx taken
	[ "$(ls -A "$STORE/root/containers" | grep -c '^\.tmp-')" -eq 0 ]
	id=$("${B[@]}" container inspect -f '{{.Id}}' taken)
	echo '{"Status": ' > "$STORE/root/containers/$id/state.json"
	run "${B[@]}" start taken
	[ "$status" -ne 0 ]
	[[ "$output" == *"container ${id:0:12} has a damaged record"* ]]
	# state.json is written without fsync: empty after a power loss, it
	# reads as an end nothing recorded
	: > "$STORE/root/containers/$id/state.json"
	[ "$("${B[@]}" container inspect -f '{{.State.Status}} {{.State.ExitCode}}' taken)" = "exited -1" ]
	"${B[@]}" rm taken
	assert_gone "$id"
}

@test "an image a container uses is not removed: rmi names the container; after rm it goes (last test: it removes busybox)" {
	"${B[@]}" tag busybox busybox:held
	id=$("${B[@]}" create --name user busybox:held true)
	# one tag of several: an untag, as Docker does
	run "${B[@]}" rmi busybox:held
	[ "$status" -eq 0 ]
	# the last tag: refused while the container holds the image
	run --separate-stderr "${B[@]}" rmi busybox
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"held by container:$id"* ]]
	"${B[@]}" rm user
	run "${B[@]}" rmi busybox
	[ "$status" -eq 0 ]
	run "${B[@]}" images -q
	[ -z "$output" ]
}
