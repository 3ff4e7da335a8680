# Leak checks for the integration tests: what a test leaves of berth's —
# mounts, cgroups, network namespaces, processes and open files — recorded
# when it starts and again when it ends (after its own cleanup, before the
# safety nets that would hide a leak), and the test fails when any grew.
# Sourced (POSIX sh) by lib/bundle.sh, whose bt_tmp_setup starts it; a test
# with a fixture of its own calls it itself:
#
#   . "$here/lib/leaks.sh"
#   bt_leaks_begin "$T"                # DIR: everything the test makes is below it
#   bt_leaks_allow 'process .*registry'  # what it may leave (a shared fixture)
#   ...                                # and at exit, after its own cleanup:
#   bt_leaks_end || status=1
#
# Tests run two at a time, so only the test's own objects count, found
# through DIR: mounts at or below it; cgroups and network namespaces whose
# name has DIR's base name in it (the tests name theirs so,
# berth-test-cli-AbC123); processes whose root, working directory or command
# line is below DIR (a detached monitor is not a child of the test); open
# files below DIR, of those processes and of the test itself.
# BT_LEAKS=0 turns the check off.

bt_leaks_dir=
bt_leaks_before=
bt_leaks_allowed=

# bt_leaks_snapshot DIR: one line per object of the test's, sorted.
bt_leaks_snapshot() (
	# a subshell: a /proc entry gone midway must not end it under set -e
	set +e
	_ld=$1
	_tag=$(basename "$_ld")
	_self=$(tr '\0' ' ' < "/proc/$$/cmdline")
	awk -v d="$_ld" '$5 == d || index($5, d "/") == 1 { print "mount " $5 }' /proc/self/mountinfo
	awk '{ for (i = 7; $i != "-"; i++); if ($(i+1) == "cgroup" || $(i+1) == "cgroup2") print $5 }' \
		/proc/self/mountinfo | sort -u | while read -r _m; do
		find "$_m" -mindepth 1 -maxdepth 4 -type d -name "*$_tag*" -prune 2>/dev/null |
			sed 's/^/cgroup /'
	done
	ip netns list 2>/dev/null | awk -v t="$_tag" 'index($1, t) { print "netns " $1 }'
	# one pass over /proc for all processes (a loop per process is minutes
	# on a busy machine): root or cwd below DIR, or DIR in the command line
	{
		find /proc -mindepth 2 -maxdepth 2 \( -name cwd -o -name root \) \
			\( -lname "$_ld" -o -lname "$_ld/*" \) 2>/dev/null | cut -d/ -f3
		grep -laF "$_ld" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3
	} | sort -u | while read -r _pid; do
		[ "$_pid" != "$$" ] || continue
		# zombies are their parent's to reap, not a leak of ours
		grep -q '^State:.*Z' "/proc/$_pid/status" 2>/dev/null && continue
		_cmd=$( (tr '\0' ' ' < "/proc/$_pid/cmdline") 2>/dev/null) || continue
		# the test's subshells (this check's among them) are the test itself
		[ -n "$_cmd" ] && [ "$_cmd" != "$_self" ] || continue
		echo "process $_pid $_cmd"
		find "/proc/$_pid/fd" -mindepth 1 -lname "$_ld/*" -printf "file $_pid %f -> %l\n" 2>/dev/null
	done
	find "/proc/$$/fd" -mindepth 1 -lname "$_ld/*" -printf "file $$ %f -> %l\n" 2>/dev/null
	return 0
)

# bt_leaks_begin DIR: the first record.
bt_leaks_begin() {
	[ "${BT_LEAKS:-1}" != 0 ] || return 0
	bt_leaks_dir=$1
	bt_leaks_before=$(bt_leaks_snapshot "$1" | sort)
}

# bt_leaks_allow REGEX: objects matching it (a line of the snapshot:
# "process PID CMDLINE", "mount PATH", ...) may be left.
bt_leaks_allow() {
	bt_leaks_allowed="$bt_leaks_allowed
$1"
}

# bt_leaks_end: the second record; false, saying what, when anything grew.
bt_leaks_end() {
	[ "${BT_LEAKS:-1}" != 0 ] && [ -n "$bt_leaks_dir" ] || return 0
	_after=$(bt_leaks_snapshot "$bt_leaks_dir" | sort)
	_new=$(printf '%s\n' "$_after" | grep -vxF -e "$bt_leaks_before" -e '' 2>/dev/null || true)
	if [ -z "$bt_leaks_before" ]; then _new=$_after; fi
	# (each step succeeds: the tests run this under set -e)
	if [ -n "$bt_leaks_allowed" ]; then
		_allow=${TMPDIR:-/tmp}/.bt-leaks-allow.$$
		printf '%s\n' "$bt_leaks_allowed" | grep -v '^$' > "$_allow" || true
		_new=$(printf '%s\n' "$_new" | grep -vE -f "$_allow" || true)
		rm -f "$_allow"
	fi
	bt_leaks_dir=
	[ -n "$_new" ] || return 0
	echo "FAIL: leaked (not there when the test began, still there after its cleanup):"
	printf '%s\n' "$_new" | sed 's/^/  /'
	return 1
}
