#!/bin/sh
# The OCI runtime command line (berth-runtime by default, any runc-compatible
# one through RUNTIME=/path), driven directly on busybox-static bundles:
# spec, run, the create/start/state/kill/delete lifecycle, exec, pause and
# resume, ps, list, features; namespaces, mounts, devices, masked and
# read-only paths, users, capabilities, rlimits, sysctl, seccomp, hooks, a
# terminal over --console-socket, descriptors that must not leak; and the
# failure paths: a bad config is refused with a clear error and leaves no
# state, cgroup, mount or process behind; start twice and delete of a
# running container fail.
#
# Each check runs on its own and the test goes on after a failure, so one run
# lists everything that does not work.  State is in the test's temp dir
# (--root), every container's cgroup is under /berth-test-cli-XXXXXX and is
# removed with whatever runs in it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/bundle.sh"

bt_need_root
bt_need_tools awk
bt_tmp_setup cli
bt_runtime_setup
# one runtime call takes milliseconds; a hang fails that call, not make check
BT_CMD_TIMEOUT=10
bt_watchdog 150
T=$BT_TMP
# searchable by the root of a user namespace (mktemp makes it 0700)
chmod 755 "$T"
cg=$(basename "$T")
PY=/usr/bin/python3
passed=0
failed=
echo "runtime: $RUNTIME (exec: $RUNTIME_EXEC)"

# rt ARG...: the runtime with our state root, killed after 10 s
rt() { bt_timeout "$RUNTIME_EXEC" --root "$T/state" "$@"; }
bad() { echo "FAIL: $*"; return 1; }
# check NAME: run t_NAME, count it
check() {
	if "t_$1"; then
		passed=$((passed + 1))
	else
		failed="$failed $1"
	fi
}
# json FILE EXPR: EXPR evaluated with the document as `j` (FILE - is stdin)
json() {
	$PY -c '
import json, sys
j = json.load(sys.stdin if sys.argv[1] == "-" else open(sys.argv[1]))
r = eval(sys.argv[2])
print(json.dumps(r) if isinstance(r, (dict, list, bool)) or r is None else r)
' "$@"
}
# alive PID: PID exists and is not a zombie (our init may reap late)
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
status_of() { rt state "$1" 2>/dev/null | json - 'j["status"]'; }
pid_of() { rt state "$1" 2>/dev/null | json - 'j["pid"]'; }

# Cleanup, run last first: every container we made, then our cgroups with
# whatever still runs in them; then mounts and the temp dir.
ids=
bt_cleanup_add "bt_cgroup_remove '$cg'"
bt_cleanup_add "bt_delete_all rt"
newid() { id="cli-$1-$$"; ids="$ids $id"; }

# The base bundle is made with the runtime's own `spec`; the others share
# its rootfs and start from its config.
t_spec() {
	bt_bundle_make "$T/base" "$RUNTIME_EXEC" /bin/true || return 1
	json "$T/base/config.json" 'j["ociVersion"] and j["root"]["path"] and j["process"]["args"] and [n["type"] for n in j["linux"]["namespaces"]]' \
		> "$T/spec-ns" || bad "'spec' wrote a config.json without ociVersion, root, process or namespaces" || return 1
	echo "ok: spec writes a config.json (namespaces: $(cat "$T/spec-ns"))"
}
check spec
[ -s "$T/base/config.json" ] || { echo "FAIL: no base bundle; nothing else can run"; exit 1; }
mkdir -p "$T/host-data"
echo "from the host" > "$T/host-data/file"

# mkb NAME PYEDIT ARG...: bundle $T/NAME running ARG..., root = the base
# rootfs, cgroup /$cg/NAME, then PYEDIT (python on the config `c`)
mkb() {
	_n=$1 _e=$2
	shift 2
	mkdir -p "$T/$_n"
	cp "$T/base/config.json" "$T/$_n/config.json"
	bt_config_edit "$T/$_n/config.json" "
c['process']['args'] = args
c['root']['path'] = '$T/base/rootfs'
c['linux']['cgroupsPath'] = '/$cg/$_n'
$_e" "$@"
}
B=$T/base/rootfs
# nothing_left ID: no state, no cgroup, no mounts under the rootfs
nothing_left() {
	! rt state "$1" > /dev/null 2>&1 || { bad "state of $1 is still there"; return 1; }
	! rt list 2>/dev/null | awk 'NR > 1 { print $1 }' | grep -qx "$1" || { bad "$1 is still listed"; return 1; }
	[ -z "$(bt_mounts_under "$B")" ] || { bad "mounts left under the rootfs: $(bt_mounts_under "$B")"; return 1; }
	for m in $(bt_cgroup_mounts); do
		[ ! -d "$m/$cg/$2" ] || { bad "cgroup $m/$cg/$2 left"; return 1; }
	done
}

t_version() {
	rt --version > "$T/out" 2>&1 && [ -s "$T/out" ] || bad "--version: $(cat "$T/out")" || return 1
	echo "ok: --version: $(head -1 "$T/out")"
}
check version

t_features() {
	rt features > "$T/out" 2>"$T/err" || bad "features: $(cat "$T/err")" || return 1
	v=$(json "$T/out" 'j["ociVersionMax"]') || bad "features is not JSON with ociVersionMax: $(cat "$T/out")" || return 1
	echo "ok: features (ociVersionMax $v)"
}
check features

t_run() {
	newid run
	mkb run '' /bin/sh -c 'echo out; echo err >&2; exit 3'
	rc=0
	rt run -b "$T/run" "$id" > "$T/out" 2> "$T/err" < /dev/null || rc=$?
	case $rc in 124 | 137) hung=1 ;; esac
	[ "$rc" -eq 3 ] || bad "run exited $rc, not 3: $(cat "$T/err")" || return 1
	[ "$(cat "$T/out")" = out ] && grep -qx err "$T/err" || bad "run stdout '$(cat "$T/out")' stderr '$(cat "$T/err")'" || return 1
	nothing_left "$id" run || return 1
	echo "ok: run: stdout, stderr, exit status 3; nothing left after"
}
hung=
check run
# every other check runs containers; when run hangs they would all wait
[ -z "$hung" ] || { echo "FAIL: run did not finish in ${BT_CMD_TIMEOUT}s; stopping here"; exit 1; }

