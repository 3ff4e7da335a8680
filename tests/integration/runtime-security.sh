#!/bin/sh
# What a container must not see or reach of the host, each probed as an
# attacker inside would:
#
# 1. The CVE-2019-5736 class: the
# container's init keeps an O_PATH descriptor on every /proc/<pid>/exe it
# sees and keeps trying to reopen each for writing (escape-init.c), while
# the host runs `#!/proc/self/exe` scripts in the container 15 times:
#   exec:  berth-runtime exec (a copy of the binary is what runs);
#   embed: a small C program that embeds libberth and calls
#          berth_runtime_exec (a copy of it);
#   run:   berth-runtime run of a second container in the attacker's pid
#          namespace whose init itself is `#!/proc/self/exe`.
# Each host file must be byte-identical afterwards and the attacker must
# never have opened one for writing. The copies are what is attacked, so a
# failure damages nothing but this test's temp dir.
# 2. The caller's session keyring: a key the caller holds is not found from
#    inside (key-probe.c), the container has a keyring named after its id,
#    and --no-new-keyring (berth_runtime_create_opts.no_new_keyring) shares it.
# 3. The cgroup mount: with and without a cgroup namespace it shows the
#    container's own cgroup (its limits), not a cgroup the test made at the
#    root of each host hierarchy.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/bundle.sh"

bt_need_root
bt_need_tools sha256sum ldd keyctl
bt_tmp_setup escape
bt_runtime_setup
case $RUNTIME_NAME in berth-runtime) ;; *) bt_skip "the embedding check needs berth-runtime" ;; esac
BT_CMD_TIMEOUT=20
bt_watchdog 240
T=$BT_TMP
chmod 755 "$T"
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || [ -n "$(find /usr/lib -name libc.a 2>/dev/null | head -1)" ] ||
	bt_skip "no static libc (libc6-dev) for the attacker"
: "${top_builddir:=$(cd "$here/../.." && pwd)}"
embed_real=$top_builddir/tests/integration/.libs/escape-exec
[ -x "$embed_real" ] || embed_real=$top_builddir/tests/integration/escape-exec
[ -x "$embed_real" ] || bt_skip "tests/integration/escape-exec is not built"
cg=$(basename "$T")
failed=
bad() { echo "FAIL: $*"; failed=1; }

# the host binaries under attack: byte-identical copies
mkdir -p "$T/host"
cp "$RUNTIME_REAL" "$T/host/berth-runtime"
cp "$embed_real" "$T/host/escape-exec"
libpath=${RUNTIME_LIBPATH:+$RUNTIME_LIBPATH:}${LD_LIBRARY_PATH:-}
hrt() { LD_LIBRARY_PATH=$libpath bt_timeout "$T/host/berth-runtime" --root "$T/state" "$@"; }
sum_rt=$(sha256sum < "$T/host/berth-runtime")
sum_embed=$(sha256sum < "$T/host/escape-exec")

# the attacker's root file system: busybox, the init, the script, and the
# loader and libraries the host binaries need, so that `#!/proc/self/exe`
# really runs them in the container (as in any glibc image)
bt_rootfs_make "$T/rootfs"
${CC:-cc} -O2 -static -o "$T/rootfs/escape-init" "$here/escape-init.c"
${CC:-cc} -O2 -static -o "$T/rootfs/key-probe" "$here/key-probe.c"
mkdir -p "$T/rootfs/sp" "$T/rootfs/berthlibs"
printf '#!/proc/self/exe\n' > "$T/rootfs/sp/evil"
chmod 755 "$T/rootfs/sp/evil"
for b in "$T/host/berth-runtime" "$T/host/escape-exec"; do
	LD_LIBRARY_PATH=$libpath ldd "$b" | awk '/=> \// { print $3 } /^\t\/[^ ]* \(/ { print $1 }'
done | sort -u | while read -r lib; do
	case $lib in
	*/ld-linux*) mkdir -p "$T/rootfs$(dirname "$lib")"; cp -L "$lib" "$T/rootfs$lib" ;;
	*) cp -L "$lib" "$T/rootfs/berthlibs/" ;;
	esac
done

# bundle DIR ARG...: a bundle on the shared root file system
bundle() {
	_d=$1
	shift
	mkdir -p "$_d"
	(cd "$_d" && hrt spec)
	bt_config_edit "$_d/config.json" '
import os
c["root"] = {"path": args[0], "readonly": False}
p = c["process"]
p["args"] = args[2:]
p["terminal"] = False
p["env"] = ["PATH=/bin", "LD_LIBRARY_PATH=/berthlibs"]
# the default capabilities of Docker: with CAP_DAC_OVERRIDE only a read-only
# file system or a seal stops the reopen, not the mode of the file
caps = ["CAP_" + n for n in "CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE".split()]
p["capabilities"] = {k: caps for k in ("bounding", "effective", "permitted")}
c["linux"]["cgroupsPath"] = "/" + args[1] + "/" + os.path.basename(sys.argv[1].rsplit("/", 1)[0])
' "$T/rootfs" "$cg" "$@"
}
# attacker NAME: the attacker's container, detached; its output in NAME.out
attacker() {
	bundle "$T/$1" /escape-init 60
	hrt run --detach --bundle "$T/$1" "$1" > "$T/$1.out" 2>&1 < /dev/null
	bt_cleanup_add "LD_LIBRARY_PATH='$libpath' '$T/host/berth-runtime' --root '$T/state' delete --force '$1'"
	bt_wait_for 5 grep -q watching "$T/$1.out" || bad "$1: the attacker did not start: $(cat "$T/$1.out")"
}
# verdict NAME FILE SUM: FILE unchanged and the attacker wrote nothing
verdict() {
	# the attacker's reopen succeeds once no copy runs: give it time
	sleep 2
	if grep -q ESCAPED "$T/$1.out"; then
		bad "$1: the container opened a host file for writing: $(grep ESCAPED "$T/$1.out")"
	fi
	[ "$(sha256sum < "$2")" = "$3" ] || bad "$1: $2 was changed from inside the container"
	# and the attack was real: the attacker held what the exec'd process ran
	grep -q "REFUSED.*berth-exec.*Read-only file system" "$T/$1.out" ||
		grep -q ESCAPED "$T/$1.out" ||
		bad "$1: the attacker never saw the exec'd process: $(cat "$T/$1.out")"
	hrt delete --force "$1" >/dev/null 2>&1 || true
}
bt_cleanup_add "bt_cgroup_remove '$cg'"

