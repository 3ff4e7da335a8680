# Shared fixture for the runtime integration tests and bench/runtime.sh:
# which OCI runtime to drive, a temp dir that is always removed, and OCI
# bundles made offline from busybox-static.  Sourced (POSIX sh), never run.
#
#   . "$top_srcdir/tests/integration/lib/bundle.sh"
#   bt_need_root                       # exit 77 unless root
#   bt_runtime_setup                   # RUNTIME -> $RUNTIME_EXEC, or exit 77
#   bt_tmp_setup podman                # $BT_TMP, removed by the EXIT trap
#   bt_cleanup_add "kill 1234"         # run at exit, last added first
#   bt_bundle_make "$BT_TMP/b" "$RUNTIME_EXEC" /bin/echo hi
#
# The runtime under test comes from $RUNTIME, by default berth-runtime of
# the build tree.  In the build tree that path is libtool's wrapper script,
# which sets LD_LIBRARY_PATH and runs .libs/berth-runtime.  podman, conmon and
# containerd exec the runtime themselves, with an environment of their own,
# so the wrapper is not used: bt_runtime_setup writes a two-line shim named
# berth-runtime into the test's temp dir that sets LD_LIBRARY_PATH to the
# build tree's libberth and execs the real binary.  That is what an installed
# berth-runtime looks like to its callers (one executable, its library found),
# and the real binary, not a shell, is the process that runs the container.
# An ELF binary given in $RUNTIME (an installed berth-runtime, runc, crun) is
# used as it is.

BT_TMP=
bt_cleanups=

# the leak checks (lib/leaks.sh), found beside this file; without them
# (a copy of this file elsewhere) no check
bt_leaks_found=
for _d in "${top_srcdir:+$top_srcdir/tests/integration/lib}" "${here:+$here/lib}"; do
	[ -n "$_d" ] && [ -f "$_d/leaks.sh" ] && { . "$_d/leaks.sh"; break; }
done
command -v bt_leaks_begin >/dev/null 2>&1 || {
	bt_leaks_begin() { :; }
	bt_leaks_end() { :; }
	bt_leaks_allow() { :; }
}
# run by the EXIT trap after the cleanups: a leak fails the test
bt_leaks_report() {
	[ -n "$bt_leaks_found" ] || return 0
	printf '%s\n' "$bt_leaks_found"
	exit 1
}

# bt_skip REASON: exit 77, the automake code for a skipped test.
bt_skip() {
	echo "SKIP: $*"
	exit 77
}

bt_need_root() {
	[ "$(id -u)" -eq 0 ] || bt_skip "needs root (namespaces, mounts, cgroups)"
}

# bt_need_tools TOOL...: skip when one of them is not installed.
bt_need_tools() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
			bt_skip "$t is not installed (scripts/install-deps installs it)"
	done
}

# bt_cleanup_add CMD: CMD is eval'd at exit.  Added last, run first, so a
# container goes before the daemon that holds it and the daemon before its
# temp dir.  Each command's failure is ignored so the rest still run.
bt_cleanup_add() {
	bt_cleanups="$1
$bt_cleanups"
}

bt_cleanup_run() {
	# Runs once: the EXIT trap fires after an INT/TERM trap has run too.
	set +e
	_cl=$bt_cleanups
	bt_cleanups=
	_ifs=$IFS
	IFS='
'
	for _c in $_cl; do
		IFS=$_ifs
		eval "$_c" >/dev/null 2>&1
	done
	IFS=$_ifs
}

# bt_delete_all CMD...: `CMD... delete -f ID` for every ID in $ids (the
# containers a test made), failures ignored; for bt_cleanup_add.
bt_delete_all() {
	for _i in $ids; do
		"$@" delete -f "$_i"
	done
	return 0
}