t_lifecycle() {
	newid lc
	mkb lc '' /bin/sh -c 'echo started > /tmp/lc-started-$0; trap "exit 0" TERM; sleep 60 & wait' "$$"
	rm -f "$B/tmp/lc-started-$$"
	rt create -b "$T/lc" --pid-file "$T/lc.pid" "$id" > "$T/out" 2>&1 < /dev/null || bad "create: $(cat "$T/out")" || return 1
	# proc_state PID: what the kernel says of the process, for messages
	proc_state() { awk '{ print "state " $3 ", exit code " $NF }' "/proc/$1/stat" 2>/dev/null || echo gone; }
	[ "$(status_of "$id")" = created ] ||
		bad "after create the status is '$(status_of "$id")' (pid-file $(cat "$T/lc.pid"): $(proc_state "$(cat "$T/lc.pid")"))" || return 1
	pid=$(pid_of "$id")
	[ "$pid" = "$(cat "$T/lc.pid")" ] || bad "--pid-file has '$(cat "$T/lc.pid")', state says $pid" || return 1
	kill -0 "$pid" || bad "the created container's pid $pid does not exist" || return 1
	sleep 0.2
	[ ! -e "$B/tmp/lc-started-$$" ] || bad "the user process ran before start" || return 1
	rt state "$id" | json - '[j[k] for k in ("ociVersion", "id", "status", "pid", "bundle")]' > /dev/null ||
		bad "state lacks a field the spec requires: $(rt state "$id")" || return 1
	rt start "$id" > "$T/out" 2>&1 || bad "start: $(cat "$T/out")" || return 1
	bt_wait_for 5 test -e "$B/tmp/lc-started-$$" || bad "the user process did not run after start" || return 1
	[ "$(status_of "$id")" = running ] || bad "after start the status is '$(status_of "$id")'" || return 1
	! rt start "$id" > "$T/out" 2>&1 || bad "a second start succeeded" || return 1
	echo "ok: start twice fails: $(head -1 "$T/out")"
	! rt delete "$id" > "$T/out" 2>&1 || bad "delete of a running container succeeded" || return 1
	[ "$(status_of "$id")" = running ] || bad "the refused delete changed the status to '$(status_of "$id")'" || return 1
	echo "ok: delete of a running container fails: $(head -1 "$T/out")"
	rt kill "$id" TERM > "$T/out" 2>&1 || bad "kill TERM: $(cat "$T/out")" || return 1
	stopped() { [ "$(status_of "$id")" = stopped ]; }
	bt_wait_for 5 stopped || bad "after kill TERM the status is '$(status_of "$id")'" || return 1
	rt delete "$id" > "$T/out" 2>&1 || bad "delete: $(cat "$T/out")" || return 1
	! alive "$pid" || bad "pid $pid lives on after delete" || return 1
	nothing_left "$id" lc || return 1
	rm -f "$B/tmp/lc-started-$$"
	echo "ok: create (not yet run) -> start (running) -> kill TERM (stopped) -> delete; state and --pid-file agree"
}
check lifecycle

# a running container for exec, pause, ps and list
t_exec() {
	newid ex
	mkb ex '' /bin/sh -c 'trap "exit 0" TERM; sleep 60 & wait'
	rt run -d -b "$T/ex" "$id" > "$T/out" 2>&1 < /dev/null || bad "run -d: $(cat "$T/out")" || return 1
	[ "$(status_of "$id")" = running ] || bad "after run -d the status is '$(status_of "$id")'" || return 1
	out=$(rt exec "$id" /bin/sh -c 'echo $(cat /proc/1/comm) $(hostname)' 2>&1) || bad "exec: $out" || return 1
	[ "$out" = "sh berth-test" ] || bad "exec is not in the container's namespaces: $out" || return 1
	out=$(rt exec --env BERTH_X=1 --cwd /tmp --user 1000:1000 "$id" /bin/sh -c 'echo $BERTH_X $(pwd) $(id -u):$(id -g)' 2>&1) ||
		bad "exec --env --cwd --user: $out" || return 1
	[ "$out" = "1 /tmp 1000:1000" ] || bad "exec --env --cwd --user gave: $out" || return 1
	rc=0
	rt exec "$id" /bin/sh -c 'exit 4' > /dev/null 2>&1 || rc=$?
	[ "$rc" -eq 4 ] || bad "exec lost the exit status: $rc" || return 1
	cat > "$T/process.json" <<EOF
{"terminal": false, "user": {"uid": 0, "gid": 0}, "cwd": "/", "env": ["PATH=/bin", "FROM=process-json"],
 "args": ["/bin/sh", "-c", "echo \$FROM"]}
EOF
	out=$(rt exec --process "$T/process.json" "$id" 2>&1) || bad "exec --process: $out" || return 1
	[ "$out" = process-json ] || bad "exec --process gave: $out" || return 1
	rt exec -d --pid-file "$T/exec.pid" "$id" /bin/sleep 30 > "$T/out" 2>&1 || bad "exec --detach: $(cat "$T/out")" || return 1
	epid=$(cat "$T/exec.pid")
	# the pid may show the runtime's own name until the exec
	is_sleep() { [ "$(cat "/proc/$epid/comm" 2>/dev/null)" = sleep ]; }
	bt_wait_for 5 is_sleep || bad "exec --detach --pid-file: pid '$epid' is not the sleep" || return 1
	echo "ok: exec: namespaces, --env/--cwd/--user, exit status, --process, --detach --pid-file"
}
check exec

t_ps_list() {
	id=cli-ex-$$
	ps=$(rt ps --format json "$id" 2>&1) || bad "ps --format json: $ps" || return 1
	echo "$ps" | json - "$(pid_of "$id") in j" | grep -qx true || bad "ps does not list the init pid $(pid_of "$id"): $ps" || return 1
	rt list > "$T/out" 2>&1 || bad "list: $(cat "$T/out")" || return 1
	awk 'NR > 1 { print $1 }' "$T/out" | grep -qx "$id" || bad "list does not show $id: $(cat "$T/out")" || return 1
	echo "ok: ps --format json has the init pid; list shows the container"
}
check ps_list

