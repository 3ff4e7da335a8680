-- Tests of the Lua binding (bindings/lua/berth.c), run by tests/lua/run.sh:
--   LUA_CPATH="$top_builddir/bindings/lua/.libs/?.so;;" lua5.4 test_berth.lua
-- A tiny harness of its own; the last line is "N passed, M failed".

local berth = require "berth"

local passed, failed = 0, 0

local function test(name, fn)
	local ok, err = xpcall(fn, debug.traceback)
	if ok then
		passed = passed + 1
		print("ok      " .. name)
	else
		failed = failed + 1
		print("FAILED  " .. name .. "\n        " .. tostring(err):gsub("\n", "\n        "))
	end
end

local function fmt(v)
	return type(v) == "string" and string.format("%q", v) or tostring(v)
end

local function eq(got, want, what)
	if got ~= want then
		error(string.format("%s: got %s, want %s", what or "value", fmt(got), fmt(want)), 2)
	end
end

local function check(cond, what)
	if not cond then error(what or "check failed", 2) end
end

-- fn(...) must raise an error whose message contains `pattern` (plain text).
local function raises(pattern, fn, ...)
	local ok, err = pcall(fn, ...)
	if ok then error("no error raised; wanted one containing " .. fmt(pattern), 2) end
	if not tostring(err):find(pattern, 1, true) then
		error(string.format("error %s does not contain %s", fmt(tostring(err)), fmt(pattern)), 2)
	end
end

local function contains(list, value)
	for _, v in ipairs(list) do
		if v == value then return true end
	end
	return false
end

local function exists(path)
	return os.rename(path, path) ~= nil
end

-- Paths under a reserved temporary name. Creating a context creates nothing
-- on disk, so the directories are only removed should one appear.
local tmpbase = os.tmpname()
local root = tmpbase .. ".d/root"
local runroot = tmpbase .. ".d/run"

-- ---- versions and features -----------------------------------------------

test("version() matches include/berth/version.h", function()
	local builddir = os.getenv("top_builddir")
	check(builddir and builddir ~= "", "top_builddir is not set")
	local f = assert(io.open(builddir .. "/include/berth/version.h"))
	local text = f:read("a")
	f:close()
	local want = text:match('#define%s+BERTH_VERSION_STRING%s+"([^"]*)"')
	check(want, "no BERTH_VERSION_STRING in version.h")
	eq(berth.version(), want, "berth.version()")
	local major, minor, patch = berth.version_info()
	eq(major, tonumber(text:match("#define%s+BERTH_VERSION_MAJOR%s+(%d+)")), "major")
	eq(minor, tonumber(text:match("#define%s+BERTH_VERSION_MINOR%s+(%d+)")), "minor")
	eq(patch, tonumber(text:match("#define%s+BERTH_VERSION_PATCH%s+(%d+)")), "patch")
	eq(math.type(major), "integer", "math.type(major)")
	eq(string.format("%d.%d.%d", major, minor, patch), want, "version_info() joined")
end)

test("has_feature", function()
	eq(berth.has_feature("digest"), true, 'has_feature("digest")')
	eq(berth.has_feature("nope"), false, 'has_feature("nope")')
	eq(berth.has_feature(""), false, 'has_feature("")')
	eq(type(berth.has_feature("seccomp")), "boolean", 'type(has_feature("seccomp"))')
	raises("string expected", berth.has_feature)
	raises("string expected", berth.has_feature, {})
end)

test("features() lists the known features", function()
	local names = berth.features()
	eq(type(names), "table", "type(features())")
	check(contains(names, "seccomp"), "features() lacks seccomp")
	check(contains(names, "digest"), "features() lacks digest")
	for _, name in ipairs(names) do
		eq(type(berth.has_feature(name)), "boolean", "has_feature(" .. name .. ")")
	end
	check(berth.features() ~= names, "features() should return a fresh table")
end)

-- ---- errors ----------------------------------------------------------------

test("errors maps names to codes and codes to names", function()
	eq(berth.errors.EINVAL, -2, "errors.EINVAL")
	eq(berth.errors[-2], "EINVAL", "errors[-2]")
	eq(berth.errors.OK, 0, "errors.OK")
	eq(berth.errors.ERROR, -1, "errors.ERROR")
	eq(berth.errors.ENOTFOUND, -3, "errors.ENOTFOUND")
	eq(berth.errors.ESCAPE, -15, "errors.ESCAPE")
	local names = 0
	for k, v in pairs(berth.errors) do
		if type(k) == "string" then
			names = names + 1
			eq(berth.errors[v], k, "errors[errors." .. k .. "]")
		else
			eq(berth.errors[v], k, "errors[errors[" .. k .. "]]")
		end
	end
	eq(names, 17, "number of error names (BERTH_OK .. BERTH_ETIMEOUT)")
	for code = -16, 0 do
		check(berth.errors[code], "no name for code " .. code)
	end
end)

