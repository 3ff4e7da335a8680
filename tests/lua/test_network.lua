-- The network methods of a context (bindings/lua/network.c), run by
-- tests/lua/run.sh inside a network namespace the test made (nsenter), so
-- the bridge and veth stay there:
--   lua5.4 test_network.lua ROOT CONTAINER_NETNS_PATH
local berth = require "berth"

local root, ctns = arg[1], arg[2]
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

local function eq(got, want, what)
	if got ~= want then
		error(string.format("%s: got %s, want %s", what, tostring(got), tostring(want)), 2)
	end
end

local ctx = assert(berth.context{ root = root, runroot = root .. "/run" })

test("create, list and refuse", function()
	local id = assert(ctx:network_create("bt-lua", { subnet = "10.55.0.0/24", labels = { "team=lua" } }))
	eq(#id, 64, "id length")
	local names = assert(ctx:network_names())
	eq(table.concat(names, ","), "bridge,bt-lua", "networks")
	local ok, msg, code = ctx:network_create("bt-lua", { subnet = "10.56.0.0/24" })
	eq(ok, nil, "a name twice")
	eq(code, "EEXISTS", "its code")
	assert(msg:find("already exists"), msg)
	ok, msg, code = ctx:network_create("bt-bad", { subnet = "nonsense" })
	eq(code, "EINVAL", "a bad subnet: " .. tostring(msg))
end)

test("attach, inspect, detach, prune", function()
	local a = assert(ctx:network_attach("bt-lua", "ct-lua", { netns = ctns }))
	eq(a.address, "10.55.0.2", "address")
	eq(a.prefix_len, 24, "prefix")
	eq(a.gateway, "10.55.0.1", "gateway")
	eq(a.mac, "02:42:0a:37:00:02", "mac")
	local json = assert(ctx:network_inspect("bt-lua"))
	assert(json:find('"ct-lua"', 1, true) and json:find('"team": "lua"', 1, true), json)
	local ok, msg, code = ctx:network_remove("bt-lua")
	eq(code, "ESTATE", "rm while attached: " .. tostring(msg))
	assert(ctx:network_detach("bt-lua", "ct-lua"))
	local pruned = assert(ctx:networks_prune())
	eq(table.concat(pruned, ","), "bt-lua", "pruned")
	ok, msg, code = ctx:network_inspect("bt-lua")
	eq(code, "ENOTFOUND", "inspect after prune")
end)

test("ctx.networks: create, get, list, remove, prune", function()
	local n = assert(ctx.networks:create("bt-lua-obj", { subnet = "10.57.0.0/24" }))
	eq(n:name(), "bt-lua-obj", "name"); eq(#n:id(), 64, "id")
	eq(n:attrs().IPAM.Config[1].Subnet, "10.57.0.0/24", "subnet")
	assert(n == assert(ctx.networks:get("bt-lua-obj")), "get")
	local names = {}
	for x in ctx.networks:list() do names[#names + 1] = x:name() end
	eq(table.concat(names, ","), "bridge,bt-lua-obj", "list")
	local ok, msg, code = ctx.networks:create("bt-lua-obj")
	eq(code, "EEXISTS", "twice: " .. tostring(msg))
	ok, msg, code = ctx.networks:get("bt-none")
	eq(code, "ENOTFOUND", "get unknown: " .. tostring(msg))
	assert(n:remove())
	assert(ctx.networks:create("bt-lua-obj2"))
	eq(table.concat(assert(ctx.networks:prune()), ","), "bt-lua-obj2", "pruned")
end)

-- the DNS names of an endpoint, asked of the gateway from its namespace
local function lookup(name)
	local p = io.popen("nsenter --net=" .. ctns .. " busybox nslookup " .. name .. " 10.55.0.1 2>&1")
	local out = p:read("a")
	p:close()
	return out
end

test("aliases and a renamed endpoint answer by DNS; bad ones refused", function()
	if not io.open("/usr/lib/podman/aardvark-dns") then
		print("skip: aardvark-dns is not installed")
		return
	end
	assert(ctx:network_create("bt-lua", { subnet = "10.55.0.0/24" }))
	local ok, msg, code = ctx:network_attach("bt-lua", "ct-lua", { netns = ctns, aliases = { "bad alias" } })
	eq(code, "EINVAL", "a bad alias: " .. tostring(msg))
	assert(ctx:network_attach("bt-lua", "ct-lua", { netns = ctns, endpoint_name = "luaweb", aliases = { "luadb" } }))
	assert(lookup("luadb"):find("Address: 10.55.0.2", 1, true), lookup("luadb"))
	assert(ctx:network_endpoint_rename("bt-lua", "ct-lua", "luaweb2"))
	assert(lookup("luaweb2"):find("Address: 10.55.0.2", 1, true), lookup("luaweb2"))
	assert(not lookup("luaweb"):find("Address: 10.55.0.2", 1, true), "the old name still resolves")
	ok, msg, code = ctx:network_endpoint_rename("bt-lua", "ct-none", "x")
	eq(code, "ENOTFOUND", "rename of no endpoint: " .. tostring(msg))
	assert(ctx:network_detach("bt-lua", "ct-lua"))
	eq(io.open(root .. "/networks/.dns/aardvark.pid"), nil, "the DNS server's pid file after the last detach")
	assert(ctx:network_remove("bt-lua"))
end)

ctx:close()
print(string.format("%d passed, %d failed", passed, failed))
os.exit(failed == 0 and passed > 0 and 0 or 1, true)
