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

-- the json-file log's whole lines past offset: their texts and the new offset
local function log_lines(path, offset)
	local f = io.open(path, "rb")
	if not f then return {}, offset end
	f:seek("set", offset)
	local data = f:read("a") or ""
	f:close()
	local lines = {}
	local consumed = 0
	for line in data:gmatch("([^\n]*)\n") do
		consumed = consumed + #line + 1
		local text = line:match('^{"log":"(.-)","stream"')
		if text then
			text = text:gsub("\\n$", ""):gsub('\\"', '"'):gsub("\\\\", "\\")
			lines[#lines + 1] = text
		end
	end
	return lines, offset + consumed
end

local workers = {}
local function start(w)
	w.id = assert(ctx:container_create(image, command, {name = w.name}))
	assert(ctx:container_start(w.id))
	w.log = assert(ctx:container_inspect(w.id)):match('"LogPath"%s*:%s*"([^"]*)"')
	w.offset = 0
end
local function print_logs(w)
	local lines
	lines, w.offset = log_lines(w.log, w.offset)
	for _, line in ipairs(lines) do print("[" .. w.name .. "] " .. line) end
end
local function running(w)
	return assert(ctx:container_inspect(w.id)):match('"Running"%s*:%s*(%a+)') == "true"
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
				local code = assert(ctx:container_wait(w.id, 10))
				print_logs(w)
				print("[" .. w.name .. "] exited with " .. code .. "; starting it again")
				assert(ctx:container_remove(w.id, true))
				start(w)
				restarts = restarts + 1
			end
		end
	end
	print("done: " .. restarts .. " restarts")
end)
for _, w in ipairs(workers) do
	if w.id then ctx:container_remove(w.id, true) end
end
if not ok then error(err, 0) end