-- ---- contexts --------------------------------------------------------------

test("context returns the given root and runroot", function()
	local ctx = assert(berth.context{ root = root, runroot = runroot })
	eq(ctx:root(), root, "root()")
	eq(ctx:runroot(), runroot, "runroot()")
	eq(ctx:log_level(), "warn", "default log_level()")
	eq(tostring(ctx), "berth.context (root " .. root .. ")", "tostring")
	check(not exists(tmpbase .. ".d"), "creating a context created " .. tmpbase .. ".d")
	ctx:close()
end)

test("trailing slashes are stripped", function()
	local ctx = assert(berth.context{ root = root .. "/", runroot = runroot .. "///" })
	eq(ctx:root(), root, "root()")
	eq(ctx:runroot(), runroot, "runroot()")
	ctx:close()
	ctx = assert(berth.context{ root = "/", runroot = "//" })
	eq(ctx:root(), "/", 'root() for "/"')
	eq(ctx:runroot(), "/", 'runroot() for "//"')
	ctx:close()
end)

test("context with no options uses absolute defaults", function()
	for _, ctx in ipairs{ assert(berth.context()), assert(berth.context{}), assert(berth.context(nil)) } do
		eq(ctx:root():sub(1, 1), "/", "default root is absolute")
		eq(ctx:runroot():sub(1, 1), "/", "default runroot is absolute")
		ctx:close()
	end
end)

test("relative root: nil, message, EINVAL, code", function()
	local ctx, msg, code, num = berth.context{ root = "relative/store", runroot = runroot }
	eq(ctx, nil, "context")
	eq(type(msg), "string", "type(message)")
	check(msg:find("absolute", 1, true), "message lacks 'absolute': " .. msg)
	check(msg:find("relative/store", 1, true), "message lacks the path: " .. msg)
	eq(code, "EINVAL", "code name")
	eq(num, berth.errors.EINVAL, "numeric code")
end)

test("relative runroot: nil, message, EINVAL", function()
	local ctx, msg, code = berth.context{ root = root, runroot = "run" }
	eq(ctx, nil, "context")
	check(msg:find("absolute", 1, true), "message lacks 'absolute': " .. msg)
	eq(code, "EINVAL", "code name")
end)

test("log_level names", function()
	for given, want in pairs{ error = "error", warn = "warn", warning = "warn", info = "info",
				  debug = "debug", DEBUG = "debug" } do
		local ctx = assert(berth.context{ root = root, log_level = given })
		eq(ctx:log_level(), want, "log_level() for " .. given)
		ctx:close()
	end
end)

test("bad log_level: nil, message, EINVAL", function()
	local ctx, msg, code, num = berth.context{ root = root, log_level = "chatty" }
	eq(ctx, nil, "context")
	check(msg:find("chatty", 1, true), "message lacks the level: " .. msg)
	eq(code, "EINVAL", "code name")
	eq(num, -2, "numeric code")
end)

test("wrong argument types raise errors", function()
	raises("table expected", berth.context, "/root")
	raises("bad option 'root'", berth.context, { root = 42 })
	raises("bad option 'runroot'", berth.context, { runroot = true })
	raises("bad option 'log_level'", berth.context, { log_level = 3 })
	raises("bad option 'log'", berth.context, { log = "print" })
	raises("unknown option 'rooot'", berth.context, { rooot = root })
	raises("unknown option", berth.context, { root })
	local ctx = assert(berth.context{ root = root })
	raises("berth.context expected", ctx.root, {})
	raises("berth.context expected", ctx.info, io.stdout)
	ctx:close()
end)

