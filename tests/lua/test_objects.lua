-- ctx.containers, ctx.volumes and their objects (bindings/lua/objects.c) on
-- the real store and kernel: root and skopeo needed (exit 77 otherwise).
-- Every container and volume a test makes is removed, even on failure.
-- ctx.networks is tested in test_network.lua, inside a namespace of its own.
local berth = require "berth"
local h = dofile(os.getenv("top_srcdir") .. "/tests/lua/harness.lua")
local test, eq, check = h.test, h.eq, h.check

local top_srcdir = os.getenv("top_srcdir")
local function sh(cmd) return os.execute("LD_PRELOAD= " .. cmd) == true end
if not (top_srcdir and sh("[ \"$(id -u)\" = 0 ] && command -v skopeo >/dev/null") and os.getenv("BERTH_MONITOR")) then
	print("skip    container objects (need root, skopeo and make check's environment)")
	os.exit(77)
end
local dir = io.popen("LD_PRELOAD= mktemp -d /tmp/berth-lua-obj-XXXXXX"):read("l")
assert(sh(string.format(
	"/usr/bin/python3 %s/tests/integration/lib/registry-mkimage.py %s/layout >/dev/null && " ..
	"mkdir -p %s/root/content && skopeo copy -q oci:%s/layout:busybox " ..
	"oci:%s/root/content:docker.io/library/busybox:latest", top_srcdir, dir, dir, dir, dir)))
local ctx = assert(berth.context{root = dir .. "/root", runroot = dir .. "/run"})
local LOOP = {"sh", "-c", "echo started; while :; do sleep 1; done"}

local function count(iter)
	local n = 0
	for _ in iter do n = n + 1 end
	return n
end