t_pause() {
	id=cli-ex-$$
	rt pause "$id" > "$T/out" 2>&1 || bad "pause: $(cat "$T/out")" || return 1
	[ "$(status_of "$id")" = paused ] || bad "after pause the status is '$(status_of "$id")'" || return 1
	pid=$(pid_of "$id")
	rt resume "$id" > "$T/out" 2>&1 || bad "resume: $(cat "$T/out")" || return 1
	[ "$(status_of "$id")" = running ] || bad "after resume the status is '$(status_of "$id")'" || return 1
	out=$(rt exec "$id" /bin/echo alive 2>&1) && [ "$out" = alive ] || bad "exec after resume: $out" || return 1
	echo "ok: pause (paused) and resume (running, exec works)"
}
check pause

t_update_stats() {
	id=cli-ex-$$
	echo '{"pids":{"limit":50},"memory":{"limit":67108864}}' | rt update --resources - "$id" > "$T/out" 2>&1 ||
		bad "update: $(cat "$T/out")" || return 1
	for m in $(bt_cgroup_mounts); do
		[ -f "$m/$cg/ex/pids.max" ] && { [ "$(cat "$m/$cg/ex/pids.max")" = 50 ] || bad "pids.max is $(cat "$m/$cg/ex/pids.max")" || return 1; }
		[ -f "$m/$cg/ex/memory.limit_in_bytes" ] && { [ "$(cat "$m/$cg/ex/memory.limit_in_bytes")" = 67108864 ] ||
			bad "memory.limit_in_bytes is $(cat "$m/$cg/ex/memory.limit_in_bytes")" || return 1; }
	done
	# a malformed update is refused, naming what is wrong, and changes nothing
	if echo '{"pids":{"limit":"many"}}' | rt update --resources - "$id" > "$T/out" 2>&1; then
		bad "update with a string pids.limit succeeded"
		return 1
	fi
	grep -q 'pids.limit' "$T/out" || bad "update error does not name pids.limit: $(cat "$T/out")" || return 1
	# (the stats below show the limit is still 50)
	rt events --stats "$id" > "$T/stats" 2>&1 || bad "events --stats: $(cat "$T/stats")" || return 1
	json "$T/stats" 'j["type"] == "stats" and j["data"]["pids"]["limit"] == 50 and j["data"]["pids"]["current"] >= 1 and j["data"]["memory"]["usage"]["limit"] == 67108864 and j["data"]["memory"]["usage"]["usage"] > 0 and j["data"]["cpu"]["usage"]["total"] > 0' |
		grep -qx true || bad "events --stats: $(cat "$T/stats")" || return 1
	echo "ok: update writes pids.max and the memory limit (a bad one is refused); events --stats reports them"
}
check update_stats

t_kill_all() {
	id=cli-ex-$$
	rt kill --all "$id" KILL > "$T/out" 2>&1 || bad "kill --all KILL: $(cat "$T/out")" || return 1
	stopped() { [ "$(status_of "$id")" = stopped ]; }
	bt_wait_for 5 stopped || bad "after kill --all the status is '$(status_of "$id")'" || return 1
	! alive "$epid" || bad "the exec'd process $epid outlived kill --all" || return 1
	rt delete "$id" > "$T/out" 2>&1 || bad "delete: $(cat "$T/out")" || return 1
	nothing_left "$id" ex || return 1
	echo "ok: kill --all KILL: every process gone; delete leaves nothing"
}
check kill_all

# One place per context: without linux.cgroupsPath a container's cgroup
# names its state root, so the same id in two roots gets two cgroups, and
# kill --all in one leaves the other running. (runc puts both in /<id>.)
same_cleanup() {
	for m in $(bt_cgroup_mounts); do
		for d in "$m/berth/$1"-*; do
			[ -d "$d" ] && bt_cgroup_remove "berth/${d##*/}"
		done
		# /berth itself only when this test made it and it is empty
		[ -e "$T/.berth-cg-was-there" ] || rmdir "$m/berth" 2>/dev/null
	done
	return 0
}
t_state_roots() {
	[ "$RUNTIME_NAME" = berth-runtime ] || { echo "ok: (skipped) default cgroups per state root are berth-runtime's"; return 0; }
	sid=cli-same-$$
	for m in $(bt_cgroup_mounts); do [ -d "$m/berth" ] && : > "$T/.berth-cg-was-there"; done
	bt_cleanup_add "same_cleanup $sid"
	for r in A B; do
		bt_cleanup_add "bt_timeout '$RUNTIME_EXEC' --root '$T/root$r' delete -f $sid"
	done
	mkb same 'del c["linux"]["cgroupsPath"]' /bin/sh -c 'trap "exit 0" TERM; sleep 60 & wait'
	for r in A B; do
		bt_timeout "$RUNTIME_EXEC" --root "$T/root$r" run -d -b "$T/same" "$sid" > "$T/out" 2>&1 < /dev/null ||
			bad "run -d $sid in root $r: $(cat "$T/out")" || return 1
		json "$T/root$r/$sid/state.json" 'j["berth"]["cgroupsPath"]' > "$T/cg$r"
	done
	[ "$(cat "$T/cgA")" != "$(cat "$T/cgB")" ] || bad "both roots put $sid in cgroup $(cat "$T/cgA")" || return 1
	bt_timeout "$RUNTIME_EXEC" --root "$T/rootA" kill --all "$sid" KILL > "$T/out" 2>&1 || bad "kill --all: $(cat "$T/out")" || return 1
	stateB() { bt_timeout "$RUNTIME_EXEC" --root "$T/rootB" state "$sid" 2>/dev/null | json - "j['$1']"; }
	stoppedA() { [ "$(bt_timeout "$RUNTIME_EXEC" --root "$T/rootA" state "$sid" 2>/dev/null | json - 'j["status"]')" = stopped ]; }
	bt_wait_for 5 stoppedA || bad "kill --all in root A did not stop $sid there" || return 1
	sleep 0.2
	[ "$(stateB status)" = running ] && alive "$(stateB pid)" ||
		bad "kill --all in root A stopped $sid of root B too ($(stateB status))" || return 1
	for r in A B; do
		bt_timeout "$RUNTIME_EXEC" --root "$T/root$r" delete -f "$sid" > "$T/out" 2>&1 || bad "delete -f in root $r: $(cat "$T/out")" || return 1
	done
	for m in $(bt_cgroup_mounts); do
		for d in "$m/berth/$sid"-*; do
			[ ! -d "$d" ] || bad "cgroup $d left after delete" || return 1
		done
	done
	# the last container out takes berth's parent with it; one still there
	# holds another test's containers (or one being made: looked at twice)
	parent_empty() { [ -d "$1" ] && [ -z "$(find "$1" -mindepth 1 -maxdepth 1 -type d)" ]; }
	for m in $(bt_cgroup_mounts); do
		if parent_empty "$m/berth"; then
			sleep 0.5
			! parent_empty "$m/berth" || bad "empty $m/berth left after the last delete" || return 1
		fi
	done
	echo "ok: same id in two state roots: cgroups $(cat "$T/cgA") and $(cat "$T/cgB"); kill --all in one leaves the other"
}
check state_roots

