#!/usr/bin/env bats
# The run options that shape a container's config, as the kernel applies
# them: the default seccomp profile (data/seccomp/default.json) and
# --security-opt seccomp=, --init, --ulimit, --device, --shm-size and
# --network container:. The image is busybox-static made offline, as in
# containers.bats. Root only. Every container is removed, and every monitor
# ended by its PID, in teardown.
bats_require_minimum_version 1.5.0
load lib/engine

setup_file() {
	engine_setup_file spec
}

teardown_file() {
	engine_teardown_file
}

setup() {
	engine_setup
}

# the runtime-spec config of container $1
spec() {
	cat "$STORE/root/containers/$("${B[@]}" container inspect -f '{{.Id}}' "$1")/config.json"
}

@test "seccomp: on by default, off with seccomp=unconfined and --privileged" {
	run "${B[@]}" run --rm busybox busybox grep '^Seccomp:' /proc/self/status
	[ "$status" -eq 0 ]
	[[ "$output" == *2 ]]
	run "${B[@]}" run --rm --security-opt seccomp=unconfined busybox busybox grep '^Seccomp:' /proc/self/status
	[[ "$output" == *0 ]]
	run "${B[@]}" run --rm --privileged busybox busybox grep '^Seccomp:' /proc/self/status
	[[ "$output" == *0 ]]
	run "${B[@]}" run --rm --security-opt seccomp=builtin busybox busybox grep '^Seccomp:' /proc/self/status
	[[ "$output" == *2 ]]
	"${B[@]}" create --name sc1 --security-opt seccomp=unconfined busybox true
	run "${B[@]}" container inspect -f '{{json .HostConfig.SecurityOpt}}' sc1
	[ "$output" = '["seccomp=unconfined"]' ]
	"${B[@]}" rm sc1
}

@test "seccomp: unshare and mount need CAP_SYS_ADMIN, clone3 says ENOSYS without it" {
	# a user namespace needs no capability: only the filter refuses it
	run --separate-stderr "${B[@]}" run --rm busybox busybox unshare -r true
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"Operation not permitted"* ]]
	run "${B[@]}" run --rm --security-opt seccomp=unconfined busybox busybox unshare -r busybox id -u
	[ "$status" -eq 0 ]
	[ "$output" = 0 ]
	run "${B[@]}" run --rm --cap-add SYS_ADMIN busybox busybox unshare -r busybox id -u
	[ "$status" -eq 0 ]
	run --separate-stderr "${B[@]}" run --rm busybox busybox sh -c 'busybox mkdir /m && busybox mount -t tmpfs t /m'
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"Operation not permitted"* || "$stderr" == *"permission denied"* ]]
	run "${B[@]}" run --rm --cap-add SYS_ADMIN busybox busybox sh -c 'busybox mkdir /m && busybox mount -t tmpfs t /m && busybox grep " /m " /proc/mounts'
	[ "$status" -eq 0 ]
	[[ "$output" == "t /m tmpfs"* ]]
	# personality: Docker's values only (PER_LINUX32 is one)
	run "${B[@]}" run --rm busybox busybox linux32 busybox uname -m
	[ "$status" -eq 0 ]
	# the rules follow the final capability set
	"${B[@]}" create --name sc2 busybox true
	"${B[@]}" create --name sc3 --cap-add SYS_ADMIN --cap-drop SYS_CHROOT busybox true
	spec sc2 | /usr/bin/python3 -c '
import json, sys
sc = json.load(sys.stdin)["linux"]["seccomp"]
assert sc["defaultAction"] == "SCMP_ACT_ERRNO" and sc["defaultErrnoRet"] == 1, sc["defaultAction"]
rules = {n: r for r in sc["syscalls"] for n in r["names"]}
assert rules["clone3"]["action"] == "SCMP_ACT_ERRNO" and rules["clone3"]["errnoRet"] == 38
assert rules["clone"]["args"][0]["op"] == "SCMP_CMP_MASKED_EQ"
assert "mount" not in rules and "reboot" not in rules and "ptrace" in rules and "chroot" in rules
assert "SCMP_ARCH_X86_64" in sc["architectures"] or "SCMP_ARCH_AARCH64" in sc["architectures"]'
	spec sc3 | /usr/bin/python3 -c '
import json, sys
rules = {n: r for r in json.load(sys.stdin)["linux"]["seccomp"]["syscalls"] for n in r["names"]}
assert rules["clone3"]["action"] == "SCMP_ACT_ALLOW" and "args" not in rules["clone"]
assert "mount" in rules and "unshare" in rules and "chroot" not in rules'
	"${B[@]}" rm sc2 sc3
}

