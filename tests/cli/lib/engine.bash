# What the engine's bats suites share: a store holding busybox-static made
# offline (tests/integration/lib/registry-mkimage.py) and copied in by
# skopeo as docker.io/library/busybox, and the removal of everything of
# berth's below it. Root only.
#
#   setup_file()    { engine_setup_file NAME; }
#   teardown_file() { engine_teardown_file; }
#   setup()         { engine_setup; }   # B=(berth --root ... --runroot ...)

engine_setup_file() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, cgroups, mounts)"
	command -v skopeo >/dev/null || skip "skopeo is not installed (scripts/install-deps)"
	STORE=$(mktemp -d "/tmp/berth-cli-$1-XXXXXX")
	export STORE
	# the monitor, the init and the seccomp profile from the build tree
	export BERTH_MONITOR="$top_builddir/lib/container/berth-monitor"
	export BERTH_INIT="$top_builddir/lib/container/berth-init"
	export BERTH_DATADIR="$top_srcdir/data"
	/usr/bin/python3 "$top_srcdir/tests/integration/lib/registry-mkimage.py" "$STORE/layout" >/dev/null
	mkdir -p "$STORE/root/content"
	skopeo copy -q "oci:$STORE/layout:busybox" "oci:$STORE/root/content:docker.io/library/busybox:latest"
}

engine_setup() {
	B=("$BERTH" --root "$STORE/root" --runroot "$STORE/run")
}

# every container (thawed first: a frozen task does not die) and its
# monitor, by PID; then the mounts below the store and the store
engine_remove_all() {
	for id in $("${B[@]}" ps -a -q --no-trunc 2>/dev/null); do
		pid=$("${B[@]}" container inspect -f '{{.State.MonitorPid}}' "$id" 2>/dev/null || true)
		"${B[@]}" unpause "$id" >/dev/null 2>&1 || true
		"${B[@]}" rm -f "$id" >/dev/null 2>&1 || true
		[ -z "$pid" ] || [ "$pid" = 0 ] || kill -9 "$pid" 2>/dev/null || true
	done
}

engine_teardown_file() {
	[ -n "${STORE:-}" ] || return 0
	engine_setup
	engine_remove_all
	grep -o " $STORE/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" || true; done
	rm -rf "$STORE"
}
