# Shared by bench/pull.sh and bench/unpack.sh: a local registry holding the
# bench images, and a scratch file system that every timed command writes to.
#
# Sourced with $here (bench/) and $1 (build dir) set. Sets build, runs, out,
# berth, R (the registry) and t (a scratch folder, fresh for every run).
#
# Why a scratch file system: this machine's root is ext4 *without a journal*.
# There, the kernel's inode allocator skips inodes deleted in the last 30 s
# (or 330 s while their table is dirty) one by one, rescanning from the start
# of the group for every new file, so creating files right after the previous
# run's tree was deleted costs time quadratic in what was deleted: `tar -x`
# of the large layer took 3 to 7 s instead of 0.5 s (perf: 70% of it in
# recently_deleted/find_inode_bit). That measures the bench, not the tools.
# So every run gets a newly made journaled ext4 (mkfs's defaults, as on a
# usual host) on a loop device doing direct I/O: a buffered loop device
# turns an fsync of one file into a flush of every file the run wrote, which
# a disk does not. BENCH_FS=root runs on the root file system as it is.
build=$(cd "${1:-$here/../build}" && pwd)
runs=${RUNS:-5}
out="$here/results"; mkdir -p "$out"
REG_LIB=$here/../tests/integration/lib
. "$REG_LIB/registry.sh"
berth="$build/examples/berth/.libs/berth"
[ -x "$berth" ] || { echo "bench: build berth first ($berth missing)"; exit 1; }
export LD_LIBRARY_PATH="$build/lib/.libs"

bench_need() {
	for tool in "$@"; do
		command -v "$tool" >/dev/null || { echo "bench: $tool not found (apt-get install $tool)"; exit 1; }
	done
}

reg_bench_setup # the registry: sets R and REG_TMP, stopped and removed on exit
t=$REG_TMP/scratch
mkdir "$t"
if [ "${BENCH_FS:-ext4}" = root ]; then
	# hyperfine --prepare: an empty scratch folder
	bench_fresh="sh -c 'rm -rf $t && mkdir $t'"
else
	bench_need mkfs.ext4
	img=$REG_TMP/scratch.ext4
	truncate -s 2G "$img"
	# losetup -d right after mount: the device goes when it is unmounted
	cat > "$REG_TMP/fresh.sh" <<-EOF
	umount $t 2>/dev/null
	mkfs.ext4 -q -F -i 65536 -E lazy_itable_init=0,lazy_journal_init=0 $img || exit 1
	dev=\$(losetup --direct-io=on -f --show $img) || exit 1
	mount \$dev $t; rc=\$?
	losetup -d \$dev
	exit \$rc
	EOF
	bench_fresh="sh $REG_TMP/fresh.sh"
	$bench_fresh
	REG_MOUNTS=$t # reg_cleanup unmounts it
fi
