-- ctx.images, ctx.storage and ctx.cgroups from Lua (bindings/lua/image.c,
-- storage.c, cgroup.c), run by tests/lua/run.sh against a registry this file
-- starts (Debian's docker-registry on 127.0.0.1, seeded by skopeo with the
-- images tests/integration/lib/registry-mkimage.py builds offline) and a
-- store in a temporary directory. Skipped without docker-registry, skopeo
-- or root. The last line is "N passed, M failed".

local berth = require "berth"

package.path = (arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path
local h = require "harness"
local test, eq, check = h.test, h.eq, h.check
local function sh(cmd) return os.execute(cmd) end
local function read(cmd)
	local p = io.popen(cmd)
	local out = p:read("a")
	p:close()
	return out
end
local function mounted(path)
	return read("awk '{print $5}' /proc/self/mountinfo"):find("\n" .. path .. "\n", 1, true) ~= nil
end

local function have(tool) return sh("command -v " .. tool .. " >/dev/null 2>&1") end
if not (have("docker-registry") and have("skopeo")) or read("id -u") ~= "0\n" then
	print("SKIP: needs root, docker-registry and skopeo")
	os.exit(77)
end

local srcdir = os.getenv("top_srcdir") or "."
-- helpers run without the ASan runtime run.sh preloads for this interpreter
local PY = "env -u LD_PRELOAD /usr/bin/python3"
local dir = read("mktemp -d /tmp/berth-lua-images-XXXXXX"):gsub("\n", "")
local reg, pid = read(string.format(PY .. " %s/tests/integration/lib/registry-serve.py %s busybox:busybox multi:multi",
	srcdir, dir)):match("^(%S+) (%d+)")
local started = reg ~= nil
reg = reg or "127.0.0.1:1"

local ctx = berth.context{root = dir .. "/root", runroot = dir .. "/run"}
local BUSYBOX = reg .. "/berth-test/busybox"

test("the registry runs", function() check(started, "registry did not start") end)

test("images:pull with progress returns an image", function()
	local stages = {}
	local img = assert(ctx.images:pull(reg .. "/berth-test/multi", {
		progress = function(stage, digest, done, total) stages[#stages + 1] = stage end }))
	eq(stages[1], "resolving", "first stage")
	eq(stages[#stages], "done", "last stage")
	check(tostring(img):find("berth.image sha256:", 1, true), tostring(img))
	eq(img:tags()[1], reg .. "/berth-test/multi:latest", "tag")
	eq(img:labels()["org.example.test"], "multi", "label")
	local a = img:attrs()
	eq(a.architecture, "amd64", "arch")
	eq(a.os, "linux", "os")
	eq(a.entrypoint[1], "/bin/sh", "entrypoint")
	eq(a.cmd[1], "echo hi", "cmd")
	eq(#a.layers, 4, "layers")
	eq(#img:history(), 5, "history")
	check(a.config_json:find('"rootfs"', 1, true) and a.manifest_json:find("schemaVersion", 1, true))
	eq(#a.exposed_ports, 2, "ports")
	eq(a.id, img:id(), "id")
	eq(a.digest, img:digest(), "digest")
	check(a.size > 50 * 1024 * 1024, "size")
end)

test("a progress function that errors cancels and leaves the store", function()
	local before = read("cd " .. dir .. "/root && find . | sort && find . -type f | sort | xargs sha256sum")
	local calls = 0
	local ok, err = pcall(ctx.images.pull, ctx.images, BUSYBOX, {
		progress = function(stage) calls = calls + 1; if stage ~= "resolving" then error("stop here") end end })
	check(not ok and tostring(err):find("stop here", 1, true), tostring(err))
	eq(read("cd " .. dir .. "/root && find . | sort && find . -type f | sort | xargs sha256sum"), before, "store")
	eq(calls, 2, "calls: none after the error")
	local img, msg, code = ctx.images:pull(BUSYBOX, {progress = function(stage) return stage ~= "resolving" end})
	eq(img, nil, "cancelled pull")
	eq(code, "ECANCELED", msg)
end)

test("get, list, tags, tag, untag, remove, prune", function()
	local img = assert(ctx.images:pull(BUSYBOX))
	check(ctx.images:get(BUSYBOX) == img, "get by reference")
	check(ctx.images:get(img:id()) == img, "get by id")
	check(ctx.images:get(img:id():sub(8, 20)) == img, "get by id prefix")
	local n = 0
	for i in ctx.images:list() do n = n + 1; check(i:id():find("^sha256:")) end
	eq(n, 2, "images")
	assert(ctx.images:tag(BUSYBOX, "berth-test/other:v1"))
	local refs = {}
	for ref, digest, size in ctx.images:tags() do refs[#refs + 1] = ref; check(size > 0 and digest) end
	eq(#refs, 3, "tags")
	local _, msg, code = ctx.images:remove(img:id())
	eq(code, "EBUSY", msg)
	assert(ctx.images:untag("berth-test/other:v1"))
	_, msg, code = ctx.images:untag("berth-test/other:v1")
	eq(code, "ENOTFOUND", msg)
	assert(ctx.images:remove(reg .. "/berth-test/multi", {force = true}))
	local blobs, bytes = ctx.images:prune()
	check(math.type(blobs) == "integer" and math.type(bytes) == "integer")
	local none, m2, c2, num, errno = ctx.images:get("berth-test/none")
	check(none == nil and c2 == "ENOTFOUND" and num == berth.errors.ENOTFOUND and errno == 0, m2)
	_, msg, code = ctx.images:pull("BAD/Name")
	eq(code, "EINVAL", msg)
	_, msg, code = ctx.images:pull(reg .. "/berth-test/absent")
	eq(code, "ENOTFOUND", msg)
	img:close()
	local ok, err = pcall(img.id, img)
	check(not ok and err:find("closed", 1, true), err)
end)

test("resolve, blob, open_blob, leftover_bytes, commit, login, logout", function()
	local img = assert(ctx.images:get(BUSYBOX))
	local digest, media_type = assert(ctx.images:resolve(BUSYBOX))
	eq(digest, img:digest(), "resolve")
	check(media_type:find("manifest", 1, true))
	local config = assert(ctx.images:blob(img:id()))
	check(config:find('"rootfs"', 1, true))
	local _, msg, code = ctx.images:blob(img:id(), 10)
	eq(code, "EINVAL", msg)
	local file, size = assert(ctx.images:open_blob(img:layers()[1].digest))
	eq(#file:read("a"), size, "blob size")
	file:close()
	eq(ctx.images:leftover_bytes(), 0, "leftovers")
	sh(string.format("mkdir -p %s/layer && echo hi > %s/layer/hello && tar -C %s/layer -cf %s/layer.tar hello", dir, dir, dir, dir))
	local tar = assert(io.open(dir .. "/layer.tar", "rb"))
	local new = assert(ctx.images:commit(BUSYBOX, tar, {tag = "berth-test/committed:v1", comment = "lua"}))
	tar:close()
	eq(#new:layers(), #img:layers() + 1, "committed layers")
	eq(new:history()[1].comment, "lua", "comment")
	local auth = dir .. "/auth.json"
	assert(ctx.images:login(reg, "berth", "secret", {auth_file = auth}))
	assert(ctx.images:logout(reg, {auth_file = auth}))
	_, msg, code = ctx.images:logout(reg, {auth_file = auth})
	eq(code, "ENOTFOUND", msg)
end)

test("parse_reference", function()
	local r = assert(berth.parse_reference("busybox"))
	eq(r.string, "docker.io/library/busybox:latest", "string")
	eq(r.familiar, "busybox:latest", "familiar")
	eq(r.domain, "docker.io", "domain")
	eq(r.path, "library/busybox", "path")
	eq(r.name, "docker.io/library/busybox", "name")
	eq(r.familiar_name, "busybox", "familiar_name")
	eq(r.tag, "latest", "tag")
	eq(r.digest, nil, "digest")
	local _, msg, code = berth.parse_reference("Busybox")
	eq(code, "EINVAL", msg)
end)

test("storage: unpack, layers, mounts with <close>, release", function()
	local seen = 0
	assert(ctx.storage:unpack(BUSYBOX, {progress = function(layer, done, total) seen = seen + 1 end}))
	local layers = assert(ctx.storage:layers(BUSYBOX))
	check(layers[1].diff_id:find("^sha256:") and layers[1].chain_id and layers[1].unpacked_size > 0)
	local path
	do
		local m <close> = assert(ctx.storage:mount(BUSYBOX))
		path = m:path()
		local bin = assert(io.open(path .. "/bin/busybox"))
		bin:close()
		check(mounted(path), path)
		check(tostring(m):find("berth.mount image", 1, true))
	end
	check(not mounted(path), "unmounted by <close>")
	local _, msg, code = ctx.storage:unmount(BUSYBOX)
	eq(code, "ENOTFOUND", msg)
	local m = assert(ctx.storage:mount(BUSYBOX))
	assert(m:unmount())
	assert(m:unmount())
	_, msg, code = ctx.storage:layers("berth-test/none")
	eq(code, "ENOTFOUND", msg)
	local ok, err = pcall(ctx.storage.unpack, ctx.storage, BUSYBOX, {progress = 5})
	check(not ok and err:find("function expected", 1, true), err)
end)

test("storage: snapshots, diff, export, copies, usage, prune", function()
	local id = "bt-lua-" .. tostring(os.time())
	assert(ctx.storage:snapshot_create(id, BUSYBOX, {driver = "overlay"}))
	local _, msg, code = ctx.storage:snapshot_create(id, BUSYBOX)
	eq(code, "EEXISTS", msg)
	eq(ctx.storage:snapshot_driver(id), "overlay", "driver")
	do
		local m <close> = assert(ctx.storage:snapshot_mount(id))
		local out = assert(io.open(m:path() .. "/new-file", "w"))
		out:write("hello\n")
		out:close()
	end
	local diff = assert(io.open(dir .. "/diff.tar", "wb"))
	assert(ctx.storage:snapshot_diff(id, diff))
	diff:close()
	check(read("tar -tf " .. dir .. "/diff.tar"):find("new-file", 1, true), "diff")
	local exp = assert(io.open(dir .. "/export.tar", "wb"))
	assert(ctx.storage:snapshot_export(id, exp))
	exp:close()
	check(read("tar -tf " .. dir .. "/export.tar"):find("bin/busybox", 1, true), "export")
	assert(ctx.storage:snapshot_unmount(id))
	assert(ctx.storage:snapshot_remove(id))
	_, msg, code = ctx.storage:snapshot_remove(id)
	eq(code, "ENOTFOUND", msg)
	sh(string.format("mkdir -p %s/rootfs/etc && echo hi > %s/rootfs/etc/motd", dir, dir))
	local out = assert(io.open(dir .. "/cp.tar", "wb"))
	assert(ctx.storage:copy_out(dir .. "/rootfs", "/etc/motd", out, "greeting"))
	out:close()
	eq(read("tar -tf " .. dir .. "/cp.tar"), "greeting\n", "copy_out")
	local inp = assert(io.open(dir .. "/cp.tar", "rb"))
	assert(ctx.storage:copy_in(dir .. "/rootfs", "/", inp))
	inp:close()
	check(io.open(dir .. "/rootfs/greeting"), "copied in")
	sh(string.format(PY .. [[ -c 'import io, tarfile, sys
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("../escaped"); i.size = 1; t.addfile(i, io.BytesIO(b"x"))' %s/bad.tar]], dir))
	local bad = assert(io.open(dir .. "/bad.tar", "rb"))
	_, msg, code = ctx.storage:copy_in(dir .. "/rootfs/etc", "/", bad)
	bad:close()
	eq(code, "ESCAPE", msg)
	local usage = assert(ctx.storage:usage())
	check(usage.images.bytes > 0 and usage.layers.items >= 1 and usage.containers, "usage")
	check(math.type(ctx.storage:prune()) == "integer", "prune")
end)

test("cgroups: detect, info, a cgroup made, used and removed", function()
	local mode, controllers = ctx.cgroups:detect()
	check(mode == "v1" or mode == "v2" or mode == "hybrid", mode)
	check(#controllers > 0, "controllers")
	eq(ctx.cgroups:info().mode, mode, "info")
	local id = "bt-lua-" .. tostring(os.time())
	local path = "/berth-test/" .. id
	local cg = assert(ctx.cgroups:create(id, path))
	local child = io.popen("sh -c 'echo $$; exec sleep 60'")
	local pid = math.tointeger(tonumber(child:read("l")))
	local ok, err = pcall(function()
		eq(cg:path(), path, "path")
		local _, msg, code = ctx.cgroups:create(id, path)
		eq(code, "EEXISTS", msg)
		assert(cg:attach(pid))
		eq(cg:pids()[1], pid, "pids")
		assert(cg:set_resources('{"pids": {"limit": 10}}'))
		eq(cg:stats().pids_limit, 10, "pids_limit")
		_, msg, code = cg:set_resources('{"pids": {"limit": "ten"}}')
		eq(code, "EINVAL", msg)
		assert(cg:freeze())
		assert(cg:thaw())
		do
			local same <close> = assert(ctx.cgroups:open(id, path))
			eq(#same:pids(), 1, "opened")
		end
		assert(cg:kill())
		assert(cg:remove())
	end)
	child:close()
	local left = ctx.cgroups:open(id, path)
	if left then left:kill(); left:remove() end
	check(ok, err)
	local _, msg, code = ctx.cgroups:open(id, path)
	eq(code, "ENOTFOUND", msg)
	_, msg, code = ctx.cgroups:create("bt-lua-esc", "/berth-test/../../x")
	eq(code, "ESCAPE", msg)
	cg:close()
	local ok2, err2 = pcall(cg.pids, cg)
	check(not ok2 and err2:find("closed", 1, true), err2)
end)

test("collections and images keep their context alive", function()
	local images = berth.context{root = dir .. "/root", runroot = dir .. "/run"}.images
	local img = assert(images:get(BUSYBOX))
	collectgarbage()
	collectgarbage()
	check(images:get(img:id()) == img, "the collected-looking context is still open")
	img = nil
	collectgarbage()
	local n = 0
	for _ in images:list() do n = n + 1 end
	check(n >= 1, "list after collection")
end)

test("a closed context makes every collection raise", function()
	local c = berth.context{root = dir .. "/root2", runroot = dir .. "/run2"}
	local images, storage, cgroups = c.images, c.storage, c.cgroups
	c:close()
	for _, call in ipairs{function() return images:list() end, function() return storage:usage() end,
			function() return cgroups:detect() end, function() return c.images end} do
		local ok, err = pcall(call)
		check(not ok and tostring(err):find("closed", 1, true), tostring(err))
	end
end)

ctx:close()
if pid then sh("kill " .. pid) end
sh(string.format("awk -v t='%s/' 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r | xargs -r umount -l; rm -rf %s", dir, dir))
h.finish()
