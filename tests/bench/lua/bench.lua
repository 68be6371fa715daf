-- bench.lua: weft's Lua workloads W1 (callbacks_chain), W3 (timers_churn)
-- and W6 (tasks) on weft and on luv (Debian's lua-luv), in one run, as JSON
-- lines (see tests/bench/README.md and WORKLOADS.md).
--
--   lua5.4 bench.lua [--repeat K] [--only W1] [--scale X] [--impl weft|luv]
--
-- Each (workload, implementation, repeat) runs in a child interpreter of its
-- own (so peak RSS is its own), weft and luv alternating; each line gives the
-- measured span's wall time (seconds, ns_per_op) and the process's CPU time
-- over it (cpu_seconds, cpu_ns_per_op); with K > 1 a final line per (impl,
-- workload) gives the medians. LUA_CPATH must find both
-- weft.so and luv.so. Build weft optimised (--config=opt).
--
-- The luv versions are written as a luv user would: W1 re-arms one timer
-- with timeout 0 from its own callback (luv has no call_soon); W3 creates a
-- uv timer per delay, starts, stops and closes it; W6 runs coroutines on a
-- small scheduler — a ready queue drained by one idle handle — the shape of
-- luvit's setImmediate.

local N = { W1 = 1000000, W3 = 1000000, W6 = 1000000 }
local NAMES = { W1 = "W1_callbacks_chain", W3 = "W3_timers_churn", W6 = "W6_tasks" }

local function hrtime()
  return require("luv").hrtime() -- nanoseconds, monotonic; for both implementations
end

-- The measured span, in wall time (what `seconds` reports) and in the
-- process's CPU time (os.clock; `cpu_seconds`), which a machine shared with
-- other work disturbs much less.
local cpu_at_start, cpu_seconds = 0, 0
local function start_clock()
  cpu_at_start = os.clock()
  return hrtime()
end
local function stop_clock()
  cpu_seconds = os.clock() - cpu_at_start
  return hrtime()
end

local function peak_rss_kb()
  local f = io.open("/proc/self/status")
  if not f then return 0 end
  local text = f:read("*a")
  f:close()
  return tonumber(text:match("VmHWM:%s*(%d+)")) or 0
end

-- W3's delays: a fixed pseudo-random sequence between 1 s and 60 s.
local function delays(n)
  local seed, list = 12345, {}
  for i = 1, n do
    seed = (seed * 1103515245 + 12345) % 2147483648
    list[i] = 1 + (seed % 59000) / 1000 -- seconds
  end
  return list
end

local workloads = { weft = {}, luv = {} }

function workloads.weft.W1(n)
  local weft = require "weft"
  local count, started, finished = 0, 0, 0
  weft.run(function()
    local call_soon = weft.call_soon
    local function step()
      count = count + 1
      if count < n then call_soon(step) else finished = stop_clock() end
    end
    started = start_clock()
    call_soon(step)
  end)
  assert(count == n, "lost callbacks")
  return (finished - started) / 1e9
end

function workloads.luv.W1(n)
  local uv = require "luv"
  local count, started, finished = 0, 0, 0
  local timer = uv.new_timer()
  local function step()
    count = count + 1
    if count < n then timer:start(0, 0, step) else finished = stop_clock() end
  end
  started = start_clock()
  timer:start(0, 0, step)
  uv.run()
  timer:close()
  uv.run()
  assert(count == n, "lost callbacks")
  return (finished - started) / 1e9
end

function workloads.weft.W3(n)
  local weft = require "weft"
  local list, fired = delays(n), 0
  local seconds
  weft.run(function()
    local call_later = weft.call_later
    local function never() fired = fired + 1 end
    local started = start_clock()
    for i = 1, n do
      call_later(list[i], never):cancel()
    end
    seconds = (stop_clock() - started) / 1e9
  end)
  assert(fired == 0, "a cancelled timer fired")
  return seconds
end

function workloads.luv.W3(n)
  local uv = require "luv"
  local list, fired = delays(n), 0
  local function never() fired = fired + 1 end
  local started = start_clock()
  for i = 1, n do
    local timer = uv.new_timer()
    timer:start(math.floor(list[i] * 1000), 0, never)
    timer:stop()
    timer:close()
  end
  local seconds = (stop_clock() - started) / 1e9
  uv.run() -- the close callbacks
  assert(fired == 0, "a cancelled timer fired")
  return seconds
end

function workloads.weft.W6(n)
  local weft = require "weft"
  local sum, seconds = 0, 0
  weft.run(function()
    local spawn, yield = weft.spawn, weft.yield
    local function task(i)
      yield()
      return i
    end
    local started = start_clock()
    local tasks = {}
    for i = 1, n do tasks[i] = spawn(task, i) end
    for i = 1, n do sum = sum + tasks[i]:await() end
    seconds = (stop_clock() - started) / 1e9
  end)
  assert(sum == n * (n + 1) / 2, "wrong sum")
  return seconds
end

function workloads.luv.W6(n)
  local uv = require "luv"
  -- The scheduler: coroutines in a ready queue, resumed by one idle handle.
  local ready, head, tail = {}, 1, 0
  local idle = uv.new_idle()
  local running = false
  local function run_ready()
    local last = tail
    while head <= last do
      local co = ready[head]
      ready[head] = nil
      head = head + 1
      local ok, err = coroutine.resume(co)
      if not ok then error(err) end
    end
    if head > tail then idle:stop(); running = false end
  end
  local function schedule(co)
    tail = tail + 1
    ready[tail] = co
    if not running then running = true; idle:start(run_ready) end
  end
  local function yield()
    schedule(coroutine.running())
    coroutine.yield()
  end
  -- A task: its result, and the coroutine waiting for it.
  local function spawn(fn, arg)
    local t = { done = false }
    t.co = coroutine.create(function()
      t.value = fn(arg)
      t.done = true
      if t.waiter then schedule(t.waiter) end
    end)
    schedule(t.co)
    return t
  end
  local function await(t)
    if not t.done then
      t.waiter = coroutine.running()
      coroutine.yield()
    end
    return t.value
  end

  local sum, seconds = 0, 0
  local function task(i)
    yield()
    return i
  end
  local main = coroutine.create(function()
    local started = start_clock()
    local tasks = {}
    for i = 1, n do tasks[i] = spawn(task, i) end
    for i = 1, n do sum = sum + await(tasks[i]) end
    seconds = (stop_clock() - started) / 1e9
  end)
  schedule(main)
  uv.run()
  idle:close()
  uv.run()
  assert(sum == n * (n + 1) / 2, "wrong sum")
  return seconds
end

-- ---- the driver ----

local function json_line(fields, order)
  local parts = {}
  for _, k in ipairs(order) do
    local v = fields[k]
    if v ~= nil then
      if type(v) == "string" then v = string.format("%q", v)
      elseif math.type and math.type(v) == "integer" then v = tostring(v)
      elseif v == math.floor(v) and math.abs(v) < 2^53 then v = string.format("%d", v)
      else v = string.format("%.6g", v) end
      parts[#parts + 1] = string.format("%q:%s", k, v)
    end
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

local ORDER = { "impl", "interp", "workload", "n", "seconds", "ns_per_op", "ops_per_s", "cpu_seconds", "cpu_ns_per_op",
                "rss_kb", "repeat", "median_seconds", "median_ns_per_op", "median_ops_per_s", "median_cpu_seconds",
                "median_cpu_ns_per_op", "median_rss_kb", "repeats" }

local interp = jit and "luajit" or _VERSION:gsub("Lua ", "lua")

local args = { ... }
if args[1] == "--child" then
  local impl, id, n, rep = args[2], args[3], tonumber(args[4]), tonumber(args[5])
  local seconds = workloads[impl][id](n)
  print(json_line({ impl = impl, interp = interp, workload = NAMES[id], n = n, seconds = seconds,
    ns_per_op = seconds * 1e9 / n, ops_per_s = n / seconds, cpu_seconds = cpu_seconds,
    cpu_ns_per_op = cpu_seconds * 1e9 / n, rss_kb = peak_rss_kb(), ["repeat"] = rep }, ORDER))
  os.exit(0)
end

local repeats, scale, only, impls = 1, 1, {}, { "weft", "luv" }
local i = 1
while i <= #args do
  local a = args[i]
  if a == "--repeat" then repeats = tonumber(args[i + 1]); i = i + 1
  elseif a == "--scale" then scale = tonumber(args[i + 1]); i = i + 1
  elseif a == "--only" then only[#only + 1] = args[i + 1]; i = i + 1
  elseif a == "--impl" then impls = { args[i + 1] }; i = i + 1
  else io.stderr:write("bench.lua: unknown option " .. a .. "\n"); os.exit(2) end
  i = i + 1
end
local ids = #only > 0 and only or { "W1", "W3", "W6" }

local self_path = debug.getinfo(1, "S").source:sub(2)
local interpreter = jit and "luajit" or "lua5.4"
local results, failed = {}, false
for rep = 0, repeats - 1 do
  for _, id in ipairs(ids) do
    for _, impl in ipairs(impls) do
      local n = math.max(1, math.floor(N[id] * scale))
      local cmd = string.format("%s %q --child %s %s %d %d", interpreter, self_path, impl, id, n, rep)
      local pipe = io.popen(cmd)
      local line = pipe:read("*l")
      local ok = pipe:close()
      if line and ok then
        print(line)
        io.stdout:flush()
        local key = impl .. " " .. id
        results[key] = results[key] or {}
        local r = results[key]
        r[#r + 1] = {
          seconds = tonumber(line:match('"seconds":([%d%.e%-]+)')),
          cpu = tonumber(line:match('"cpu_seconds":([%d%.e%-]+)')),
          rss = tonumber(line:match('"rss_kb":(%d+)')), n = n,
        }
      else
        io.stderr:write(string.format("bench.lua: %s %s failed\n", impl, id))
        failed = true
      end
    end
  end
end

if repeats > 1 then
  local function median(list)
    table.sort(list)
    local m = #list
    return m % 2 == 1 and list[(m + 1) / 2] or (list[m / 2] + list[m / 2 + 1]) / 2
  end
  for _, id in ipairs(ids) do
    for _, impl in ipairs(impls) do
      local r = results[impl .. " " .. id]
      if r then
        local secs, cpus, rss = {}, {}, {}
        for k, v in ipairs(r) do secs[k] = v.seconds; cpus[k] = v.cpu; rss[k] = v.rss end
        local s, c = median(secs), median(cpus)
        print(json_line({ impl = impl, interp = interp, workload = NAMES[id], n = r[1].n, median_seconds = s,
          median_ns_per_op = s * 1e9 / r[1].n, median_ops_per_s = r[1].n / s, median_cpu_seconds = c,
          median_cpu_ns_per_op = c * 1e9 / r[1].n, median_rss_kb = median(rss), repeats = #r }, ORDER))
      end
    end
  end
end
os.exit(failed and 1 or 0)
