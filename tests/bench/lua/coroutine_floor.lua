-- coroutine_floor.lua: what W6's coroutines cost by themselves, with no
-- scheduler at all — create N coroutines, run each to its one yield, resume
-- each to its end, sum the results — as a floor under both implementations'
-- W6 figures (bench.lua). One JSON line: wall and CPU time per task.
--
--   lua5.4 coroutine_floor.lua [N]     (or luajit; luv gives the clock)
local n = tonumber((...)) or 1000000
local hrtime = require("luv").hrtime

local function task(i)
  coroutine.yield()
  return i
end

local cpu_started, started = os.clock(), hrtime()
local coroutines = {}
for i = 1, n do
  local co = coroutine.create(task)
  coroutine.resume(co, i)
  coroutines[i] = co
end
local sum = 0
for i = 1, n do
  local _, value = coroutine.resume(coroutines[i])
  sum = sum + value
end
local seconds, cpu_seconds = (hrtime() - started) / 1e9, os.clock() - cpu_started
assert(sum == n * (n + 1) / 2, "wrong sum")
print(string.format('{"impl":"coroutines_only","interp":"%s","workload":"W6_tasks","n":%d,'
  .. '"ns_per_op":%.1f,"cpu_ns_per_op":%.1f}', jit and "luajit" or _VERSION:gsub("Lua ", "lua"), n,
  seconds * 1e9 / n, cpu_seconds * 1e9 / n))