echo "== exec: berth-runtime exec of #!/proc/self/exe, 15 times"
attacker a-exec
for i in $(seq 15); do hrt exec a-exec /sp/evil >/dev/null 2>&1 || true; done
verdict a-exec "$T/host/berth-runtime" "$sum_rt"

echo "== embed: a C program embedding libberth execs #!/proc/self/exe, 15 times"
attacker a-embed
LD_LIBRARY_PATH=$libpath bt_timeout "$T/host/escape-exec" "$T/state" a-embed 15 ||
	bad "embed: escape-exec failed"
verdict a-embed "$T/host/escape-exec" "$sum_embed"

echo "== run: a container whose init is #!/proc/self/exe, in the attacker's pid namespace, 15 times"
attacker a-run
apid=$(hrt state a-run | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
bundle "$T/victim" /sp/evil
bt_config_edit "$T/victim/config.json" '
for n in c["linux"]["namespaces"]:
    if n["type"] == "pid":
        n["path"] = "/proc/%s/ns/pid" % args[0]
' "$apid"
for i in $(seq 15); do hrt run --bundle "$T/victim" "victim-$i" >/dev/null 2>&1 < /dev/null || true; done
verdict a-run "$T/host/berth-runtime" "$sum_rt"

echo "== keyring: a key of the caller's session keyring, looked for from inside"
bundle "$T/keys" /key-probe berth-test-secret
# the caller: a session keyring of its own holding the key
keyrun() {
	keyctl session - sh -c 'keyctl add user berth-test-secret s3cret @s >/dev/null &&
		keyctl search @s user berth-test-secret >/dev/null && echo caller-has-key >&2 &&
		exec "$@"' sh env LD_LIBRARY_PATH="$libpath" timeout 20 \
		"$T/host/berth-runtime" --root "$T/state" run --bundle "$T/keys" "$@" 2> "$T/keys.err"
}
out=$(keyrun keys-new < /dev/null) || bad "keyring: run failed: $(cat "$T/keys.err")"
grep -q caller-has-key "$T/keys.err" || bad "keyring: the caller did not hold the key"
echo "$out" | grep -q "^search: Required key not available" ||
	bad "keyring: the key was found (or the search failed otherwise) inside: $out"
echo "$out" | grep -q "^session: keyring;.*;keys-new$" || bad "keyring: no session keyring named keys-new: $out"
out=$(keyrun --no-new-keyring keys-shared < /dev/null) || bad "keyring: run --no-new-keyring failed: $(cat "$T/keys.err")"
echo "$out" | grep -q "^found" || bad "keyring: --no-new-keyring did not share the caller's keys: $out"

echo "== cgroup mount: only the container's own cgroup, with and without a cgroup namespace"
# a cgroup of the test at the root of every hierarchy: visible to the
# container only if its mount shows the host's trees
mine=berth-test-cgview-$$
for m in $(bt_cgroup_mounts); do mkdir "$m/$mine"; done
bt_cleanup_add "bt_cgroup_remove '$mine'"
for ns in none cgroup; do
	bundle "$T/cg-$ns" /bin/sh -c '
		find /sys/fs/cgroup -maxdepth 2 -name "berth-test-cgview-*" | sed "s/^/LEAK /"
		for f in /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max; do
			[ -e "$f" ] && echo "LIMIT $(cat "$f")"
		done
		ls /sys/fs/cgroup | tr "\n" " "; echo
		touch /sys/fs/cgroup/x 2>/dev/null && echo WRITABLE
		[ -e /sys/fs/cgroup/unified/cgroup.procs ] || [ -e /sys/fs/cgroup/cgroup.procs ] && echo V2OWN $(cat /sys/fs/cgroup/unified/cgroup.procs /sys/fs/cgroup/cgroup.procs 2>/dev/null)
		true'
	bt_config_edit "$T/cg-$ns/config.json" '
c["linux"].setdefault("resources", {})["memory"] = {"limit": 67108864}
if args[0] == "cgroup":
    c["linux"]["namespaces"].append({"type": "cgroup"})
' "$ns"
	out=$(hrt run --bundle "$T/cg-$ns" "cg-$ns" 2>&1 < /dev/null) || bad "cgroup ($ns): run failed: $out"
	echo "$out" | grep LEAK && bad "cgroup ($ns): the host's cgroups are visible: $out"
	echo "$out" | grep -q "^LIMIT 67108864$" || bad "cgroup ($ns): the container's memory limit is not visible: $out"
	echo "$out" | grep -q WRITABLE && bad "cgroup ($ns): the mount is writable: $out"
	echo "$out" | grep -qE "^V2OWN 1( [0-9]+)?$" || bad "cgroup ($ns): the v2 view does not hold just the container's process: $out"
	echo "cgroup ($ns): $(echo "$out" | grep -v '^V2OWN\|^LIMIT' | head -1)"
done

[ -z "$failed" ] || exit 1
echo "runtime-security: no host binary reachable for writing, no caller key, no host cgroup"
