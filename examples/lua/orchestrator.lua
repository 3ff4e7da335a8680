#!/usr/bin/env lua5.4
-- A small orchestrator on berth: keeps N workers of an image running,
-- restarts the ones that exit, and prints their logs as they come.
--
--   lua5.4 orchestrator.lua ROOT RUNROOT IMAGE [WORKERS [RESTARTS]]
--
-- Pulls the image (a line per layer), starts workers named worker-1..N,
-- prints what each logged since the last round, and starts again the ones
-- that exited. After RESTARTS restarts in all (0 or none: until killed)
-- every worker is removed.
local berth = require "berth"

local root, runroot, image = arg[1], arg[2], arg[3]
local n_workers, max_restarts = tonumber(arg[4] or "2"), tonumber(arg[5] or "0")
if not image then
	io.stderr:write("usage: orchestrator.lua ROOT RUNROOT IMAGE [WORKERS [RESTARTS]]\n")
	os.exit(2)
end
local command = {"sh", "-c", "echo started on $(hostname); sleep 1"}

local ctx <close> = assert(berth.context{root = root, runroot = runroot})
local img = assert(ctx.images:pull(image, {progress = function(stage, digest)
	if stage == "layer_done" or stage == "exists" then print("pull: " .. digest:sub(1, 19) .. " " .. stage) end
end}))
print("pull: " .. img:tags()[1] .. " is " .. img:id():sub(1, 17))

local workers = {}
local function start(w)
	w.c = assert(ctx.containers:run{image = image, command = command, name = w.name, detach = true})
	w.printed = 0
end
-- the lines of its log not printed yet
local function print_logs(w)
	local n = 0
	for line in assert(w.c:logs()):gmatch("([^\n]*)\n") do
		n = n + 1
		if n > w.printed then print("[" .. w.name .. "] " .. line) end
	end
	w.printed = n
end
local function running(w)
	return assert(w.c:status()) == "running"
end

local ok, err = pcall(function()
	for i = 1, n_workers do
		workers[i] = {name = "worker-" .. i}
		start(workers[i])
	end
	local restarts = 0
	while max_restarts == 0 or restarts < max_restarts do
		os.execute("sleep 0.2")
		for _, w in ipairs(workers) do
			print_logs(w)
			if not running(w) then
				local code = assert(w.c:wait(10))
				print_logs(w)
				print("[" .. w.name .. "] exited with " .. code .. "; starting it again")
				assert(w.c:remove(true))
				start(w)
				restarts = restarts + 1
			end
		end
	end
	print("done: " .. restarts .. " restarts")
end)
for _, w in ipairs(workers) do
	if w.c then w.c:remove(true) end
end
if not ok then error(err, 0) end