# bt_tmp_setup NAME: a fresh temp dir /tmp/berth-test-NAME-XXXXXX in $BT_TMP,
# and the traps that clean up at exit or on a signal; the leak checks of
# lib/leaks.sh around the test (bt_leaks_allow for what it may leave).
bt_tmp_setup() {
	BT_TMP=$(mktemp -d "/tmp/berth-test-$1-XXXXXX")
	# rm stays on this file system, so a mount a failed test left inside
	# is never followed into; a still-mounted dir makes rm fail visibly.
	bt_cleanup_add "rm -rf --one-file-system '$BT_TMP'"
	bt_cleanup_add "bt_umount_under '$BT_TMP'"
	bt_cleanup_add "bt_kill_under '$BT_TMP'"
	# after the test's own cleanups (added later, run earlier), before the
	# safety nets above, which would hide what it leaves
	bt_leaks_begin "$BT_TMP"
	bt_cleanup_add 'bt_leaks_found=$(bt_leaks_end)'
	trap 'bt_cleanup_run; bt_leaks_report' EXIT
	trap 'bt_cleanup_run; exit 130' INT
	trap 'bt_cleanup_run; exit 143' TERM
}

# bt_kill_under DIR: SIGKILL every process whose root directory, working
# directory or command line is inside DIR: only this test's temp dir is
# ever passed, so these are the test's own (a container whose runtime was
# killed, a daemon, a monitor), whatever cgroup they ended up in.
bt_kill_under() {
	for _p in /proc/[0-9]*; do
		_pid=${_p#/proc/}
		[ "$_pid" != "$$" ] || continue
		_root=$(readlink "$_p/root" 2>/dev/null) || continue
		_cwd=$(readlink "$_p/cwd" 2>/dev/null)
		case "$_root/ $_cwd/ $(tr '\0' ' ' < "$_p/cmdline" 2>/dev/null)" in
		"$1"/* | *" $1"/* | *" $1 "* | *"=$1"/*) kill -9 "$_pid" 2>/dev/null ;;
		esac
	done
	return 0
}

# bt_timeout CMD...: CMD, killed when it takes longer than
# $BT_CMD_TIMEOUT seconds (default 20): a hung runtime fails the test
# instead of hanging `make check`.
bt_timeout() {
	timeout -k 3 "${BT_CMD_TIMEOUT:-20}" "$@"
}

# bt_watchdog SECONDS: end the whole test (SIGTERM, so the cleanup runs)
# when it is still running after SECONDS.
bt_watchdog() {
	# stderr closed: the shell would report the sleep killed at cleanup
	(
		sleep "$1" &
		echo $! > "$BT_TMP/.watchdog"
		wait $! && echo "FAIL: watchdog: still running after $1 s" && kill -TERM $$
	) 2>/dev/null &
	bt_wait_for 5 test -s "$BT_TMP/.watchdog"
	bt_cleanup_add "kill $(cat "$BT_TMP/.watchdog")"
}

# bt_runtime_setup: resolve $RUNTIME into $RUNTIME_EXEC (what to exec) and
# $RUNTIME_NAME (its basename), or skip when it does not exist yet.  Call it
# after bt_tmp_setup: a libtool wrapper gets its shim in $BT_TMP/bin.
bt_runtime_setup() {
	: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
	RUNTIME=${RUNTIME:-$top_builddir/examples/berth-runtime/berth-runtime}
	case $RUNTIME in
	/*) ;;
	*) RUNTIME=$(command -v "$RUNTIME" 2>/dev/null || echo "$RUNTIME") ;;
	esac
	[ -x "$RUNTIME" ] || bt_skip "runtime $RUNTIME does not exist (not built yet?); set RUNTIME=/path/to/runc to try another"
	RUNTIME_NAME=$(basename "$RUNTIME")
	RUNTIME_EXEC=$RUNTIME
	RUNTIME_LIBPATH=
	if head -c 4096 "$RUNTIME" | grep -q 'temporary wrapper script'; then
		real="$(dirname "$RUNTIME")/.libs/$RUNTIME_NAME"
		[ -x "$real" ] || bt_skip "libtool wrapper $RUNTIME has no $real"
		RUNTIME_LIBPATH=$(cd "$(dirname "$RUNTIME")/../../lib/.libs" 2>/dev/null && pwd) ||
			bt_skip "no lib/.libs beside $RUNTIME"
		[ -n "$BT_TMP" ] || { echo "bt_runtime_setup: call bt_tmp_setup first" >&2; exit 99; }
		mkdir -p "$BT_TMP/bin"
		RUNTIME_EXEC="$BT_TMP/bin/$RUNTIME_NAME"
		printf '#!/bin/sh\nLD_LIBRARY_PATH=%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec %s "$@"\n' \
			"$RUNTIME_LIBPATH" "$real" > "$RUNTIME_EXEC"
		chmod 755 "$RUNTIME_EXEC"
		RUNTIME_REAL=$real
	else
		RUNTIME_REAL=$RUNTIME
	fi
	export RUNTIME RUNTIME_EXEC RUNTIME_NAME RUNTIME_REAL RUNTIME_LIBPATH
}

# bt_busybox: the path of a statically linked busybox, or skip.
bt_busybox() {
	for b in /bin/busybox /usr/bin/busybox; do
		# ldd (libc-bin, always there) knows a static binary
		if [ -x "$b" ] && LC_ALL=C ldd "$b" 2>&1 | grep -qE 'not a dynamic executable|statically linked'; then
			echo "$b"
			return 0
		fi
	done
	bt_skip "no static busybox (apt-get install busybox-static)"
}

# bt_rootfs_make DIR: a root file system with busybox, a link per applet in
# /bin (/sbin, /usr/bin and /usr/sbin point there), /etc/passwd, /etc/group
# and the empty directories a runtime mounts over.
bt_rootfs_make() {
	_bb=$(bt_busybox) || exit $?
	mkdir -p "$1/bin" "$1/etc" "$1/root" "$1/tmp" "$1/proc" "$1/sys" "$1/dev" \
		"$1/run" "$1/var/tmp" "$1/usr" "$1/home/user"
	cp "$_bb" "$1/bin/busybox"
	for _a in $("$_bb" --list); do
		[ "$_a" = busybox ] || ln -sf busybox "$1/bin/$_a"
	done
	ln -s bin "$1/sbin"
	ln -s ../bin "$1/usr/bin"
	ln -s ../bin "$1/usr/sbin"
	chmod 1777 "$1/tmp" "$1/var/tmp"
	cat > "$1/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
	cat > "$1/etc/group" <<'EOF'
root:x:0:
tty:x:5:
user:x:1000:
nogroup:x:65534:
EOF
	echo berth-test > "$1/etc/hostname"
	: > "$1/etc/hosts"
	: > "$1/etc/resolv.conf"
}

# bt_rootfs_tar DIR OUT: the root file system as a tar, owned by root, for
# `podman import` and image layers.
bt_rootfs_tar() {
	tar --sort=name --owner=0 --group=0 --numeric-owner -C "$1" -cf "$2" .
}

# bt_oci_archive LAYER_TAR OUT NAME: an OCI image-layout tar (one
# uncompressed layer, config, manifest, index.json) for `ctr images import`,
# written offline.  NAME (e.g. localhost/berth-test-busybox:latest) goes into
# index.json as containerd's io.containerd.image.name and, its tag, as the
# OCI ref.name.
bt_oci_archive() {
	/usr/bin/python3 - "$@" <<'PY'
import hashlib, io, json, os, platform, sys, tarfile
layer_path, out, name = sys.argv[1:4]
arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
blobs = {}
def blob(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[d] = data
    return d
layer = open(layer_path, "rb").read()
layer_d = blob(layer)
config = json.dumps({
    "architecture": arch, "os": "linux", "created": "2024-01-01T00:00:00Z",
    "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]},
    "rootfs": {"type": "layers", "diff_ids": [layer_d]},
}, sort_keys=True).encode()
config_d = blob(config)
manifest = json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": config_d, "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": layer_d, "size": len(layer)}],
}, sort_keys=True).encode()
manifest_d = blob(manifest)
index = json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "digest": manifest_d, "size": len(manifest),
                   "platform": {"architecture": arch, "os": "linux"},
                   "annotations": {"io.containerd.image.name": name,
                                   "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]}}],
}, sort_keys=True).encode()
with tarfile.open(out, "w") as t:
    def add(path, data):
        ti = tarfile.TarInfo(path)
        ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
        t.addfile(ti, io.BytesIO(data))
    add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    add("index.json", index)
    for d, data in blobs.items():
        add("blobs/sha256/" + d.split(":", 1)[1], data)
PY
}

# bt_bundle_make DIR SPEC_RUNTIME ARG...: an OCI bundle in DIR (rootfs/ and
# config.json).  config.json is what `SPEC_RUNTIME spec` writes, then edited:
# process.args = ARG..., no terminal, writable root, hostname berth-test.
# Further edits: bt_config_edit.
bt_bundle_make() {
	_dir=$1 _spec=$2
	shift 2
	mkdir -p "$_dir"
	bt_rootfs_make "$_dir/rootfs"
	(cd "$_dir" && "$_spec" spec) ||
		{ echo "FAIL: '$_spec spec' did not write a config.json in $_dir" >&2; exit 1; }
	[ -s "$_dir/config.json" ] || { echo "FAIL: '$_spec spec' wrote no config.json" >&2; exit 1; }
	bt_config_edit "$_dir/config.json" '
p = c["process"]
p["args"] = args
p["terminal"] = False
p["env"] = ["PATH=/bin", "HOME=/root", "TERM=xterm"]
c["root"]["readonly"] = False
c["hostname"] = "berth-test"
' "$@"
}

# bt_config_edit FILE PYCODE [ARG...]: edit a config.json with Python; PYCODE
# sees the document as `c` and the ARGs as the list `args`.
bt_config_edit() {
	_f=$1 _code=$2
	shift 2
	/usr/bin/python3 -c '
import json, sys
f = sys.argv[1]
with open(f) as fp:
    c = json.load(fp)
args = sys.argv[3:]
exec(sys.argv[2])
with open(f + ".tmp", "w") as fp:
    json.dump(c, fp, indent=2)
import os
os.rename(f + ".tmp", f)
' "$_f" "$_code" "$@"
}

# bt_cgroup_mounts: the mount points of every cgroup (v1) and cgroup2
# hierarchy, one a line.
bt_cgroup_mounts() {
	awk '{ for (i = 7; $i != "-"; i++); if ($(i+1) == "cgroup" || $(i+1) == "cgroup2") print $5 }' \
		/proc/self/mountinfo
}

# bt_cgroup_procs NAME: the PIDs in cgroup NAME and below, in every
# hierarchy (one a line, repeats possible).
bt_cgroup_procs() {
	for _m in $(bt_cgroup_mounts); do
		[ -d "$_m/$1" ] && find "$_m/$1" -name cgroup.procs -exec cat {} + 2>/dev/null
	done
	return 0
}

# bt_cgroup_empty NAME: true when no process is in cgroup NAME.
bt_cgroup_empty() {
	[ -z "$(bt_cgroup_procs "$1")" ]
}

# bt_cgroup_remove NAME: remove the cgroup NAME (a path below the root of
# each hierarchy, which the test made, e.g. berth-test-podman-AbC123) with
# everything below it: processes still inside are killed by PID first.
bt_cgroup_remove() {
	for _p in $(bt_cgroup_procs "$1"); do
		kill -9 "$_p" 2>/dev/null
	done
	for _m in $(bt_cgroup_mounts); do
		[ -d "$_m/$1" ] || continue
		# a killed process leaves its cgroup a moment after the signal
		_n=20
		while [ "$_n" -gt 0 ] && ! find "$_m/$1" -depth -type d -exec rmdir {} + 2>/dev/null; do
			sleep 0.1
			_n=$((_n - 1))
		done
	done
}

# bt_cgroup_leftovers NAME: print what is left of cgroup NAME (nothing when
# it was removed).
bt_cgroup_leftovers() {
	for _m in $(bt_cgroup_mounts); do
		[ -d "$_m/$1" ] && echo "$_m/$1"
	done
	return 0
}

# bt_mounts_under DIR: mount points at or below DIR, deepest first.
bt_mounts_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r
}

# bt_umount_under DIR: detach every mount at or below DIR.
bt_umount_under() {
	for _mp in $(bt_mounts_under "$1"); do
		umount -l "$_mp" 2>/dev/null
	done
	return 0
}

# bt_nofile_hard: this process's hard RLIMIT_NOFILE (POSIX sh has no
# `ulimit -H`).
bt_nofile_hard() {
	awk '/^Max open files/ { print $5 }' /proc/self/limits
}

# bt_has_cap_sys_resource: true when this process may raise hard limits.
bt_has_cap_sys_resource() {
	[ $((0x$(awk '/^CapEff:/ { print $2 }' /proc/self/status) >> 24 & 1)) -eq 1 ]
}

# bt_wait_for SECONDS CMD...: retry CMD every 0.1 s until it succeeds.
bt_wait_for() {
	_n=$(($1 * 10))
	shift
	while [ "$_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}
