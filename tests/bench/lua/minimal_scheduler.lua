-- minimal_scheduler.lua: W6's shape on the least a coroutine scheduler can
-- be in plain Lua — a task is one table and one coroutine, a FIFO queue of
-- tasks run by a plain loop, yield requeues the running task, a finished
-- task wakes its one awaiter — with none of what weft's or luv's versions
-- carry (no loop, no argument checks, no cancellation, no errors handled,
-- one result, one awaiter). A reference between coroutine_floor.lua (no
-- scheduler at all) and bench.lua's W6 figures. One JSON line: wall and CPU
-- time per task.
--
--   lua5.4 minimal_scheduler.lua [N]     (or luajit; luv gives the clock)
local n = tonumber((...)) or 1000000
local hrtime = require("luv").hrtime

local create, resume, yield, status = coroutine.create, coroutine.resume, coroutine.yield, coroutine.status
local setmetatable = setmetatable
local queue, head, tail = {}, 1, 0
local TaskMT = { __index = {} }
local current

-- A task: { coroutine, done, function, argument, result, awaiter }.
local function spawn(fn, arg)
  local t = setmetatable({ false, false, fn, arg, false, false }, TaskMT)
  tail = tail + 1
  queue[tail] = t
  return t
end

local function step(t)
  local co = t[1]
  if not co then
    co = create(t[3])
    t[1] = co
  end
  current = t
  local _, result = resume(co, t[4])
  if status(co) == "dead" then
    t[2], t[5] = true, result
    local awaiter = t[6]
    if awaiter then
      tail = tail + 1
      queue[tail] = awaiter
    end
  end
end

local function task_yield()
  tail = tail + 1
  queue[tail] = current
  yield()
end

local function await(t)
  if not t[2] then
    t[6] = current
    yield()
  end
  return t[5]
end

local function task(i)
  task_yield()
  return i
end

local sum, seconds, cpu_seconds = 0, 0, 0
spawn(function()
  local cpu_started, started = os.clock(), hrtime()
  local tasks = {}
  for i = 1, n do tasks[i] = spawn(task, i) end
  for i = 1, n do sum = sum + await(tasks[i]) end
  seconds, cpu_seconds = (hrtime() - started) / 1e9, os.clock() - cpu_started
end)
while head <= tail do
  local t = queue[head]
  queue[head] = nil
  head = head + 1
  step(t)
end
assert(sum == n * (n + 1) / 2, "wrong sum")
print(string.format('{"impl":"minimal_scheduler","interp":"%s","workload":"W6_tasks","n":%d,'
  .. '"ns_per_op":%.1f,"cpu_ns_per_op":%.1f}', jit and "luajit" or _VERSION:gsub("Lua ", "lua"), n,
  seconds * 1e9 / n, cpu_seconds * 1e9 / n))