# runs tests/cli/syscall-probe (static) with create options "$@" and the
# probes in $PROBES; its output
probe() {
	local id rootfs
	id=$("${B[@]}" create "$@" busybox /probe $PROBES)
	rootfs=$(spec "$id" | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["root"]["path"])')
	cp "$top_builddir/tests/cli/syscall-probe" "$rootfs/probe"
	"${B[@]}" start "$id" >/dev/null
	"${B[@]}" wait "$id" >/dev/null
	"${B[@]}" logs "$id"
	"${B[@]}" rm "$id" >/dev/null
}

@test "seccomp: clone3 is ENOSYS (libc falls back to clone), add_key and odd personalities EPERM" {
	[ -x "$top_builddir/tests/cli/syscall-probe" ] || skip "make check builds tests/cli/syscall-probe"
	PROBES="clone3 add_key personality"
	run probe
	[ "$output" = "$(printf 'clone3 ENOSYS\nadd_key EPERM\npersonality EPERM')" ]
	run probe --cap-add SYS_ADMIN
	[ "$output" = "$(printf 'clone3 ok\nadd_key EPERM\npersonality EPERM')" ]
	run probe --security-opt seccomp=unconfined
	[ "$output" = "$(printf 'clone3 ok\nadd_key ok\npersonality ok')" ]
	[ -z "$("${B[@]}" ps -a -q)" ]
}