test("containers:run returns stdout, the exit code and stderr", function()
	local out, code, err = ctx.containers:run{image = "busybox", command = {"sh", "-c", "echo hi; echo e >&2"},
		remove = true}
	eq(out, "hi\n"); eq(code, 0); eq(err, "e\n")
	out, code, err = ctx.containers:run{image = "busybox", command = {"sh", "-c", "echo no >&2; exit 3"},
		remove = true, environment = nil, env = {"A=b"}}
	eq(out, ""); eq(code, 3); eq(err, "no\n")
	eq(#ctx:container_ids(), 0, "removed")
end)

test("containers:run without remove keeps it; errors as nil, message, code", function()
	local out, code = ctx.containers:run{image = "busybox", command = {"true"}, name = "lua-kept"}
	eq(code, 0, out)
	local c = assert(ctx.containers:get("lua-kept"))
	eq(c:name(), "lua-kept"); eq(c:status(), "exited"); eq(#c:id(), 64)
	local ok, msg, name = ctx.containers:run{image = "busybox", command = {"true"}, name = "lua-kept"}
	check(ok == nil and name == "EEXISTS", msg)
	ok, msg, name = ctx.containers:run{image = "no-such-image", command = {"true"}}
	check(ok == nil and name == "ENOTFOUND", msg)
	ok, msg, name = ctx.containers:run{image = "busybox", command = {"/no/such"}, remove = true}
	check(ok == nil and name == "ENOTFOUND", msg)
	ok, msg, name = ctx.containers:get("lua-nobody")
	check(ok == nil and name == "ENOTFOUND", msg)
	check(not pcall(ctx.containers.run, ctx.containers, {command = {"true"}}), "image is required")
	check(not pcall(ctx.containers.run, ctx.containers, {image = "busybox", bogus = 1}), "unknown option")
	eq(#ctx:container_ids(), 1, "only lua-kept")
	assert(c:remove())
end)

test("a detached container's methods", function()
	local c = assert(ctx.containers:run{image = "busybox", command = LOOP, detach = true, name = "lua-life",
		labels = {"tier=web"}, init = true})
	eq(tostring(c), "berth.container: " .. c:id())
	eq(c:status(), "running")
	eq(c:attrs().Config.Labels.tier, "web")
	check(c == assert(ctx.containers:get("lua-life")), "__eq")
	for _ = 1, 50 do
		if c:logs() == "started\n" then break end
		os.execute("sleep 0.1")
	end
	eq(c:logs(), "started\n"); eq(c:logs{stdout = false}, ""); eq(c:logs{tail = 0}, "")
	eq(c:logs{tail = 5}, "started\n")
	local code, out = c:exec({"sh", "-c", "exit 4"})
	eq(code, 4, out)
	assert(c:pause()); eq(c:status(), "paused"); assert(c:unpause())
	check(c:top():find("sleep", 1, true), "top")
	check(assert(c:stats()).pids_current >= 1, "stats")
	local ok, msg, name = c:wait(0.2)
	check(ok == nil and name == "ETIMEOUT", msg)
	assert(c:kill(15))
	eq(assert(c:wait(10)), 143)
	ok, msg, name = c:stop()
	check(ok == nil and name == "ESTATE", msg)
	assert(c:restart()); eq(c:status(), "running")
	assert(c:rename("lua-renamed")); eq(c:name(), "lua-renamed")
	assert(c:remove(true))
	ok, msg, name = c:status()
	check(ok == nil and name == "ENOTFOUND", msg)
end)

test("containers:list iterates the running ones, or all; prune", function()
	local up = assert(ctx.containers:run{image = "busybox", command = LOOP, detach = true, name = "lua-up"})
	local down = assert(ctx.containers:create{image = "busybox", command = {"true"}, name = "lua-down"})
	eq(down:status(), "created")
	local seen = {}
	for c in ctx.containers:list() do seen[#seen + 1] = c:name() end
	eq(table.concat(seen, ","), "lua-up")
	eq(count(ctx.containers:list{all = true}), 2)
	local ids = assert(ctx.containers:prune())
	eq(#ids, 1); eq(ids[1], down:id())
	assert(up:remove(true))
	eq(count(ctx.containers:list{all = true}), 0)
end)

test("objects keep their context; a closed one raises", function()
	local c2 = assert(berth.context{root = dir .. "/root", runroot = dir .. "/run"})
	local containers = c2.containers
	local c = assert(containers:create{image = "busybox", command = {"true"}, name = "lua-alive"})
	c2 = nil
	collectgarbage(); collectgarbage()
	eq(c:name(), "lua-alive", "still usable: it holds its context")
	ctx:close()
	ctx = assert(berth.context{root = dir .. "/root", runroot = dir .. "/run"})
	assert(ctx.containers:get("lua-alive")):remove()
	local closing = assert(berth.context{root = dir .. "/root", runroot = dir .. "/run"})
	local cs = closing.containers
	closing:close()
	check(not pcall(cs.list, cs), "a closed context raises")
	check(not pcall(cs.run, cs, {image = "busybox"}), "a closed context raises")
end)

test("volumes: create, get, list, remove, prune", function()
	local v = assert(ctx.volumes:create("lua-data", {labels = {"tier=db"}}))
	eq(v:name(), "lua-data"); eq(v:id(), "lua-data")
	eq(v:attrs().Labels.tier, "db")
	check(v == assert(ctx.volumes:get("lua-data")), "__eq")
	local anon = assert(ctx.volumes:create())
	eq(#anon:name(), 64)
	eq(count(ctx.volumes:list()), 2)
	eq(count(ctx.volumes:list({"label=tier=db"})), 1)
	local out, code = ctx.containers:run{image = "busybox", command = {"sh", "-c", "echo kept > /d/f; cat /d/f"},
		volumes = {"lua-data:/d"}, remove = true}
	eq(out, "kept\n", code)
	local user = assert(ctx.containers:create{image = "busybox", command = {"true"}, volumes = {"lua-data:/d"}})
	local ok, msg, name = v:remove()
	check(ok == nil and name == "EBUSY", msg)
	assert(user:remove())
	local ok2, msg2, name2 = ctx.volumes:get("lua-none")
	check(ok2 == nil and name2 == "ENOTFOUND", msg2)
	local names = assert(ctx.volumes:prune())
	eq(#names, 2)
	eq(count(ctx.volumes:list()), 0)
end)

for _, id in ipairs(ctx:container_ids() or {}) do ctx:container_remove(id, true) end
for _, name in ipairs(ctx:volume_names() or {}) do ctx:volume_remove(name, true) end
ctx:close()
sh(string.format("grep -o ' %s/[^ ]*' /proc/self/mounts | sort -r | xargs -r umount -l; rm -rf %s", dir, dir))
h.finish()