# One run reports what the default config gives the process.
t_isolation() {
	newid iso
	mkb iso 'c["linux"]["maskedPaths"] = c["linux"].get("maskedPaths", []) + ["/etc/hostname"]' /bin/sh -c '
echo pid=$$ host=$(hostname) uid=$(id -u)
grep -E "^(NoNewPrivs|CapEff|CapBnd):" /proc/self/status | tr -d "\t"
echo nofile=$(ulimit -n)
echo masked=$(wc -c < /etc/hostname 2>/dev/null || echo none) timer_list=$(wc -c < /proc/timer_list 2>/dev/null || echo none)
echo sysrw=$(echo x 2>/dev/null > /proc/sys/kernel/domainname && echo yes || echo no)
echo net=$(ls /sys/class/net | tr "\n" ,)
echo null=$(stat -c %t,%T /dev/null) zero=$(head -c 3 /dev/zero | wc -c)
echo fd=$(readlink /dev/fd) pts=$(test -d /dev/pts && echo yes) ptmx=$(test -e /dev/ptmx && echo yes)
echo exe=$(readlink /proc/1/exe)
echo hostfile=$(test -e '"$T"'/host-data/file && echo visible || echo hidden)
'
	rt run -b "$T/iso" "$id" > "$T/out" 2> "$T/err" < /dev/null || bad "run: $(cat "$T/err")" || return 1
	o=$(cat "$T/out")
	for want in 'pid=1 host=berth-test uid=0' 'NoNewPrivs:1' 'CapEff:0000000020000420' 'CapBnd:0000000020000420' \
		'nofile=1024' 'masked=0 timer_list=0' 'sysrw=no' 'net=lo,' 'null=1,3 zero=3' 'fd=/proc/self/fd pts=yes ptmx=yes' \
		'exe=/bin/busybox' 'hostfile=hidden'; do
		echo "$o" | grep -qF -- "$want" || bad "the container lacks '$want'; it reported:
$o" || return 1
	done
	nothing_left "$id" iso || return 1
	echo "ok: pid/uts/net/mount namespaces, caps, noNewPrivileges, rlimit, masked paths, ro /proc/sys, devices, /dev/fd"
}
check isolation

t_process_config() {
	newid proc
	mkb proc '
p = c["process"]
p["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5], "umask": 18}
p["cwd"] = "/home/user"
p["env"] = ["PATH=/bin", "BERTH_ENV=yes"]
p["oomScoreAdj"] = 100
p["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 512}]
c["domainname"] = "berth.example"
c["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
' /bin/sh -c 'echo $(id -u):$(id -g):$(id -G | tr " " ,) $(umask) $(pwd) $BERTH_ENV oom=$(cat /proc/self/oom_score_adj) nofile=$(ulimit -n) dom=$(cat /proc/sys/kernel/domainname) fwd=$(cat /proc/sys/net/ipv4/ip_forward)'
	rt run -b "$T/proc" "$id" > "$T/out" 2> "$T/err" < /dev/null || bad "run: $(cat "$T/err")" || return 1
	want="1000:1000:1000,5 0022 /home/user yes oom=100 nofile=512 dom=berth.example fwd=1"
	# domainname came with runtime-spec 1.1; a runtime of 1.0 (runc 1.1) leaves it
	case $(rt features 2>/dev/null | json - 'j["ociVersionMax"]' 2>/dev/null) in
	1.0.*) want=$(echo "$want" | sed 's/dom=berth.example/dom=(none)/') ;;
	esac
	[ "$(cat "$T/out")" = "$want" ] || bad "process config: got '$(cat "$T/out")', want '$want'" || return 1
	echo "ok: user uid/gid/additionalGids/umask, cwd, env, oomScoreAdj, rlimits, domainname, sysctl"
}
check process_config

t_mounts() {
	newid mnt
	mkb mnt "
c['root']['readonly'] = True
c['mounts'] += [
  {'destination': '/mnt/t', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['size=1m', 'nosuid', 'nodev', 'noexec']},
  {'destination': '/mnt/ro', 'type': 'bind', 'source': '$T/host-data', 'options': ['rbind', 'ro']},
  {'destination': '/mnt/rw', 'type': 'none', 'source': '$T/host-data', 'options': ['bind', 'rw']},
]
" /bin/sh -c '
touch /rootfile 2>/dev/null && echo root=rw || echo root=ro
grep " /mnt/t " /proc/mounts | grep -q "size=1024k" && echo tmpfs=1m
grep " /mnt/t " /proc/mounts | grep -q noexec && echo tmpfs=noexec
cat /mnt/ro/file
touch /mnt/ro/x 2>/dev/null && echo bind=rw || echo bind=ro
echo written > /mnt/rw/from-container && echo rwbind=ok'
	rt run -b "$T/mnt" "$id" > "$T/out" 2> "$T/err" < /dev/null || bad "run: $(cat "$T/err")" || return 1
	want="root=ro
tmpfs=1m
tmpfs=noexec
from the host
bind=ro
rwbind=ok"
	[ "$(cat "$T/out")" = "$want" ] || bad "mounts: got '$(cat "$T/out")', want '$want'" || return 1
	[ "$(cat "$T/host-data/from-container" 2>/dev/null)" = written ] || bad "the rw bind did not reach the host" || return 1
	nothing_left "$id" mnt || return 1
	echo "ok: readonly root, tmpfs size/noexec, ro rbind, rw bind"
}
check mounts

t_userns() {
	newid user
	# the root of the user namespace must own its rootfs to mount on it
	rm -rf "$T/user-rootfs"
	cp -a "$B" "$T/user-rootfs" && chown -R -h 100000:100000 "$T/user-rootfs" || bad "cannot make the userns rootfs" || return 1
	mkb user '
c["root"]["path"] = args.pop(0)
c["process"]["args"] = args
c["linux"]["namespaces"].append({"type": "user"})
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/sys"] + [
  {"destination": "/sys", "type": "none", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]}]
' "$T/user-rootfs" /bin/sh -c 'echo uid=$(id -u) map=$(cat /proc/self/uid_map | tr -s " " | sed "s/^ //")'
	rt run -b "$T/user" "$id" > "$T/out" 2> "$T/err" < /dev/null || bad "run: $(cat "$T/err")" || return 1
	[ "$(cat "$T/out")" = "uid=0 map=0 100000 65536" ] || bad "user namespace: $(cat "$T/out")" || return 1
	nothing_left "$id" user || return 1
	echo "ok: user namespace with uidMappings/gidMappings"
}
check userns