@test "seccomp: compiled filters are cached in the run root; an entry for another profile is never used" {
	rm -f "$STORE"/run/runtime/.seccomp/*.bpf
	"${B[@]}" run --rm busybox true
	entry=$(ls "$STORE"/run/runtime/.seccomp/*.bpf)
	[ "$(echo "$entry" | wc -l)" -eq 1 ]
	grep -aq '"defaultAction"' "$entry"
	# the same name with another profile's text and an allow-all filter (a
	# collision of the names' hashes): not used, compiled again, replaced
	{ head -n1 "$entry"; printf '0 2 8\n{}\006\000\000\000\000\000\377\177'; } >"$entry.new"
	mv "$entry.new" "$entry"
	run --separate-stderr "${B[@]}" run --rm busybox busybox unshare -r true
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"Operation not permitted"* ]]
	grep -aq '"defaultAction"' "$entry"
	# a damaged entry too
	truncate -s 100 "$entry"
	run --separate-stderr "${B[@]}" run --rm busybox busybox unshare -r true
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"Operation not permitted"* ]]
	[ "$(stat -c %s "$entry")" -gt 1000 ]
}

@test "seccomp=PROFILE: Docker's format or an OCI object; bad ones are named" {
	cat >"$STORE/nomkdir.json" <<-'EOF'
	{"defaultAction": "SCMP_ACT_ALLOW",
	 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
	               "excludes": {"caps": ["CAP_SYS_ADMIN"]}}]}
	EOF
	run --separate-stderr "${B[@]}" run --rm --security-opt seccomp="$STORE/nomkdir.json" busybox busybox mkdir /x
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"Operation not permitted"* ]]
	# a profile given applies to a privileged container too (Docker since 20.10)
	run "${B[@]}" run --rm --privileged --security-opt seccomp="$STORE/nomkdir.json" busybox busybox sh -c \
		'busybox grep "^Seccomp:" /proc/self/status; busybox mkdir /x && echo made'
	[[ "$output" == *2*made ]]
	# excludes.caps: the rule goes with CAP_SYS_ADMIN
	run "${B[@]}" run --rm --cap-add SYS_ADMIN --security-opt seccomp="$STORE/nomkdir.json" busybox busybox mkdir /x
	[ "$status" -eq 0 ]
	cat >"$STORE/oci.json" <<-'EOF'
	{"defaultAction": "SCMP_ACT_ALLOW", "architectures": [],
	 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28}]}
	EOF
	run --separate-stderr "${B[@]}" run --rm --security-opt seccomp:"$STORE/oci.json" busybox busybox mkdir /x
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"No space left on device"* ]]
	run -125 --separate-stderr "${B[@]}" run --rm --security-opt seccomp="$STORE/missing.json" busybox true
	[[ "$stderr" == *"seccomp profile"*"$STORE/missing.json"* ]]
	echo '{"defaultAction": ' >"$STORE/bad.json"
	run -125 --separate-stderr "${B[@]}" run --rm --security-opt seccomp="$STORE/bad.json" busybox true
	[[ "$stderr" == *"$STORE/bad.json"*"malformed JSON"* ]]
	echo '{"syscalls": []}' >"$STORE/nodefault.json"
	run -125 --separate-stderr "${B[@]}" run --rm --security-opt seccomp="$STORE/nodefault.json" busybox true
	[[ "$stderr" == *"$STORE/nodefault.json"*"defaultAction"* ]]
	# the default profile is found through BERTH_DATADIR, and replaceable
	mkdir -p "$STORE/data/seccomp"
	cp "$STORE/nomkdir.json" "$STORE/data/seccomp/default.json"
	BERTH_DATADIR="$STORE/data" run --separate-stderr "${B[@]}" run --rm busybox busybox mkdir /x
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"Operation not permitted"* ]]
	BERTH_DATADIR="$STORE/nowhere" run -125 --separate-stderr "${B[@]}" run --rm busybox true
	[[ "$stderr" == *"$STORE/nowhere/seccomp/default.json"* ]]
	run -125 --separate-stderr "${B[@]}" run --rm --security-opt seccomp busybox true
	[[ "$stderr" == *"--security-opt"* ]]
	[ -z "$("${B[@]}" ps -a -q)" ]
}

@test "--init: berth-init is pid 1, the command its child; it forwards SIGTERM and reaps orphans" {
	run "${B[@]}" run --rm --init busybox busybox ps -o pid,ppid,args
	[ "$status" -eq 0 ]
	[[ "$output" == *"    1     0 /sbin/berth-init -- busybox ps"* ]]
	[[ "$output" == *"     1 busybox ps -o pid,ppid,args"* ]]
	cid=$("${B[@]}" create --init busybox true)
	run "${B[@]}" container inspect -f '{{.HostConfig.Init}}' "$cid"
	[ "$output" = true ]
	# pid 1 without a handler ignores SIGTERM: stop must kill it...
	"${B[@]}" run -d --name noinit busybox busybox sleep 100
	"${B[@]}" stop -t 1 noinit
	run "${B[@]}" container inspect -f '{{.State.ExitCode}}' noinit
	[ "$output" = 137 ]
	# ...but through berth-init SIGTERM reaches the command, which dies of it
	"${B[@]}" run -d --init --name init1 busybox busybox sleep 100
	"${B[@]}" stop -t 20 init1
	run "${B[@]}" container inspect -f '{{.State.ExitCode}}' init1
	[ "$output" = 143 ]
	# an orphan ends as berth-init's child and is reaped: no zombie left
	run "${B[@]}" run --rm --init busybox busybox sh -c \
		'(busybox sleep 0.2 &); busybox sleep 1; busybox ps -o pid,ppid,stat,args'
	[ "$status" -eq 0 ]
	[[ "$output" != *" Z "* ]]
	# the exit status passes through, 127 for a missing command
	run "${B[@]}" run --rm --init busybox sh -c 'exit 5'
	[ "$status" -eq 5 ]
	run -127 --separate-stderr "${B[@]}" run --rm --init busybox no-such-command
	[[ "$stderr" == *"no-such-command"* ]]
	BERTH_INIT="$STORE/no-init" run -125 --separate-stderr "${B[@]}" create --init busybox true
	[[ "$stderr" == *"$STORE/no-init"*"BERTH_INIT"* ]]
	"${B[@]}" rm -f noinit init1 "$cid"
	[ -z "$("${B[@]}" ps -a -q)" ]
}

@test "--ulimit lowers limits; bad names and values are refused" {
	run "${B[@]}" run --rm --ulimit nofile=100:200 --ulimit nproc=50 busybox sh -c 'ulimit -n; ulimit -Hn; ulimit -u'
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '100\n200\n50')" ]
	"${B[@]}" create --name ul --ulimit nofile=100:200 busybox true
	run "${B[@]}" container inspect -f '{{json .HostConfig.Ulimits}}' ul
	[ "$output" = '[{"Hard":200,"Name":"nofile","Soft":100}]' ]
	"${B[@]}" rm ul
	run -125 --separate-stderr "${B[@]}" create --ulimit nofiles=1 busybox true
	[[ "$stderr" == *"invalid ulimit type: nofiles"* ]]
	run -125 --separate-stderr "${B[@]}" create --ulimit nofile=abc busybox true
	[[ "$stderr" == *"nofile=abc"* ]]
	run -125 --separate-stderr "${B[@]}" create --ulimit nofile=20:10 busybox true
	[[ "$stderr" == *"soft limit must be less than or equal to hard limit"* ]]
	run -125 --separate-stderr "${B[@]}" create --ulimit nofile busybox true
	[[ "$stderr" == *"invalid ulimit argument"* ]]
	# above our own hard limit: refused at start, saying why (no CAP_SYS_RESOURCE here)
	if ! capsh --has-p=cap_sys_resource 2>/dev/null; then
		run --separate-stderr "${B[@]}" run --rm --ulimit nofile=100:$(($(ulimit -Hn) + 1)) busybox true
		[ "$status" -ne 0 ]
		[[ "$stderr" == *"RLIMIT_NOFILE hard limit"*"CAP_SYS_RESOURCE"* ]]
	fi
	[ -z "$("${B[@]}" ps -a -q)" ]
}

@test "--device adds a node with its cgroup access; --shm-size sizes /dev/shm" {
	run "${B[@]}" run --rm busybox busybox ls /dev/lc
	[ "$status" -ne 0 ]
	run "${B[@]}" run --rm --device /dev/loop-control:/dev/lc:r busybox busybox sh -c \
		'busybox stat -c "%t,%T" /dev/lc; (exec 3</dev/lc) && echo read; (exec 4>/dev/lc) || echo no write'
	[[ "$output" == *"a,ed"* ]]
	[[ "$output" == *read* ]]
	[[ "$output" == *"no write"* ]]
	run "${B[@]}" run --rm --device /dev/loop-control busybox busybox sh -c '(exec 4>/dev/loop-control) && echo write'
	[ "$output" = write ]
	"${B[@]}" create --name dev1 --device /dev/loop-control:/dev/lc:rw --shm-size 128m busybox true
	run "${B[@]}" container inspect -f '{{json .HostConfig.Devices}} {{.HostConfig.ShmSize}}' dev1
	[ "$output" = '[{"CgroupPermissions":"rw","PathInContainer":"/dev/lc","PathOnHost":"/dev/loop-control"}] 134217728' ]
	"${B[@]}" rm dev1
	run -125 --separate-stderr "${B[@]}" create --device /dev/no-such-device busybox true
	[[ "$stderr" == *"/dev/no-such-device"* ]]
	run -125 --separate-stderr "${B[@]}" create --device /dev/null:/dev/n:rwx busybox true
	[[ "$stderr" == *"invalid device specification: /dev/null:/dev/n:rwx"* ]]
	run -125 --separate-stderr "${B[@]}" create --device /etc/passwd busybox true
	[[ "$stderr" == *"/etc/passwd is not a device"* ]]
	run "${B[@]}" run --rm --shm-size 128m busybox busybox grep ' /dev/shm ' /proc/mounts
	[[ "$output" == *"size=131072k"* ]]
	run "${B[@]}" run --rm busybox busybox grep ' /dev/shm ' /proc/mounts
	[[ "$output" == *"size=65536k"* ]]
	run -125 --separate-stderr "${B[@]}" create --shm-size lots busybox true
	[[ "$stderr" == *"--shm-size"* ]]
	[ -z "$("${B[@]}" ps -a -q)" ]
}

@test "--network container:NAME joins its network and uts namespaces" {
	"${B[@]}" run -d --name net1 --hostname netone busybox busybox sleep 100
	pid=$("${B[@]}" container inspect -f '{{.State.Pid}}' net1)
	run "${B[@]}" run --rm --network container:net1 busybox sh -c 'busybox readlink /proc/self/ns/net; busybox hostname'
	[ "$status" -eq 0 ]
	[ "$output" = "$(readlink /proc/"$pid"/ns/net)
netone" ]
	run "${B[@]}" run --rm busybox busybox readlink /proc/self/ns/net
	[ "$output" != "$(readlink /proc/"$pid"/ns/net)" ]
	id=$("${B[@]}" create --network container:net1 busybox true)
	run "${B[@]}" container inspect -f '{{.HostConfig.NetworkMode}}' "$id"
	[ "$output" = "container:$("${B[@]}" container inspect -f '{{.Id}}' net1)" ]
	# the namespaces are those net1 has when this one starts
	"${B[@]}" create --name join1 --network container:net1 busybox busybox readlink /proc/self/ns/net
	"${B[@]}" stop -t 0 net1
	run -1 --separate-stderr "${B[@]}" start join1
	[[ "$stderr" == *"non running container"* ]]
	"${B[@]}" start net1
	pid=$("${B[@]}" container inspect -f '{{.State.Pid}}' net1)
	"${B[@]}" start join1
	"${B[@]}" wait join1
	run "${B[@]}" logs join1
	[ "$output" = "$(readlink /proc/"$pid"/ns/net)" ]
	"${B[@]}" rm "$id" join1
	"${B[@]}" stop -t 0 net1
	run -125 --separate-stderr "${B[@]}" create --network container:net1 busybox true
	[[ "$stderr" == *"non running container: net1"* ]]
	run -125 --separate-stderr "${B[@]}" create --network container:net1 --hostname h busybox true
	[[ "$stderr" == *"conflicting options: hostname and the network mode"* ]]
	run -125 --separate-stderr "${B[@]}" create --network container:no-such busybox true
	[[ "$stderr" == *"no-such"* ]]
	"${B[@]}" rm net1
	[ -z "$("${B[@]}" ps -a -q)" ]
}
