-- The tiny test harness of tests/lua/test_*.lua: test(name, fn) runs fn
-- under xpcall and prints ok/FAILED; eq and check raise on a mismatch;
-- finish() prints "N passed, M failed" and exits 0 only when all passed.
local h = { passed = 0, failed = 0 }

function h.test(name, fn)
	local ok, err = xpcall(fn, debug.traceback)
	if ok then
		h.passed = h.passed + 1
		print("ok      " .. name)
	else
		h.failed = h.failed + 1
		print("FAILED  " .. name .. "\n        " .. tostring(err):gsub("\n", "\n        "))
	end
end

function h.eq(got, want, what)
	if got ~= want then
		error(string.format("%s: got %s, want %s", what or "value", tostring(got), tostring(want)), 2)
	end
end

function h.check(cond, what)
	if not cond then error(what or "check failed", 2) end
end

function h.finish()
	print(string.format("%d passed, %d failed", h.passed, h.failed))
	os.exit(h.failed == 0 and h.passed > 0 and 0 or 1, true)
end

return h
