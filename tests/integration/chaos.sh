#!/bin/sh
# SIGKILL at random points of pull, rmi, image mount/unmount, snapshot
# create/remove, gc and runtime create/delete, at least $KILLS (100; 300 in
# scripts/test-all) times,
# within $BUDGET seconds (240); after each kill and after the next ordinary
# operation the store must load, every image's tree must be a fresh pull's,
# `system df` must agree with the disk, and nothing of berth's may be left
# (temp files, trash, cgroups, mounts, processes). tests/integration/chaos.py
# is the driver; this sets up what it needs and removes it at exit.
# Seeded: it prints SEED=..., and SEED=N replays a run.
#
# As root in a private mount namespace; the registry is Debian's
# docker-registry on 127.0.0.1 seeded with the offline test images;
# containers' cgroups are below /berth-test-chaos-XXXXXX, removed at exit
# with what runs in them; every process is killed by PID.
set -eu
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (overlay mounts, cgroups)"; exit 77
fi
if [ -z "${BERTH_TEST_IN_NS:-}" ]; then
	BERTH_TEST_IN_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
# make check runs 100 kills; under the sanitizers, where each operation is
# several times slower and what is sought is a memory error, 60;
# scripts/test-all runs the issue's 300 in the plain build
if [ -n "${ASAN_RUNTIME:-}" ]; then KILLS=${KILLS:-60}; else KILLS=${KILLS:-100}; fi
export KILLS
. "$here/lib/registry.sh"
. "$here/lib/bundle.sh"
reg_setup
cg=berth-test-chaos-${REG_TMP##*-}
chaos_cleanup() {
	set +e
	bt_cgroup_remove "$cg"
	reg_umount_all
	bt_kill_under "$REG_TMP"
	reg_cleanup
}
trap chaos_cleanup EXIT
BT_TMP=$REG_TMP
bt_runtime_setup

reg_images
reg_start plain plain
R=$REG_ADDR
reg_seed "$R" busybox berth-test/busybox
reg_seed "$R" some berth-test/some
bt_bundle_make "$REG_TMP/bundle" "$RUNTIME_EXEC" /bin/sleep 100

SEED=${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
BERTH="$top_builddir/examples/berth/berth"
# the binaries themselves, not libtool's wrapper scripts: a shell started
# for each of some thousand calls is most of the test's time
if [ -x "$top_builddir/examples/berth/.libs/berth" ] && [ -n "${RUNTIME_LIBPATH:-}" ]; then
	BERTH="$top_builddir/examples/berth/.libs/berth"
	RUNTIME_EXEC=$RUNTIME_REAL
	export LD_LIBRARY_PATH="$RUNTIME_LIBPATH${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
export SEED top_builddir RUNTIME_EXEC BERTH
export HELPER="$top_builddir/tests/integration/storage-helper"
export CHAOS_ROOT="$REG_TMP/root" CHAOS_RUN="$REG_TMP/run" CHAOS_REF="$REG_TMP/ref"
# the runtime state root of the context (what `system df` counts)
export CHAOS_STATE="$REG_TMP/run/runtime" CHAOS_BUNDLE="$REG_TMP/bundle" CHAOS_CG="$cg"
export CHAOS_IMAGES="$R/berth-test/busybox $R/berth-test/some"
$PY "$here/chaos.py"
