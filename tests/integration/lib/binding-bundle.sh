# Sourced by tests/python/run.sh and tests/lua/run.sh (with top_srcdir and
# top_builddir set): as root with a static busybox, a busybox bundle for
# the bindings' runtime tests in $BERTH_TEST_BUNDLE (and config-template.json
# there, running sh -c @CMD@ in cgroup @ID@), whose containers' cgroups
# go below /$BERTH_TEST_CGROUP (a berth-test name); the bundle, the cgroups
# and whatever runs in them are removed at exit. Otherwise nothing is set and
# those tests skip. Set binding_name (part of the temp dir's name) first.
. "$top_srcdir/tests/integration/lib/bundle.sh"
if [ "$(id -u)" -eq 0 ] && (bt_busybox) > /dev/null 2>&1; then
	bt_tmp_setup "$binding_name"
	bt_runtime_setup
	BERTH_TEST_CGROUP=$(basename "$BT_TMP")
	bt_cleanup_add "bt_cgroup_remove '$BERTH_TEST_CGROUP'"
	BERTH_TEST_BUNDLE=$BT_TMP/bundle
	bt_bundle_make "$BERTH_TEST_BUNDLE" "$RUNTIME_EXEC" /bin/true
	# for Lua, which has no JSON: sh -c "@CMD@" in the cgroup /$cg/@ID@
	cp "$BERTH_TEST_BUNDLE/config.json" "$BERTH_TEST_BUNDLE/config-template.json"
	bt_config_edit "$BERTH_TEST_BUNDLE/config-template.json" "
c['process']['args'] = ['/bin/sh', '-c', '@CMD@']
c['linux']['cgroupsPath'] = '/$BERTH_TEST_CGROUP/@ID@'"
	export BERTH_TEST_BUNDLE BERTH_TEST_CGROUP
fi