t_join_ns() {
	newid nsa
	ida=$id
	mkb nsa '' /bin/sh -c 'trap "exit 0" TERM; sleep 60 & wait'
	rt run -d -b "$T/nsa" "$ida" > "$T/out" 2>&1 < /dev/null || bad "run -d: $(cat "$T/out")" || return 1
	pa=$(pid_of "$ida")
	newid nsb
	mkb nsb "
for n in c['linux']['namespaces']:
    if n['type'] in ('network', 'uts'):
        n['path'] = '/proc/$pa/ns/' + ('net' if n['type'] == 'network' else 'uts')
" /bin/sh -c 'readlink /proc/self/ns/net; readlink /proc/self/ns/uts'
	rt run -b "$T/nsb" "$id" > "$T/out" 2> "$T/err" < /dev/null || bad "run joining namespaces: $(cat "$T/err")" || return 1
	want="$(readlink "/proc/$pa/ns/net")
$(readlink "/proc/$pa/ns/uts")"
	[ "$(cat "$T/out")" = "$want" ] || bad "joined '$(cat "$T/out")', want '$want'" || return 1
	rt delete -f "$ida" > /dev/null 2>&1
	echo "ok: namespaces joined by path (net, uts)"
}
check join_ns

# A namespace type missing from linux.namespaces is the runtime's (the
# spec): only a mount namespace listed, the process sees our pid, net,
# ipc, uts and cgroup namespaces.
t_shared_ns() {
	newid shns
	mkb shns "
c['linux']['namespaces'] = [{'type': 'mount'}]
c.pop('hostname', None)
" /bin/sh -c 'for n in pid net ipc uts cgroup; do readlink /proc/self/ns/$n; done'
	rt run -b "$T/shns" "$id" > "$T/out" 2> "$T/err" < /dev/null || bad "run without pid/net/ipc/uts namespaces: $(cat "$T/err")" || return 1
	want=$(for n in pid net ipc uts cgroup; do readlink /proc/self/ns/$n; done)
	[ "$(cat "$T/out")" = "$want" ] || bad "the container's namespaces '$(cat "$T/out" | tr '\n' ' ')' are not ours '$(echo "$want" | tr '\n' ' ')'" || return 1
	nothing_left "$id" shns || return 1
	echo "ok: namespaces not listed are shared with the runtime (pid, net, ipc, uts, cgroup)"
}
check shared_ns

