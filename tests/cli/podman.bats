#!/usr/bin/env bats
# berth beside podman (which mirrors Docker's CLI) on the same three images
# from one registry: the same lines for the same templates and columns.
# podman uses a store of this test's own (--root/--runroot in a temp dir).
bats_require_minimum_version 1.5.0
load lib/registry

setup_file() {
	command -v podman >/dev/null || skip "podman is not installed"
	cli_registry_start
	STORE=$(mktemp -d /tmp/berth-cli-podman-XXXXXX)
	export STORE
	for name in busybox victim index; do
		"$BERTH" --root "$STORE/berth" --runroot "$STORE/berth-run" pull -q "$REG_ADDR/$name" >/dev/null
		podman --root "$STORE/podman" --runroot "$STORE/podman-run" --storage-driver vfs \
			pull -q --tls-verify=false "$REG_ADDR/$name" >/dev/null
	done
}

teardown_file() {
	[ -n "${STORE:-}" ] && rm -rf "$STORE"
	cli_registry_stop
}

setup() {
	B=("$BERTH" --root "$STORE/berth" --runroot "$STORE/berth-run")
	P=(podman --root "$STORE/podman" --runroot "$STORE/podman-run" --storage-driver vfs)
}

@test "images --format: the same repository, tag and short id lines as podman" {
	tmpl='{{.Repository}}:{{.Tag}} {{.ID}}'
	berth=$("${B[@]}" images --format "$tmpl" | sort)
	podman=$("${P[@]}" images --format "$tmpl" | sort)
	echo "berth:"; echo "$berth"; echo "podman:"; echo "$podman"
	[ "$(echo "$berth" | wc -l)" -eq 3 ]
	[ "$berth" = "$podman" ]
	# the ids are the image config digests, whole with --no-trunc
	[ "$("${B[@]}" images --no-trunc --format '{{.ID}}' | sort)" = "$("${P[@]}" images --no-trunc --format '{{.ID}}' | sort)" ]
}

@test "images and history: the same columns and times as podman" {
	[[ "$("${B[@]}" images | head -1)" =~ ^REPOSITORY\ +TAG\ +IMAGE\ ID\ +CREATED\ +SIZE$ ]]
	[[ "$("${P[@]}" images | head -1)" =~ ^REPOSITORY\ +TAG\ +IMAGE\ ID\ +CREATED\ +SIZE$ ]]
	tmpl='{{.Repository}}:{{.Tag}} {{.CreatedSince}}'
	[ "$("${B[@]}" images --format "$tmpl" | sort)" = "$("${P[@]}" images --format "$tmpl" | sort)" ]
	tmpl='{{.ID}} {{.CreatedSince}} {{.CreatedBy}} {{.Comment}}'
	[ "$("${B[@]}" history --format "$tmpl" "$REG_ADDR/busybox")" = "$("${P[@]}" history --format "$tmpl" "$REG_ADDR/busybox")" ]
	[ "$("${B[@]}" history -q "$REG_ADDR/busybox")" = "$("${P[@]}" history -q "$REG_ADDR/busybox")" ]
}

@test "system df: the same types' columns and image count as podman" {
	[[ "$("${B[@]}" system df | head -1)" =~ ^TYPE\ +TOTAL\ +ACTIVE\ +SIZE\ +RECLAIMABLE$ ]]
	[[ "$("${P[@]}" system df | head -1)" =~ ^TYPE\ +TOTAL\ +ACTIVE\ +SIZE\ +RECLAIMABLE$ ]]
	# (Docker's field is TotalCount, podman's Total: compare the tables)
	berth=$("${B[@]}" system df | awk '$1 == "Images" { print $1, $2 }')
	[ "$berth" = "Images 3" ]
	[ "$berth" = "$("${P[@]}" system df | awk '$1 == "Images" { print $1, $2 }')" ]
}
