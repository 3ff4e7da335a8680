# A registry for the CLI suites, from tests/integration/lib/registry.sh:
# cli_registry_start in setup_file, cli_registry_stop in teardown_file.
# Seeds busybox, multiarch (the same manifest as busybox), victim and index.
# Everything lives in $REG_TMP (/tmp/berth-cli-reg-*); the registry is
# stopped by its PID.

# cli_registry_start [tls]: tls adds a second registry, TLS and htpasswd
# (berth:secret), as $AUTH_ADDR with its CA in $AUTH_CERTS
cli_registry_start() {
	for tool in docker-registry skopeo; do
		command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/install-deps)"
	done
	REG_LIB="$top_srcdir/tests/integration/lib"
	# shellcheck source=../../integration/lib/registry.sh
	. "$REG_LIB/registry.sh"
	REG_TMP=$(mktemp -d /tmp/berth-cli-reg-XXXXXX)
	REG_PIDS=
	export REG_TMP
	# fd 3 closed: bats waits for whatever holds it
	reg_start cli plain 3>&- || return 1
	echo "$REG_PIDS" > "$REG_TMP/pids"
	if [ "${1:-}" = tls ]; then
		plain=$REG_ADDR
		reg_start auth tls 3>&- || return 1
		echo "$REG_PIDS" > "$REG_TMP/pids"
		AUTH_ADDR=$REG_ADDR AUTH_CERTS=$REG_CERTS REG_ADDR=$plain
		export AUTH_ADDR AUTH_CERTS
	fi
	reg_images >/dev/null
	for pair in busybox:busybox busybox:multiarch victim:victim index:index; do
		reg_seed "$REG_ADDR" "${pair%%:*}" "${pair#*:}" || return 1
	done
	export REG_ADDR
}

cli_registry_stop() {
	[ -n "${REG_TMP:-}" ] || return 0
	for pid in $(cat "$REG_TMP/pids" 2>/dev/null); do
		kill "$pid" 2>/dev/null || true
	done
	rm -rf "$REG_TMP"
}