t_seccomp() {
	newid sc
	mkb sc '
c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
  {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
' /bin/sh -c 'mkdir /tmp/sc-$$ 2>&1 || true; echo still-running'
	rt run -b "$T/sc" "$id" > "$T/out" 2> "$T/err" < /dev/null || bad "run: $(cat "$T/err")" || return 1
	grep -q 'Operation not permitted' "$T/out" && grep -qx still-running "$T/out" ||
		bad "seccomp did not refuse mkdir with EPERM: $(cat "$T/out")" || return 1
	echo "ok: seccomp: mkdir refused with EPERM, the rest allowed"
}
check seccomp

# Several conditions on one argument (Docker's and podman's profiles allow
# personality for a list of values that way) mean any of them, as runc and
# crun apply them. Default deny, every other system call of this
# architecture allowed, personality only for 0, PER_LINUX32 and
# PER_LINUX32|UNAME26: busybox linux64 (0) and linux32 (8) run, linux32 -R
# (PER_LINUX32|ADDR_NO_RANDOMIZE) is refused.
t_seccomp_same_arg() {
	hdr=$(ls /usr/include/*/asm/unistd_64.h 2>/dev/null | head -1)
	[ -n "$hdr" ] || { echo "ok: (skipped) no asm/unistd_64.h to list system calls from"; return 0; }
	newid scarg
	mkb scarg "
import re
names = sorted(set(re.findall(r'#define __NR_(\\w+) ', open('$hdr').read())) - {'personality'})
eq = lambda v: {'index': 0, 'value': v, 'op': 'SCMP_CMP_EQ'}
c['linux']['seccomp'] = {'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 1, 'syscalls': [
  {'names': names, 'action': 'SCMP_ACT_ALLOW'},
  {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW', 'args': [eq(0), eq(8), eq(0x20008)]}]}
" /bin/sh -c 'linux64 echo p0; linux32 echo p8; linux32 -R echo p40008 2>&1; echo done'
	rt run -b "$T/scarg" "$id" > "$T/out" 2> "$T/err" < /dev/null || bad "run: $(cat "$T/err")" || return 1
	grep -qx p0 "$T/out" && grep -qx p8 "$T/out" || bad "personality 0 or 8 was refused: $(cat "$T/out")" || return 1
	! grep -qx p40008 "$T/out" && grep -q 'not permitted' "$T/out" && grep -qx done "$T/out" ||
		bad "personality 0x40008 was not refused with EPERM: $(cat "$T/out")" || return 1
	echo "ok: seccomp: three conditions on personality's arg 0 allow any of them, refuse the rest"
}
check seccomp_same_arg

t_hooks() {
	newid hk
	log=$T/hooks.log
	: > "$log"
	mkb hk "
def h(name):
    return [{'path': '/bin/sh', 'args': ['sh', '-c', 'cat > $T/hook-' + name + '.json; echo ' + name + ' >> $log']}]
c['hooks'] = {k: h(k) for k in ('prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop')}
c['hooks']['startContainer'] = [{'path': '/bin/sh', 'args': ['sh', '-c', 'echo in-container > /tmp/hook-start-$$']}]
" /bin/sh -c "cat /tmp/hook-start-$$; rm -f /tmp/hook-start-$$"
	rt run -b "$T/hk" "$id" > "$T/out" 2> "$T/err" < /dev/null || bad "run: $(cat "$T/err")" || return 1
	[ "$(cat "$T/out")" = in-container ] || bad "startContainer did not run in the container before the process: '$(cat "$T/out")'" || return 1
	order=$(tr '\n' ' ' < "$log")
	case $order in
	"prestart createRuntime createContainer poststart poststop " | "createRuntime prestart createContainer poststart poststop ") ;;
	*) bad "hooks ran as '$order'" || return 1 ;;
	esac
	for h in prestart createRuntime poststart; do
		json "$T/hook-$h.json" "j['id'] == '$id' and j['pid'] > 0" | grep -qx true ||
			bad "hook $h got no state with id and pid on stdin: $(cat "$T/hook-$h.json")" || return 1
	done
	json "$T/hook-poststop.json" "j['id']" | grep -qx "$id" || bad "poststop got no state: $(cat "$T/hook-poststop.json")" || return 1
	echo "ok: hooks ran in order: $order(state on stdin)"
}
check hooks

# runtime-spec: a failing poststart or poststop hook is logged and the
# remaining hooks of that kind still run; the operation does not fail.
t_hooks_failing_post() {
	# runc kills the container when a poststart hook fails, unlike the spec
	[ "$RUNTIME_NAME" != runc ] || { echo "ok: (skipped) runc makes a failing poststart hook fatal"; return 0; }
	newid hkf
	mkb hkf "
ok = lambda name: {'path': '/bin/sh', 'args': ['sh', '-c', 'touch $T/hkf-' + name]}
bad = {'path': '/bin/sh', 'args': ['sh', '-c', 'exit 7']}
c['hooks'] = {'poststart': [bad, ok('poststart')], 'poststop': [bad, ok('poststop')]}
" /bin/true
	rm -f "$T/hkf-poststart" "$T/hkf-poststop"
	rt --log "$T/hkf.log" run -b "$T/hkf" "$id" > "$T/out" 2> "$T/err" < /dev/null ||
		bad "a failing poststart/poststop hook failed run: $(cat "$T/err")" || return 1
	[ -e "$T/hkf-poststart" ] || bad "the poststart hook after a failing one did not run" || return 1
	[ -e "$T/hkf-poststop" ] || bad "the poststop hook after a failing one did not run" || return 1
	if [ "$RUNTIME_NAME" = berth-runtime ]; then
		cat "$T/err" "$T/hkf.log" > "$T/all" 2>/dev/null
		for k in poststart poststop; do
			grep -q "hooks\.$k\[0\].*status 7" "$T/all" ||
				bad "the failing $k hook was not logged: $(cat "$T/all")" || return 1
		done
	fi
	nothing_left "$id" hkf || return 1
	echo "ok: failing poststart/poststop hooks are logged, the next ones run, run succeeds"
}
check hooks_failing_post

t_terminal() {
	newid tty
	mkb tty 'c["process"]["terminal"] = True' /bin/sh -c 'tty; echo term-ok'
	sockp=$T/console.sock
	$PY "$here/lib/console-socket.py" "$sockp" "$T/tty.out" > "$T/cs.ready" 2> "$T/cs.err" &
	cs=$!
	bt_cleanup_add "kill $cs"
	bt_wait_for 5 grep -q ready "$T/cs.ready" || bad "the console socket receiver did not start" || return 1
	rt create -b "$T/tty" --console-socket "$sockp" "$id" > "$T/out" 2>&1 < /dev/null ||
		bad "create --console-socket: $(cat "$T/out")" || return 1
	rt start "$id" > "$T/out" 2>&1 || bad "start: $(cat "$T/out")" || return 1
	rc=0
	wait "$cs" || rc=$?
	[ "$rc" -eq 0 ] || bad "console socket: $(cat "$T/cs.err")" || return 1
	grep -q '^/dev/pts/[0-9]' "$T/tty.out" && grep -qx term-ok "$T/tty.out" ||
		bad "the terminal showed: $(cat "$T/tty.out")" || return 1
	stopped() { [ "$(status_of "$id")" = stopped ]; }
	bt_wait_for 5 stopped || bad "status '$(status_of "$id")' after the process ended" || return 1
	rt delete "$id" > /dev/null 2>&1 || bad "delete failed" || return 1
	echo "ok: terminal: pty master over --console-socket, process on $(head -1 "$T/tty.out")"
}
check terminal

t_fds() {
	newid fd
	mkb fd '' /bin/sh -c 'ls /proc/self/fd | tr "\n" " "; echo; cat /proc/self/fd/3 2>/dev/null || echo no-fd-3'
	echo preserved > "$T/fd3"
	# the caller holds a host directory open as fd 7: it must not reach the
	# container (CVE-2024-21626); fd 3 is passed with --preserve-fds 1
	(exec 7< "$T" 3< "$T/fd3"; rt run --preserve-fds 1 -b "$T/fd" "$id" > "$T/out" 2> "$T/err" < /dev/null) ||
		bad "run --preserve-fds: $(cat "$T/err")" || return 1
	[ "$(sed -n 1p "$T/out")" = "0 1 2 3 4 " ] || bad "the container saw descriptors '$(sed -n 1p "$T/out")', want '0 1 2 3 4 ' (4: ls's own)" || return 1
	[ "$(sed -n 2p "$T/out")" = preserved ] || bad "--preserve-fds 1 did not pass fd 3: $(cat "$T/out")" || return 1
	newid fd2
	mkb fd2 '' /bin/sh -c 'ls /proc/self/fd | tr "\n" " "'
	(exec 7< "$T" 3< "$T/fd3"; rt run -b "$T/fd2" "$id" > "$T/out" 2> "$T/err" < /dev/null) ||
		bad "run: $(cat "$T/err")" || return 1
	[ "$(cat "$T/out")" = "0 1 2 3 " ] || bad "without --preserve-fds the container saw '$(cat "$T/out")', want '0 1 2 3 ' (3: ls's own)" || return 1
	echo "ok: descriptors: only stdio reach the container, and --preserve-fds N more"
}
check fds

t_no_pivot() {
	newid np
	mkb np '' /bin/sh -c 'echo $(cat /etc/hostname) $(ls /proc/1/root/bin/busybox)'
	rt run --no-pivot -b "$T/np" "$id" > "$T/out" 2> "$T/err" < /dev/null || bad "run --no-pivot: $(cat "$T/err")" || return 1
	[ "$(cat "$T/out")" = "berth-test /proc/1/root/bin/busybox" ] || bad "--no-pivot: $(cat "$T/out")" || return 1
	nothing_left "$id" np || return 1
	echo "ok: --no-pivot"
}
check no_pivot

t_root_propagation() {
	# each linux.rootfsPropagation as the root's own (mountinfo's optional
	# fields): shared and unbindable used to fail in pivot_root and in the
	# bind of the root onto itself
	for p in shared:shared rshared:shared slave: private: unbindable:unbindable runbindable:unbindable; do
		newid "rp-${p%%:*}"
		mkb "rp-${p%%:*}" "c['linux']['rootfsPropagation'] = '${p%%:*}'" \
			/bin/sh -c 'awk '"'"'$5 == "/" { for (i = 7; $i != "-"; i++) printf "%s ", $i; print "." }'"'"' /proc/self/mountinfo'
		rt run -b "$T/rp-${p%%:*}" "$id" > "$T/out" 2> "$T/err" < /dev/null ||
			bad "rootfsPropagation ${p%%:*}: $(cat "$T/err")" || return 1
		want=${p#*:}
		if [ -n "$want" ]; then
			grep -q "$want" "$T/out" || bad "rootfsPropagation ${p%%:*}: / is \"$(cat "$T/out")\"" || return 1
		else
			! grep -q "shared\|unbindable" "$T/out" || bad "rootfsPropagation ${p%%:*}: / is \"$(cat "$T/out")\"" || return 1
		fi
		nothing_left "$id" "rp-${p%%:*}" || return 1
	done
	echo "ok: rootfsPropagation shared, rshared, slave, private, unbindable, runbindable"
}
check root_propagation

# ---- failure paths: a clear error, and nothing left behind
# refused NAME WHAT PATTERN [BERTH_PATTERN]: run bundle NAME with --log and
# --log-format json; it must fail, its error must be in the log (JSON lines)
# and match PATTERN (and, for berth-runtime, BERTH_PATTERN, which names the
# JSON path), and nothing may be left.
refused() {
	_n=$1 _what=$2 _pat=$3 _bpat=${4:-}
	rc=0
	rt --log "$T/$_n.log" --log-format json run -b "$T/$_n" "$id" > "$T/out" 2> "$T/err" < /dev/null || rc=$?
	[ "$rc" -ne 0 ] || bad "$_what was accepted" || return 1
	cat "$T/err" "$T/$_n.log" > "$T/all" 2>/dev/null
	grep -qiE -- "$_pat" "$T/all" || bad "$_what: the error does not match /$_pat/: $(cat "$T/all")" || return 1
	if [ -n "$_bpat" ] && [ "$RUNTIME_NAME" = berth-runtime ]; then
		grep -qE -- "$_bpat" "$T/all" || bad "$_what: berth-runtime's error does not match /$_bpat/: $(cat "$T/all")" || return 1
	fi
	[ -s "$T/$_n.log" ] || bad "$_what: nothing in the --log file" || return 1
	grep -qiE -- "$_pat" "$T/$_n.log" || bad "$_what: the --log file lacks the error: $(cat "$T/$_n.log")" || return 1
	if [ -s "$T/$_n.log" ]; then
		$PY -c '
import json, sys
for line in open(sys.argv[1]):
    if line.strip():
        e = json.loads(line)
        assert "msg" in e and "level" in e
' "$T/$_n.log" || bad "$_what: --log-format json wrote something else: $(cat "$T/$_n.log")" || return 1
	fi
	nothing_left "$id" "$_n" || return 1
	echo "ok: $_what refused, nothing left: $(grep -iE -- "$_pat" "$T/all" | head -1 | cut -c1-200)"
}

t_bad_namespace() {
	newid badns
	mkb badns 'c["linux"]["namespaces"].append({"type": "foo"})' /bin/true
	refused badns 'namespace type "foo"' 'foo' 'linux\.namespaces\[[0-9]+\]\.type'
}
check bad_namespace

t_shared_mount_ns() {
	# no "mount" in linux.namespaces: the runtime's (the spec), entered with
	# a chroot; mounts asked for there are refused
	newid nomnt
	mkb nomnt '
c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "mount"]
c["mounts"] = []; c["linux"]["maskedPaths"] = []; c["linux"]["readonlyPaths"] = []
c["linux"].pop("devices", None); c["linux"].pop("rootfsPropagation", None); c["root"]["readonly"] = False
' /bin/sleep 30
	rt run -d -b "$T/nomnt" "$id" > "$T/out" 2>&1 < /dev/null || bad "shared mount namespace: $(cat "$T/out")" || return 1
	pid=$(pid_of "$id")
	[ "$(readlink "/proc/$pid/ns/mnt")" = "$(readlink /proc/self/ns/mnt)" ] ||
		bad "shared mount namespace: the container has a mount namespace of its own" || return 1
	[ "$(readlink "/proc/$pid/root")" = "$B" ] || bad "shared mount namespace: root is $(readlink "/proc/$pid/root")" || return 1
	rt exec "$id" /bin/sh -c "[ -e /bin/busybox ] && [ ! -e '$T' ] && echo inside" > "$T/out" 2>&1 &&
		[ "$(cat "$T/out")" = inside ] || bad "shared mount namespace: exec ran outside the root: $(cat "$T/out")" || return 1
	rt delete --force "$id" || return 1
	nothing_left "$id" nomnt || return 1
	newid nomntmounts
	mkb nomntmounts 'c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "mount"]' /bin/true
	refused nomntmounts 'mounts without a mount namespace' 'mount' 'mounts\[0\].*without a mount namespace' || return 1
	echo "ok: no mount namespace listed: the runtime's, chroot into the root, exec too"
}
check shared_mount_ns

# A security label the host cannot apply is an error, not ignored.
t_lsm_missing() {
	if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then
		echo "ok: (skipped) this host has AppArmor"
	else
		newid aa
		mkb aa 'c["process"]["apparmorProfile"] = "berth-test-profile"' /bin/true
		refused aa 'process.apparmorProfile without AppArmor' 'apparmor' 'process\.apparmorProfile.*AppArmor' || return 1
	fi
	# runc ignores an SELinux label where SELinux is off: berth-runtime only
	if [ -e /sys/fs/selinux/enforce ] || [ "$RUNTIME_NAME" != berth-runtime ]; then
		echo "ok: (skipped) this host has SELinux, or $RUNTIME_NAME ignores the label"
	else
		newid se
		mkb se 'c["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0"' /bin/true
		refused se 'process.selinuxLabel without SELinux' 'selinux' 'process\.selinuxLabel.*SELinux' || return 1
	fi
}
check lsm_missing

t_bad_json() {
	newid badjson
	mkb badjson '' /bin/true
	printf '{"ociVersion": "1.0.2", "process": {' > "$T/badjson/config.json"
	refused badjson 'a truncated config.json' 'config|json|unexpected|EOF'
}
check bad_json

t_no_rootfs() {
	newid norootfs
	mkb norootfs "c['root']['path'] = '$T/no-such-rootfs'" /bin/true
	refused norootfs 'a missing root.path' 'no-such-rootfs|no such file|rootfs' 'root\.path'
}
check no_rootfs

t_no_binary() {
	newid nobin
	mkb nobin '' /bin/no-such-program
	refused nobin 'process.args naming no program' 'no-such-program|not found|no such file'
}
check no_binary

t_rlimit_over_hard() {
	if bt_has_cap_sys_resource; then
		echo "ok: (skipped) this root has CAP_SYS_RESOURCE: no rlimit is above what it may set"
		return 0
	fi
	newid rl
	over=$(($(bt_nofile_hard) + 1000))
	mkb rl "c['process']['rlimits'] = [{'type': 'RLIMIT_NOFILE', 'soft': $over, 'hard': $over}]" /bin/true
	refused rl "RLIMIT_NOFILE $over above the hard limit $(bt_nofile_hard)" 'rlimit' 'RLIMIT_NOFILE'
}
check rlimit_over_hard

t_duplicate_id() {
	newid dup
	mkb dup '' /bin/sh -c 'trap "exit 0" TERM; sleep 60 & wait'
	rt run -d -b "$T/dup" "$id" > "$T/out" 2>&1 < /dev/null || bad "run -d: $(cat "$T/out")" || return 1
	! rt create -b "$T/dup" "$id" > "$T/out" 2>&1 < /dev/null || bad "a second container with the same ID was created" || return 1
	[ "$(status_of "$id")" = running ] || bad "the refused duplicate changed the first to '$(status_of "$id")'" || return 1
	rt delete -f "$id" > "$T/out" 2>&1 || bad "delete -f of a running container: $(cat "$T/out")" || return 1
	nothing_left "$id" dup || return 1
	echo "ok: a duplicate ID is refused without touching the first; delete -f removes a running one"
}
check duplicate_id

# A cgroup that holds processes is not joined unless the config asks for
# it (annotation io.berth.cgroup.join); a joined container's delete leaves
# the cgroup and its other processes alone.
t_cgroup_busy() {
	[ "$RUNTIME_NAME" = berth-runtime ] || { echo "ok: (skipped) io.berth.cgroup.join is berth-runtime's"; return 0; }
	newid busy
	busy=$id
	mkb busy '' /bin/sh -c 'trap "exit 0" TERM; sleep 60 & wait'
	rt run -d -b "$T/busy" "$busy" > "$T/out" 2>&1 < /dev/null || bad "run -d: $(cat "$T/out")" || return 1
	newid busy2
	mkb busy2 "c['linux']['cgroupsPath'] = '/$cg/busy'" /bin/true
	refused busy2 'creating into a cgroup that holds processes' 'cgroup.*process' 'io\.berth\.cgroup\.join' || return 1
	newid busy3
	mkb busy3 "c['linux']['cgroupsPath'] = '/$cg/busy'
c['annotations'] = {'io.berth.cgroup.join': 'true'}" /bin/true
	rt run -b "$T/busy3" "$id" > "$T/out" 2>&1 < /dev/null || bad "run with io.berth.cgroup.join: $(cat "$T/out")" || return 1
	[ "$(status_of "$busy")" = running ] && alive "$(pid_of "$busy")" ||
		bad "the joined container's delete stopped the first one ($(status_of "$busy"))" || return 1
	rt delete -f "$busy" > "$T/out" 2>&1 || bad "delete -f: $(cat "$T/out")" || return 1
	nothing_left "$busy" busy || return 1
	echo "ok: a populated cgroup is refused, joined with io.berth.cgroup.join, left to its owner"
}
check cgroup_busy

t_state_unknown() {
	! rt state cli-no-such-$$ > "$T/out" 2>&1 || bad "state of an unknown container succeeded" || return 1
	! rt delete cli-no-such-$$ > /dev/null 2>&1 || bad "delete of an unknown container succeeded" || return 1
	echo "ok: state and delete of an unknown container fail: $(head -1 "$T/out" | cut -c1-160)"
}
check state_unknown

# at the end: nothing of ours runs, nothing is mounted, no state is left
t_clean_end() {
	n=$(rt list 2>/dev/null | awk 'NR > 1' | wc -l)
	[ "$n" -eq 0 ] || bad "containers left: $(rt list)" || return 1
	bt_cgroup_empty "$cg" || bad "processes left in /$cg: $(bt_cgroup_procs "$cg" | sort -u | tr '\n' ' ')" || return 1
	[ -z "$(bt_mounts_under "$T")" ] || bad "mounts left: $(bt_mounts_under "$T")" || return 1
	echo "ok: no container, process or mount left"
}
check clean_end

echo "runtime-cli.sh: $passed passed${failed:+, failed:$failed} ($RUNTIME_NAME)"
[ -z "$failed" ]