test("info() has the documented keys in order", function()
	local ctx = assert(berth.context{ root = root, runroot = runroot })
	local t, keys = ctx:info()
	eq(type(t), "table", "type(info)")
	eq(type(keys), "table", "type(keys)")
	eq(keys[1], "version", "first key")
	for _, key in ipairs{ "version", "root", "runroot", "kernel", "namespaces", "overlayfs",
			      "cgroup.mode", "seccomp", "features", "inflate.gzip" } do
		eq(type(t[key]), "string", "type(info[" .. key .. "])")
		check(contains(keys, key), "keys lack " .. key)
	end
	local n = 0
	for k, v in pairs(t) do
		n = n + 1
		eq(type(v), "string", "type(info[" .. k .. "])")
		check(contains(keys, k), "keys lack " .. k)
	end
	eq(#keys, n, "#keys")
	eq(t.version, berth.version(), "info.version")
	eq(t.root, root, "info.root")
	eq(t.runroot, runroot, "info.runroot")
	check(t.overlayfs == "yes" or t.overlayfs == "no", "overlayfs is " .. t.overlayfs)
	check(t.seccomp == "yes" or t.seccomp == "no", "seccomp is " .. t.seccomp)
	eq(t.seccomp == "yes", berth.has_feature("seccomp"), "info.seccomp vs has_feature")
	eq(t["inflate.gzip"], berth.has_feature("isal") and "isa-l" or "zlib", "info inflate.gzip vs has_feature")
	check(({ v1 = true, v2 = true, hybrid = true, none = true })[t["cgroup.mode"]],
	      "cgroup.mode is " .. t["cgroup.mode"])
	ctx:close()
end)

-- ---- logging ---------------------------------------------------------------

local function collector()
	local lines = {}
	return lines, function(level, module, message)
		lines[#lines + 1] = { level = level, module = module, message = message }
	end
end

test("log callback gets the debug line at log_level debug", function()
	local lines, log = collector()
	local ctx = assert(berth.context{ root = root, runroot = runroot, log = log, log_level = "debug" })
	local want = "context: root " .. root .. ", runroot " .. runroot
	local found = false
	for _, l in ipairs(lines) do
		eq(type(l.level), "string", "type(level)")
		if l.module == "common" and l.message == want then
			eq(l.level, "debug", "level")
			found = true
		end
	end
	check(found, "no line " .. fmt(want) .. " from module common among " .. #lines .. " lines")
	ctx:close()
end)

test("log callback gets nothing at log_level warn", function()
	local lines, log = collector()
	local ctx = assert(berth.context{ root = root, runroot = runroot, log = log, log_level = "warn" })
	ctx:info()
	eq(#lines, 0, "lines logged")
	ctx:close()
	ctx = assert(berth.context{ root = root, log = log }) -- default level
	eq(#lines, 0, "lines logged at the default level")
	ctx:close()
end)

test("a callable table works as log callback", function()
	local lines, log = collector()
	local callable = setmetatable({}, { __call = function(_, ...) log(...) end })
	local ctx = assert(berth.context{ root = root, log = callable, log_level = "debug" })
	check(#lines > 0, "callable table was not called")
	ctx:close()
end)

test("an erroring log callback does not break context creation", function()
	local calls = 0
	for _, raise in ipairs{ function() error("boom") end, function() error({}) end,
				function() error() end, function() local x = nil; return x.y end } do
		local ctx = assert(berth.context{ root = root, log_level = "debug",
						  log = function(...) calls = calls + 1; raise(...) end })
		eq(ctx:root(), root, "root()")
		ctx:close()
	end
	eq(calls, 4, "callback calls")
end)

test("a log callback that yields or collects garbage is survived", function()
	local ctx = assert(berth.context{ root = root, log_level = "debug",
					  log = function() coroutine.yield(1) end })
	eq(ctx:root(), root, "root() after yield outside a coroutine")
	ctx:close()
	local co = coroutine.wrap(function()
		local c = assert(berth.context{ root = root, log_level = "debug",
						log = function() coroutine.yield("from log") end })
		local r = c:root()
		c:close()
		return r
	end)
	eq(co(), root, "context made in a coroutine whose log callback yields")
	ctx = assert(berth.context{ root = root, log_level = "debug",
				    log = function() collectgarbage() end })
	eq(ctx:root(), root, "root() after collecting in the callback")
	ctx:close()
end)

test("context made in a coroutine logs and outlives it", function()
	local lines, log = collector()
	local ctx = coroutine.wrap(function()
		return assert(berth.context{ root = root, log = log, log_level = "debug" })
	end)()
	collectgarbage()
	check(#lines > 0, "no log lines from a context made in a coroutine")
	eq(ctx:root(), root, "root()")
	ctx:info()
	ctx:close()
end)

-- ---- closing and collecting --------------------------------------------------

test("close twice is fine; use after close raises", function()
	local ctx = assert(berth.context{ root = root })
	ctx:close()
	ctx:close()
	eq(tostring(ctx), "berth.context (closed)", "tostring of a closed context")
	for _, method in ipairs{ "root", "runroot", "log_level", "info" } do
		raises("berth context is closed", ctx[method], ctx)
	end
end)

test("<close> variables close the context", function()
	local ref
	do
		local ctx <close> = assert(berth.context{ root = root })
		ref = ctx
		eq(ctx:root(), root, "root() inside the block")
	end
	raises("berth context is closed", ref.root, ref)

	local ok = pcall(function()
		local ctx <close> = assert(berth.context{ root = root })
		ref = ctx
		error("leaving by an error")
	end)
	check(not ok, "pcall should have failed")
	raises("berth context is closed", ref.root, ref)

	do -- a failed creation gives nil, which <close> accepts
		local ctx <close> = berth.context{ root = "relative" }
		eq(ctx, nil, "failed context")
	end
end)

test("collectgarbage() on unreferenced contexts", function()
	local lines, log = collector()
	for i = 1, 200 do
		local ctx = berth.context{ root = root .. i, log = log, log_level = "debug" }
		if i % 2 == 0 then ctx:close() end
	end
	collectgarbage()
	collectgarbage()
	eq(#lines, 200, "log lines")
end)

test("log functions are released on close and on collection", function()
	local weak = setmetatable({}, { __mode = "k" })
	do
		local f = function() end
		weak[f] = true
		local ctx = berth.context{ root = root, log = f }
		ctx:close()
	end
	do
		local g = function() end
		weak[g] = true
		local _ = berth.context{ root = root, log = g }
	end
	collectgarbage() -- runs the finalizer of the second context
	collectgarbage() -- collects its log function
	eq(next(weak), nil, "a log function is still referenced")
end)

-- ---- holds on images ------------------------------------------------------

-- A minimal OCI layout below dir/content: one image (config and manifest,
-- no layers) tagged `tag`; returns its manifest digest.
local function oci_image(dir, tag)
	local blobs = dir .. "/content/blobs/sha256"
	assert(os.execute("mkdir -p '" .. blobs .. "'"))
	local function write(path, data)
		local f = assert(io.open(path, "wb"))
		f:write(data)
		f:close()
	end
	local function put(data)
		write(blobs .. "/new", data)
		local p = assert(io.popen("sha256sum '" .. blobs .. "/new'"))
		local hex = p:read("a"):match("^(%x+)")
		p:close()
		assert(os.rename(blobs .. "/new", blobs .. "/" .. hex))
		return "sha256:" .. hex, #data
	end
	local cdigest, csize = put('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}')
	local mdigest, msize = put(string.format('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
		.. '"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[]}',
		cdigest, csize))
	write(dir .. "/content/oci-layout", '{"imageLayoutVersion":"1.0.0"}')
	write(dir .. "/content/index.json", string.format('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",'
		.. '"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d,'
		.. '"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}', mdigest, msize, tag))
	return mdigest
end

test("image_hold, image_holds and image_release", function()
	local dir = tmpbase .. ".holds"
	local ctx = assert(berth.context{ root = dir .. "/root", runroot = dir .. "/run" })
	local holds = assert(ctx:image_holds())
	eq(#holds, 0, "holds in a store that does not exist")
	local digest = oci_image(dir .. "/root", "docker.io/library/held:latest")
	eq(ctx:image_hold("held", "container:lua1"), digest, "image_hold's digest")
	eq(ctx:image_hold("held", "container:lua1"), digest, "image_hold twice")
	eq(ctx:image_hold(digest, "container:lua2"), digest, "image_hold by digest")
	holds = assert(ctx:image_holds("held"))
	eq(#holds, 2, "#holds")
	table.sort(holds, function(a, b) return a.holder < b.holder end)
	eq(holds[1].digest, digest, "holds[1].digest")
	eq(holds[1].holder, "container:lua1", "holds[1].holder")
	eq(holds[2].holder, "container:lua2", "holds[2].holder")
	eq(ctx:image_release(digest, "container:lua1"), true, "image_release")
	local r, msg, code = ctx:image_release(digest, "container:lua1")
	eq(r, nil, "a second release")
	eq(code, "ENOTFOUND", "a second release's code")
	check(msg:find("container:lua1", 1, true), "the message names the holder: " .. msg)
	r, msg, code = ctx:image_hold("held", "has space")
	eq(code, "EINVAL", "a holder with a space")
	r, msg, code = ctx:image_hold("nothing-like-it", "container:lua1")
	eq(code, "ENOTFOUND", "an unknown image")
	eq(#assert(ctx:image_holds()), 1, "holds left")
	assert(ctx:image_release(digest, "container:lua2"))
	eq(#assert(ctx:image_holds()), 0, "holds after the last release")
	raises("string expected", ctx.image_hold, ctx)
	ctx:close()
	os.execute("rm -rf '" .. dir .. "'")
end)

os.remove(tmpbase)
os.remove(root)
os.remove(runroot)
os.remove(tmpbase .. ".d")

-- ---- the engine: containers from an image, on the real kernel ----------
-- Needs root and skopeo (the busybox image made offline is copied into a
-- store); every container made is removed.
-- The host's tools run without the ASan runtime run.sh preloads for the
-- module (python3 and sed report leaks of their own under it): env execs
-- sh, so its own exit never runs the leak check.
local function unsanitized(cmd)
	return "env -u LD_PRELOAD ASAN_OPTIONS=detect_leaks=0 sh -c '" .. cmd:gsub("'", "'\\''") .. "'"
end
local function sh(cmd)
	local ok = os.execute(unsanitized(cmd))
	return ok == true or ok == 0
end
local top_srcdir, top_builddir = os.getenv("top_srcdir"), os.getenv("top_builddir")
-- ---- volumes (bindings/lua/volume.c): the store alone --------------------
do
	local vdir = io.popen(unsanitized("mktemp -d /tmp/berth-lua-vol-XXXXXX")):read("l")
	local vctx = assert(berth.context{root = vdir .. "/root", runroot = vdir .. "/run"})

	test("volumes: create, inspect, list, filters, remove", function()
		eq(assert(vctx:volume_create("data", {labels = {"tier=db"}})), "data")
		eq(assert(vctx:volume_create("data")), "data")
		local anon = assert(vctx:volume_create())
		eq(#anon, 64)
		local info = assert(vctx:volume_inspect("data", true))
		check(info:find('"Name": "data"', 1, true) and info:find('"tier": "db"', 1, true) and
			info:find('"UsageData"', 1, true), info)
		local names = assert(vctx:volume_names({"label=tier=db"}))
		eq(#names, 1)
		eq(names[1], "data")
		eq(#assert(vctx:volume_names()), 2)
		local ok, msg, name = vctx:volume_names({"colour=red"})
		eq(name, "EINVAL", msg)
		ok, msg, name = vctx:volume_create("../x")
		eq(name, "EINVAL", msg)
		check(msg:find("invalid characters", 1, true), msg)
		assert(vctx:volume_remove(anon))
		ok, msg, name = vctx:volume_inspect(anon)
		eq(name, "ENOTFOUND", msg)
	end)

	test("volumes: holds refuse removal, prune leaves held ones", function()
		assert(vctx:volume_create("gone"))
		assert(vctx:volume_hold("data", "lua:test"))
		eq(assert(vctx:volume_holders("data"))[1], "lua:test")
		local ok, msg, name = vctx:volume_remove("data")
		eq(name, "EBUSY", msg)
		check(msg:find("lua:test", 1, true), msg)
		local pruned, bytes = assert(vctx:volumes_prune())
		eq(#pruned, 1)
		eq(pruned[1], "gone")
		check(bytes > 0, "bytes reclaimed")
		assert(vctx:volume_release("data", "lua:test"))
		assert(vctx:volume_remove("data"))
		eq(#assert(vctx:volume_names()), 0)
	end)

	vctx:close()
	sh(string.format("rm -rf %s", vdir))
end

local engine_ok = top_srcdir and top_builddir and sh("[ \"$(id -u)\" = 0 ] && command -v skopeo >/dev/null")
if not engine_ok then
	print("skip    engine tests (need root, skopeo and make check's environment)")
else
	local dir = io.popen(unsanitized("mktemp -d /tmp/berth-lua-ct-XXXXXX")):read("l")
	local prepared = sh(string.format(
		"/usr/bin/python3 %s/tests/integration/lib/registry-mkimage.py %s/layout >/dev/null && " ..
		"mkdir -p %s/root/content && skopeo copy -q oci:%s/layout:busybox " ..
		"oci:%s/root/content:docker.io/library/busybox:latest", top_srcdir, dir, dir, dir, dir))
	local ctx = prepared and berth.context{root = dir .. "/root", runroot = dir .. "/run"}

	test("engine: run returns the exit code and the output", function()
		check(prepared and os.getenv("BERTH_MONITOR"), "store prepared and BERTH_MONITOR set by run.sh")
		local code, out = ctx:run("busybox", {"sh", "-c", "echo hi; echo err >&2; exit 3"})
		eq(code, 3, "exit code")
		eq(out, "hi\nerr\n", "output")
		local code2, out2 = ctx:run("busybox", {"sh", "-c", "id; echo $FOO"},
			{user = "1000:1000", env = {"FOO=bar"}, cap_drop = {"ALL"}})
		eq(code2, 0)
		eq(out2, "uid=1000 gid=1000\nbar\n")
		eq(#ctx:container_ids(), 0, "containers left")
	end)

	test("engine: a detached container's life", function()
		local id = assert(ctx:container_create("busybox", {"sh", "-c", "while :; do sleep 1; done"},
			{name = "lua-d", labels = {"a=b"}}))
		eq(#id, 64, "id length")
		assert(ctx:container_start("lua-d"))
		local ok, msg, code = ctx:container_wait("lua-d", 0.2)
		eq(ok, nil); eq(code, "ETIMEOUT")
		ok, msg, code = ctx:container_remove("lua-d")
		eq(code, "ESTATE")
		check(msg:find("container is running", 1, true), msg)
		assert(ctx:container_kill("lua-d", 9))
		local status, oom = ctx:container_wait("lua-d")
		eq(status, 137); eq(oom, false)
		check(ctx:container_inspect(id:sub(1, 8)):find('"Status": "exited"', 1, true), "inspect by prefix")
		assert(ctx:container_remove("lua-d"))
		ok, msg, code = ctx:container_inspect("lua-d")
		eq(code, "ENOTFOUND")
	end)

	test("engine: bad input", function()
		local ok, msg, code = ctx:run("no-such", {"true"})
		eq(code, "ENOTFOUND"); check(msg:find("Unable to find image 'no-such'", 1, true), msg)
		ok, msg, code = ctx:run("busybox", {"true"}, {user = "nobody"})
		eq(code, "ENOTFOUND"); check(msg:find("unable to find user nobody", 1, true), msg)
		raises("unknown container option 'bogus'", ctx.run, ctx, "busybox", {"true"}, {bogus = 1})
		raises("bad 'command'", ctx.run, ctx, "busybox", "echo hi")
		eq(#ctx:container_ids(), 0, "containers left")
	end)

	-- a file's text, and a file to write into (an open Lua file is an fd)
	local function slurp(path)
		local f = assert(io.open(path, "rb")); local t = f:read("a"); f:close(); return t
	end
	local function running(name, opts)
		opts = opts or {}; opts.name = name
		assert(ctx:container_create("busybox", {"sh", "-c", "while :; do sleep 1; done"}, opts))
		assert(ctx:container_start(name))
	end

	test("engine: exec, pause, restart, rename", function()
		running("lua-ops")
		local out = assert(io.open(dir .. "/exec.out", "w"))
		local code = ctx:container_exec("lua-ops", {"sh", "-c", "echo $A $(id -u) $(pwd); exit 4"},
			{env = {"A=b"}, user = "1000", workdir = "/tmp", stdio = {nil, out, out}})
		out:close()
		eq(code, 4, "exec code"); eq(slurp(dir .. "/exec.out"), "b 1000 /tmp\n")
		local got_pid, got_pty
		code = ctx:container_exec("lua-ops", {"true"}, {tty = true,
			started = function(pid, pty) got_pid, got_pty = pid, pty end})
		eq(code, 0); check(got_pid > 0 and math.type(got_pty) == "integer", "started with a pty")
		ctx:container_exec("lua-ops", {"true"}, {stdio = {}, started = function(_, pty) got_pty = pty end})
		eq(got_pty, nil, "no pty without tty")
		raises("from started", ctx.container_exec, ctx, "lua-ops", {"true"},
			{stdio = {}, started = function() error("from started") end})
		assert(ctx:container_pause("lua-ops"))
		check(ctx:container_inspect("lua-ops"):find('"Status": "paused"', 1, true), "paused")
		local ok, msg, name = ctx:container_exec("lua-ops", {"true"}, {stdio = {}})
		eq(ok, nil); eq(name, "ESTATE", msg)
		assert(ctx:container_unpause("lua-ops"))
		ok, msg, name = ctx:container_unpause("lua-ops")
		eq(name, "ESTATE", msg)
		assert(ctx:container_restart("lua-ops", 0))
		assert(ctx:container_create("busybox", {"true"}, {name = "lua-other"}))
		ok, msg, name = ctx:container_rename("lua-ops", "lua-other")
		eq(name, "EEXISTS", msg)
		assert(ctx:container_rename("lua-ops", "lua-renamed"))
		check(ctx:container_inspect("lua-renamed"):find('"Name": "/lua-renamed"', 1, true), "renamed")
		assert(ctx:container_kill("lua-renamed")); ctx:container_wait("lua-renamed")
		ok, msg, name = ctx:container_exec("lua-renamed", {"true"})
		eq(name, "ESTATE", msg)
	end)

	test("engine: top, stats, update, resize", function()
		running("lua-res")
		check(assert(ctx:container_top("lua-res")):find('"Titles"', 1, true), "top")
		assert(ctx:container_update("lua-res", {pids_limit = 50, memory = 64 << 20}))
		local st = assert(ctx:container_stats("lua-res"))
		eq(st.pids_limit, 50); eq(st.memory_limit, 64 << 20); check(st.pids_current >= 1, "pids")
		check(math.type(st.io_read_bytes) == "integer" and math.type(st.io_write_bytes) == "integer", "io bytes")
		local ok, msg, name = ctx:container_update("lua-res", {memory = 64 << 20, memory_swap = 1 << 20})
		eq(name, "EINVAL", msg)
		ok, msg, name = ctx:container_resize("lua-res", 24, 80)
		eq(name, "ESTATE", msg)
		assert(ctx:container_create("busybox", {"sh", "-c", "sleep 1"}, {name = "lua-tty", tty = true}))
		assert(ctx:container_start("lua-tty"))
		assert(ctx:container_resize("lua-tty", 33, 101))
		ctx:container_wait("lua-tty")
		assert(ctx:container_kill("lua-res")); ctx:container_wait("lua-res")
		ok, msg, name = ctx:container_top("lua-res")
		eq(name, "ESTATE", msg)
		ok, msg, name = ctx:container_stats("lua-res")
		eq(name, "ESTATE", msg)
	end)

	test("engine: copies, diff, export, commit", function()
		running("lua-cp")
		check(sh(string.format("cd %s && printf 'hello\\n' > hello.txt && tar cf in.tar hello.txt", dir)), "tar")
		local f = assert(io.open(dir .. "/in.tar", "rb"))
		assert(ctx:container_copy_to("lua-cp", "/tmp", f)); f:close()
		eq(ctx:container_path_is_dir("lua-cp", "/tmp"), true)
		eq(ctx:container_path_is_dir("lua-cp", "/tmp/hello.txt"), false)
		f = assert(io.open(dir .. "/out.tar", "wb"))
		assert(ctx:container_copy_from("lua-cp", "/tmp/hello.txt", f, "x.txt")); f:close()
		check(sh(string.format("[ \"$(tar xOf %s/out.tar x.txt)\" = hello ]", dir)), "copied out")
		check(sh(string.format("/usr/bin/python3 -c 'import tarfile,io; t=tarfile.open(\"%s/bad.tar\",\"w\"); " ..
			"t.addfile(tarfile.TarInfo(\"../../escape\"), io.BytesIO())'", dir)), "bad tar")
		f = assert(io.open(dir .. "/bad.tar", "rb"))
		local ok, msg, name = ctx:container_copy_to("lua-cp", "/tmp", f); f:close()
		eq(name, "ESCAPE", msg)
		f = assert(io.open(dir .. "/out.tar", "wb"))
		ok, msg, name = ctx:container_copy_from("lua-cp", "/no/such", f); f:close()
		eq(name, "ENOTFOUND", msg)
		local diff = assert(ctx:container_diff("lua-cp"))
		check(diff:find('"Path":%s*"/tmp/hello.txt",%s*"Kind":%s*1'), diff)
		f = assert(io.open(dir .. "/exp.tar", "wb"))
		assert(ctx:container_export("lua-cp", f)); f:close()
		check(sh(string.format("tar tf %s/exp.tar | grep -q 'tmp/hello.txt'", dir)), "exported")
		local image = assert(ctx:container_commit("lua-cp", {tag = "lua-committed:1", comment = "lua",
			changes = {'CMD ["cat", "/tmp/hello.txt"]'}}))
		check(image:find("^sha256:"), image)
		local code, out = ctx:run("lua-committed:1")
		eq(code, 0); eq(out, "hello\n")
		ok, msg, name = ctx:container_commit("lua-cp", {tag = "lua-c2", changes = {"BOGUS x"}})
		eq(name, "EINVAL", msg)
		ok, msg, name = ctx:container_diff("no-such")
		eq(name, "ENOTFOUND", msg)
	end)

	test("engine: attach, events, prune, boot", function()
		assert(ctx:container_create("busybox", {"sh", "-c", "sleep 1; echo late; exit 2"}, {name = "lua-at"}))
		assert(ctx:container_start("lua-at"))
		local out = assert(io.open(dir .. "/attach.out", "w"))
		local code, oom = ctx:container_attach("lua-at", {stdout = out, stderr = out})
		out:close()
		eq(code, 2); eq(oom, false); eq(slurp(dir .. "/attach.out"), "late\n")
		ctx:container_wait("lua-at") -- attach may return before the monitor records the end
		local ok, msg, name = ctx:container_attach("lua-at", {stdout = 1})
		eq(name, "ESTATE", msg)
		local seen = {}
		assert(ctx:container_events(function(line) seen[#seen + 1] = line end))
		check(#seen > 2 and seen[1]:find('"Action": ?"create"'), seen[1])
		local n = 0
		assert(ctx:container_events(function() n = n + 1; return true end))
		eq(n, 1, "stopped at the first")
		raises("from the callback", ctx.container_events, ctx, function() error("from the callback") end)
		local now = seen[#seen]:match('"timeNano": ?(%d+)')
		local t0 = os.time()
		n = 0
		assert(ctx:container_events(function() n = n + 1 end,
			{since_ns = math.tointeger(now) + 1, until_ns = math.tointeger(now) + 1, follow = true}))
		eq(n, 0, "nothing after the last"); check(os.time() - t0 < 5, "follow ends past until_ns")
		eq(type(assert(ctx:containers_boot())), "table")
		running("lua-keep")
		local ids, bytes = assert(ctx:containers_prune())
		check(#ids >= 1 and bytes >= 0, "pruned")
		local names = {}
		for _, id in ipairs(ctx:container_ids()) do
			names[#names + 1] = ctx:container_inspect(id):match('"Name": "(/[^"]*)"')
		end
		table.sort(names)
		eq(table.concat(names, ","), "/lua-cp,/lua-keep", "the running ones stay")
	end)

	test("engine: the newer create options", function()
		local code, out = ctx:run("busybox", {"sh", "-c", "ulimit -n; test -c /dev/mynull && echo dev; " ..
			"grep Seccomp: /proc/self/status; df -k /dev/shm | tail -1 | awk '{print $2}'"},
			{init = true, ulimits = {"nofile=512:1024"}, devices = {"/dev/null:/dev/mynull"},
			 seccomp = "unconfined", shm_size = 8 << 20})
		eq(code, 0, out)
		check(out:find("^512\ndev\nSeccomp:%s+0\n8192\n$"), out)
		assert(ctx:container_create("busybox", {"true"}, {name = "lua-opts", open_stdin = true,
			restart = "on-failure:3", log_opts = {"max-size=10m"}, health_cmd = "true",
			health_interval = 2000000000, health_timeout = 1000000000, health_retries = 2}))
		local info = ctx:container_inspect("lua-opts")
		check(info:find('"OpenStdin": true', 1, true), "open_stdin")
		check(info:find('"MaximumRetryCount": 3', 1, true), "restart")
		check(info:find('"max-size": "10m"', 1, true), "log_opts")
		check(info:find('"Retries": 2', 1, true), "health")
		local ok, msg, name = ctx:run("busybox", {"true"}, {ulimits = {"bogus=1"}})
		eq(name, "EINVAL", msg)
		assert(ctx:container_remove("lua-opts"))
	end)

	test("engine: volumes, read-only in one container, removal refused while used", function()
		local code, out = ctx:run("busybox", {"sh", "-c", "echo kept > /d/f"}, {volumes = {"lua-vol:/d"}})
		eq(code, 0, out)
		local id = assert(ctx:container_create("busybox", {"true"}, {volumes = {"lua-vol:/d:ro", "/anon"},
			tmpfs = {"/t:size=64k"}}))
		code, out = ctx:run("busybox", {"sh", "-c", "cat /d/f; echo x > /d/g"}, {volumes_from = {id}})
		check(code ~= 0 and out:find("^kept\n") and out:find("Read-only file system", 1, true), out)
		local ok, msg, name = ctx:volume_remove("lua-vol")
		eq(name, "EBUSY", msg)
		check(msg:find(id, 1, true), msg)
		assert(ctx:container_remove(id, false, true))
		local names = assert(ctx:volume_names())
		eq(#names, 1, table.concat(names, ","))
		eq(names[1], "lua-vol")
		assert(ctx:volume_remove("lua-vol"))
	end)

	if ctx then
		for _, id in ipairs(ctx:container_ids() or {}) do ctx:container_remove(id, true) end
		ctx:close()
	end
	sh(string.format("grep -o ' %s/[^ ]*' /proc/self/mounts | sort -r | xargs -r umount -l; rm -rf %s", dir, dir))
end

print(string.format("%d passed, %d failed", passed, failed))
os.exit(failed == 0 and passed > 0 and 0 or 1, true)
