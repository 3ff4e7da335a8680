#!/usr/bin/env bats
# examples/berth/format.c on its own (through tests/cli/format-render):
# the Go-template subset of --format, tables, json, sizes and times.
bats_require_minimum_version 1.5.0

ROW='[{"ID":"sha256:ab","Repository":"busybox","Tag":"latest","Size":"4.26MB","CreatedSince":"2 hours ago",
  "Config":{"Env":["A=1","B=2"],"Labels":{"k":"v","x":"y"}},"State":{"Status":"running"},"Empty":[],"N":0}]'

r() { printf '%s' "$ROW" | "$FORMAT_RENDER" "$@"; }

@test "field paths, as Go prints lists and maps" {
	run r '{{.Repository}}:{{.Tag}} {{.State.Status}}'
	[ "$output" = "busybox:latest running" ]
	run r '{{.Config.Env}}'
	[ "$output" = "[A=1 B=2]" ]
	run r '{{.Config.Labels}}'
	[ "$output" = "map[k:v x:y]" ]
	run r '{{.Nope}}'
	[ "$output" = "<no value>" ]
}

@test "json, index, len, join, lower, upper" {
	run r '{{json .Config.Labels}}'
	[ "$output" = '{"k":"v","x":"y"}' ]
	run r '{{json .}}'
	[[ "$output" == '{"ID":"sha256:ab",'* ]]
	run r '{{index .Config.Labels "x"}} {{index .Config.Env 1}}'
	[ "$output" = "y B=2" ]
	run r '{{len .Config.Env}} {{len .Repository}}'
	[ "$output" = "2 7" ]
	run r '{{join .Config.Env ","}}'
	[ "$output" = "A=1,B=2" ]
	run r '{{upper .Repository}} {{lower "AbC"}} {{.Tag | upper}}'
	[ "$output" = "BUSYBOX abc LATEST" ]
}

@test "range, if/else, with, eq, trim markers" {
	run r '{{range .Config.Env}}<{{.}}>{{end}}'
	[ "$output" = "<A=1><B=2>" ]
	run r '{{range .Empty}}x{{else}}none{{end}}'
	[ "$output" = "none" ]
	run r '{{if .N}}yes{{else}}no{{end}} {{if eq .State.Status "running"}}up{{end}}'
	[ "$output" = "no up" ]
	run r '{{with .State}}{{.Status}}{{end}}'
	[ "$output" = "running" ]
	run r '{{if .N}}n{{else if eq .Tag "x"}}x{{else if .Tag}}{{.Tag}}{{else}}none{{end}}'
	[ "$output" = "latest" ]
	run r '{{if .N}}n{{else if .Nope}}x{{end}}.'
	[ "$output" = "." ]
	run r '{{range .Config.Env -}}  {{.}} {{- end}}'
	[ "$output" = "A=1B=2" ]
}

@test "table: Docker's headers, aligned columns; json: a line per row" {
	ROW='[{"ID":"a","Repository":"busybox","Tag":"latest"},{"ID":"bbbbbbbbbbbbbbbbb","Repository":"x","Tag":"1"}]'
	run r 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}'
	[ "${lines[0]}" = "REPOSITORY   TAG       IMAGE ID" ]
	[ "${lines[1]}" = "busybox      latest    a" ]
	[ "${lines[2]}" = "x            1         bbbbbbbbbbbbbbbbb" ]
	run r 'table'
	[ "${lines[0]}" = "IMAGE ID" ]
	run r 'json'
	[ "${lines[1]}" = '{"ID":"bbbbbbbbbbbbbbbbb","Repository":"x","Tag":"1"}' ]
	# no rows: the header alone
	run "$FORMAT_RENDER" 'table {{.ID}}\t{{.CreatedSince}}' <<<'[]'
	[ "$output" = "IMAGE ID   CREATED" ]
}

@test "a template error names its position" {
	run --separate-stderr r '{{.Repository}} {{nosuch .Tag}}'
	[ "$status" -eq 1 ]
	[ "$stderr" = 'template: 1:19: function "nosuch" not defined' ]
	run --separate-stderr r '{{if .Tag}}x'
	[ "$status" -eq 1 ]
	[[ "$stderr" == 'template: 1:3: '*'{{end}}'* ]]
	run --separate-stderr r '{{.Tag'
	[ "$status" -eq 1 ]
	[ "$stderr" = 'template: 1:1: unclosed action' ]
	run --separate-stderr r '{{.Repository.X}}'
	[ "$status" -eq 1 ]
	[[ "$stderr" == 'template: 1:3: '* ]]
}

@test "Docker's sizes (powers of 1000) and times" {
	for pair in 0:0B 999:999B 1000:1kB 4261000:4.26MB 999600:1MB 1234567890:1.23GB -1:N/A; do
		run "$FORMAT_RENDER" --size "${pair%%:*}"
		[ "$output" = "${pair#*:}" ] || { echo "${pair%%:*} -> $output"; false; }
	done
	t=1704067200 # 2024-01-01T00:00:00Z
	for pair in 0:"Less than a second ago" 30:"30 seconds ago" 90:"About a minute ago" \
		3600:"About an hour ago" 7200:"2 hours ago" 259200:"3 days ago" \
		1814400:"3 weeks ago" 15552000:"6 months ago" 94608000:"3 years ago"; do
		run "$FORMAT_RENDER" --since 2024-01-01T00:00:00Z $((t + ${pair%%:*}))
		[ "$output" = "${pair#*:}" ] || { echo "${pair%%:*} -> $output"; false; }
	done
	run "$FORMAT_RENDER" --since 2024-01-01T02:00:00+02:00 $((t + 7200))
	[ "$output" = "2 hours ago" ]
	run "$FORMAT_RENDER" --since garbage 0
	[ "$output" = "N/A" ]
}
