# Shared by the benchmarks that run crun (bench/runtime.sh, bench/run.sh):
# crun 1.8 refuses a mixed v1/v2 cgroup host while a controller (hugetlb
# here) is attached to the cgroup2 tree. With BENCH_HUGETLB_V1=1, when crun
# refuses, hugetlb is mounted as a v1 hierarchy at /sys/fs/cgroup/hugetlb
# for the run and unmounted at exit. Opt-in because the undo is not simple:
# a v1 hierarchy unmounted while a removed child cgroup is still dying
# outlives the unmount, and hugetlb stays off cgroup2 (seen on kernel 6.18),
# so hugetlb_unmount mounts and unmounts again until hugetlb is back in
# /sys/fs/cgroup/unified/cgroup.controllers, and says if it is not.
# Needs tests/integration/lib/bundle.sh (bt_cleanup_add, bt_wait_for,
# bt_cgroup_remove) and $cg, the bench's cgroup name.

# hugetlb_unmount: undo our hugetlb v1 mount until the controller is back on
# cgroup2 (see the top of this file); prints the outcome.
hugetlb_mounted=
hugetlb_unmount() {
	[ -n "$hugetlb_mounted" ] || return 0
	hugetlb_mounted=
	bt_cgroup_remove "$cg"
	umount /sys/fs/cgroup/hugetlb
	# the kernel lets go of the hierarchy a moment after the unmount, or
	# never when a child cgroup was still dying then: one more mount and
	# unmount, with no child left, lets it go
	if ! bt_wait_for 5 grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers; then
		mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb && umount /sys/fs/cgroup/hugetlb
		bt_wait_for 10 grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers || true
	fi
	if grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers; then
		echo "bench: hugetlb unmounted, back on cgroup2"
	else
		echo "bench: WARNING: hugetlb unmounted but not back on cgroup2 (/proc/cgroups: $(grep hugetlb /proc/cgroups))"
	fi
}

# bench_crun_ready TRY PROBE_OUT: true when crun runs (TRY, a command whose
# output lands in PROBE_OUT, succeeds), mounting hugetlb as v1 first when
# crun refuses the hybrid host and BENCH_HUGETLB_V1=1 allows it.
bench_crun_ready() {
	try=$1 probe=$2
	$try && return 0
	if grep -q 'hybrid mode' "$probe" && ! mountpoint -q /sys/fs/cgroup/hugetlb; then
		echo "bench: crun refuses this hybrid cgroup host: $(head -1 "$probe")"
		if [ "${BENCH_HUGETLB_V1:-0}" = 1 ]; then
			echo "bench: mounting hugetlb as a cgroup v1 hierarchy on /sys/fs/cgroup/hugetlb for crun" \
				"(unmounted at exit; the kernel may keep hugetlb off cgroup2 after that)"
			if [ ! -d /sys/fs/cgroup/hugetlb ]; then
				mkdir /sys/fs/cgroup/hugetlb
				bt_cleanup_add "rmdir /sys/fs/cgroup/hugetlb"
			fi
			mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
			hugetlb_mounted=1
			bt_cleanup_add "hugetlb_unmount"
		else
			echo "bench: BENCH_HUGETLB_V1=1 lets this script mount hugetlb as v1 for crun"
		fi
	fi
	$try && return 0
	echo "bench: crun left out: $(head -1 "$probe")"
	return 1
}
