-- Tests of the Lua binding's runtime (bindings/lua/runtime.c), run by
-- tests/lua/run.sh, which (as root) makes the busybox bundle in
-- $BERTH_TEST_BUNDLE with config-template.json (sh -c @CMD@, cgroup
-- /$BERTH_TEST_CGROUP/@ID@) and removes it and those cgroups at exit.
-- Without it only the tests that need no container run.

local berth = require "berth"

local passed, failed, skipped = 0, 0, 0

local function test(name, fn, needs_bundle)
	if needs_bundle and not os.getenv("BERTH_TEST_BUNDLE") then
		skipped = skipped + 1
		print("skip    " .. name .. " (needs root and $BERTH_TEST_BUNDLE)")
		return
	end
	local ok, err = xpcall(fn, debug.traceback)
	if ok then
		passed = passed + 1
		print("ok      " .. name)
	else
		failed = failed + 1
		print("FAILED  " .. name .. "\n        " .. tostring(err):gsub("\n", "\n        "))
	end
end

local function eq(got, want, what)
	if got ~= want then
		error(string.format("%s: got %s, want %s", what or "value", tostring(got), tostring(want)), 2)
	end
end

local function check(cond, what)
	if not cond then error(what or "check failed", 2) end
end

local tmpbase = os.tmpname()
local root, runroot = tmpbase .. ".d/root", tmpbase .. ".d/run"
local bundle = os.getenv("BERTH_TEST_BUNDLE")

-- the bundle's config running sh -c cmd in a cgroup of the test's
local function config(id, cmd)
	local f = assert(io.open(bundle .. "/config-template.json"))
	local text = f:read("a")
	f:close()
	return (text:gsub("@ID@", id):gsub("@CMD@", cmd))
end

-- creates and starts id with stdout and stderr into a pipe (to cat, which
-- writes a file); returns the exit table and the output
local function run(rt, id, cmd)
	local out = tmpbase .. ".out"
	local w = assert(io.popen("cat > " .. out, "w"))
	local p, msg = rt:create(id, bundle, { config = config(id, cmd), stdio = { nil, w, w } })
	check(p, msg)
	assert(rt:start(id))
	local st = assert(p:wait(20))
	p:close()
	w:close() -- cat ends once the container's copy of the pipe is closed too
	local f = assert(io.open(out))
	local text = f:read("a")
	f:close()
	os.remove(out)
	return st, text
end

test("ctx:runtime(): root, empty list, errors as nil, message, code", function()
	local ctx <close> = assert(berth.context{ root = root, runroot = runroot })
	local rt = assert(ctx:runtime())
	eq(rt:root(), runroot .. "/runtime", "root")
	eq(ctx:runtime(runroot .. "/other"):root(), runroot .. "/other", "other root")
	check(tostring(rt):find("berth.runtime", 1, true), tostring(rt))
	eq(#rt:list(), 0, "containers")
	local ok, msg, name = rt:state("nosuch")
	eq(ok, nil, "state of nosuch")
	eq(name, "ENOTFOUND", "code name")
	check(msg:find("nosuch", 1, true), msg)
	ok, msg, name = ctx:runtime("relative")
	eq(name, "EINVAL", "relative root")
	local u = assert(rt:usage())
	eq(u.containers + u.leftovers + u.bytes + u.leftover_bytes, 0, "usage of an empty root")
	local n, bytes = rt:prune()
	eq(n + bytes, 0, "prune of an empty root")
	check(berth.runtime_spec_default():find('"rootfs"', 1, true), "spec_default")
	check(berth.runtime_spec_default(true):find("uidMappings", 1, true), "rootless spec")
	check(berth.runtime_features():find("ociVersionMin", 1, true), "features")
end)

test("a closed context makes runtime calls raise", function()
	local ctx = assert(berth.context{ root = root, runroot = runroot })
	local rt = assert(ctx:runtime())
	ctx:close()
	local ok, err = pcall(rt.list, rt)
	check(not ok and tostring(err):find("closed", 1, true), tostring(err))
end)

test("output through a pipe given as stdio; exit codes 3 and 0 read back", function()
	local ctx <close> = assert(berth.context{ root = root, runroot = runroot })
	local rt = assert(ctx:runtime())
	local st, out = run(rt, "lua-three", "echo three; echo err >&2; exit 3")
	eq(out, "three\nerr\n", "output")
	eq(st.code, 3, "exit code")
	eq(st.signal, 0, "signal")
	eq(st.oom_killed, false, "oom_killed")
	eq(assert(rt:exit_status("lua-three")).code, 3, "recorded exit code")
	local state = assert(rt:state("lua-three"))
	check(state:find('"status":%s*"stopped"'), state)
	assert(rt:delete("lua-three"))
	st, out = run(rt, "lua-zero", "echo zero")
	eq(out, "zero\n", "output")
	eq(st.code, 0, "exit code")
	eq(assert(rt:exit_status("lua-zero")).code, 0, "recorded exit code")
	assert(rt:delete("lua-zero"))
	eq(#rt:list(), 0, "containers left")
end, true)

test("wait with a timeout fails with ETIMEOUT; signal through the pidfd", function()
	local ctx <close> = assert(berth.context{ root = root, runroot = runroot })
	local rt = assert(ctx:runtime())
	local p <close> = assert(rt:create("lua-sleep", bundle,
		{ config = config("lua-sleep", "exec sleep 100"), stdio = { nil, nil, nil } }))
	check(p:pid() > 0 and p:pidfd() >= 0 and p:pty() == nil, tostring(p))
	assert(rt:start("lua-sleep"))
	local pids = assert(rt:ps("lua-sleep"))
	eq(pids[1], p:pid(), "ps")
	local t0 = os.time()
	local ok, msg, name, code = p:wait(0.3)
	eq(ok, nil, "wait result")
	eq(name, "ETIMEOUT", "code name")
	eq(code, berth.errors.ETIMEOUT, "code")
	check(os.time() - t0 < 5, "the wait took too long")
	ok, msg, name = rt:exit_status("lua-sleep")
	eq(name, "ESTATE", "exit status while it runs")
	assert(p:signal(9))
	local st = assert(p:wait(10))
	eq(st.signal, 9, "signal")
	eq(st.code, 137, "code")
	ok, msg, name = p:signal(15)
	eq(name, "ESTATE", "signal after its end")
	assert(rt:delete("lua-sleep"))
	p:close()
	ok = pcall(p.wait, p)
	eq(ok, false, "wait on a closed process")
end, true)

os.remove(tmpbase)
print(string.format("%d passed, %d failed, %d skipped", passed, failed, skipped))
os.exit(failed == 0 and passed > 0 and 0 or 1, true)
