-- c_task_floor_w6.lua: W6's shape on c_task_floor.c (tasks as C structures,
-- the least such a scheduler can be): spawn N tasks, one yield each, await
-- all, sum. One JSON line: wall and CPU time per task. Lua 5.4 only.
--
--   lua5.4 c_task_floor_w6.lua [N]     (LUA_CPATH must find c_task_floor.so; luv gives the clock)
local n = tonumber((...)) or 1000000
local hrtime = require("luv").hrtime
local s = require "c_task_floor"
local spawn, yield = s.spawn, s.yield

local function task(i)
  yield()
  return i
end

local sum, seconds, cpu_seconds = 0, 0, 0
spawn(function()
  local cpu_started, started = os.clock(), hrtime()
  local tasks = {}
  for i = 1, n do tasks[i] = spawn(task, i) end
  for i = 1, n do sum = sum + tasks[i]:await() end
  seconds, cpu_seconds = (hrtime() - started) / 1e9, os.clock() - cpu_started
end)
s.run()
assert(sum == n * (n + 1) / 2, "wrong sum")
print(string.format('{"impl":"c_task_floor","interp":"%s","workload":"W6_tasks","n":%d,'
  .. '"ns_per_op":%.1f,"cpu_ns_per_op":%.1f}', _VERSION:gsub("Lua ", "lua"), n,
  seconds * 1e9 / n, cpu_seconds * 1e9 / n))
