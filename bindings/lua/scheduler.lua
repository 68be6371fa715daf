-- scheduler.lua: weft.call_soon and weft.call_later, scheduled in Lua, and
-- the ready queue that tasks.lua's task steps share with call_soon.
-- Compiled into weft.so and run once by luaopen_weft, before tasks.lua and
-- weft.lua, with the module table.
--
-- weft.call_soon(fn) appends fn to a ready queue; one weft callback per
-- batch (scheduler.c's on_drain) calls drain(), which runs up to BATCH
-- entries in FIFO order, those queued meanwhile included, and queues
-- itself again if more are waiting. A task step (a task table, queued by
-- tasks.lua through weft._sched_tasks.enqueue) is an entry like a callback,
-- except that one queued during the running drain waits for the next one:
-- so weft.yield() always lets the loop's other callbacks run, while a
-- call_soon chain stays inside one drain. weft.call_later(seconds, fn) puts a
-- timer in a binary heap ordered by (deadline, creation order); one weft
-- timer (scheduler.c) is armed for the earliest deadline and calls fire().
-- timer:cancel() marks the timer dead in O(1); dead timers are dropped
-- when they reach the top, when no live timer is left, or when they
-- outnumber the live ones (the heap is rebuilt). So neither a callback nor
-- a timer costs a weft allocation, a registry reference or a weft future of
-- its own (a timer costs one C call: the loop clock), and LuaJIT compiles
-- the loops.
--
-- Failing callbacks go to the error handler with their traceback (where:
-- "callback failed"); the queue goes on. weft.loop_stop ends the running
-- batch after the callback that called it. When the runtime or the
-- script's scope goes away (weft.scope_cancel included), reset() drops what
-- is queued and every timer: none of them runs, and the timers read as
-- inactive.
--
-- Thread: the loop thread (drain and fire run inside weft callbacks).
local weft = ...

local type, tostring, setmetatable, getmetatable, xpcall = type, tostring, setmetatable, getmetatable, xpcall
local floor = math.floor
local traceback = debug.traceback
local post, now_ns, arm, disarm, report =
  weft._sched_post, weft._sched_now, weft._sched_arm, weft._sched_disarm, weft._sched_report

-- tasks.lua's entry points (set through weft._sched_tasks.register): run a
-- queued task step; tell it that queued steps or timers were dropped.
local run_task = function() end
local tasks_dropped = function() end
local TASK_WAIT = 6 -- a task's slot saying what it waits for: true while its step is queued (tasks.lua's WAIT)

local BATCH = 64 -- callbacks per drain: as many as weft's loop runs per pass
local INVALID_ARGUMENT = weft.WEFT_ERR_INVALID_ARGUMENT

local function raise(message)
  error(weft.error(INVALID_ARGUMENT, message), 3)
end

-- ---- failures ----

-- Callbacks run unprotected inside one xpcall per batch: when one raises,
-- its error goes to the error handler and the batch resumes after it.
local failed_error, failed_traceback

-- xpcall's message handler: keeps the error and its traceback.
local function keep_failure(err)
  failed_error = err
  failed_traceback = traceback(tostring(err), 2)
  return err
end

-- Runs batch() until it returns normally, reporting each failure.
local function run_batches(batch)
  while not xpcall(batch, keep_failure) do
    local err, text = failed_error, failed_traceback
    failed_error, failed_traceback = nil, nil
    report(err, text or tostring(err), "callback failed")
  end
end

-- ---- the ready queue ----

-- queue[i] is a callback, or a task whose step it is; marks[i] is nil for
-- a callback and, for a task step, the number of the drain it was queued in
-- (a step queued in drain k runs in a later drain).
local queue, marks, head, tail = {}, {}, 1, 0
local posted = false -- a drain is queued with weft (or running)
local drain_number = 0 -- the running or last drain

-- Drops what is queued: no callback runs; tasks.lua deals with its steps.
local function drop_queue()
  local had_tasks = false
  for i = head, tail do
    if marks[i] then had_tasks = true end
    queue[i], marks[i] = nil, nil
  end
  head, tail, posted = 1, 0, false
  if had_tasks then tasks_dropped(false) end
end

local limit = 0 -- the drain stops before this queue index (its batch)
local stopping = false -- weft.loop_stop was called: the rest waits for the loop's next run

--- weft.loop_stop(loop): as the C function, and the callback now running
--- is the last of its batch (of the ready queue or of the due timers).
local c_loop_stop = weft.loop_stop
function weft.loop_stop(loop)
  local status = c_loop_stop(loop)
  stopping = true
  return status
end

local function run_queue()
  local q, m = queue, marks
  while true do
    local h = head
    if h > tail or h >= limit or stopping then return end
    local entry, mark = q[h], m[h]
    if mark then -- a task step
      if mark == drain_number then return end -- queued in this drain: the next one runs it
      q[h], m[h] = nil, nil
      head = h + 1
      run_task(entry)
    else
      q[h] = nil
      head = h + 1
      entry()
    end
  end
end

local function drain()
  drain_number = drain_number + 1
  limit = head + BATCH
  stopping = false
  run_batches(run_queue)
  if head > tail then
    head, tail, posted = 1, 0, false
  elseif not post(true) then
    drop_queue() -- the loop refuses work: the scope is closing
  end
end

--- weft.call_soon(fn): fn() runs on the loop soon, after the callbacks
--- already queued this way (FIFO).
function weft.call_soon(fn)
  if type(fn) ~= "function" then raise("weft.call_soon: expected a function, got a " .. type(fn)) end
  if not posted then
    post() -- raises without a runtime, or when the loop refuses work
    posted = true
  end
  local t = tail + 1
  tail = t
  queue[t] = fn
end

--- weft.scope_cancel(scope): as the C function; if that was the script's
--- own scope, what is queued is dropped at once and weft.call_soon raises
--- WEFT_ERR_CLOSED from now on (as weft refuses the script new work).
local c_scope_cancel = weft.scope_cancel
function weft.scope_cancel(scope)
  local status = c_scope_cancel(scope)
  if posted and not post(true) then drop_queue() end -- our loop refuses work now
  return status
end

-- ---- the timer heap ----

-- A timer is { deadline_ns, sequence, fn, argument }; fn is nil once it
-- fired or was cancelled; it is called as fn(argument). heap[1..count] is ordered by (deadline, sequence).
local Timer = {}
local TimerMT = { __index = Timer, __name = "weft.Timer" }
weft.Timer = TimerMT

local heap, count = {}, 0
local live, dead = 0, 0     -- timers in the heap still armed, and cancelled ones
local sequence = 0
local armed_at = nil        -- the deadline the weft timer is armed for
local idle_check_queued = false

local function earlier(a, b)
  local da, db = a[1], b[1]
  return da < db or (da == db and a[2] < b[2])
end

local function sift_up(t, i)
  while i > 1 do
    local parent = floor(i / 2)
    local p = heap[parent]
    if not earlier(t, p) then break end
    heap[i] = p
    i = parent
  end
  heap[i] = t
end

local function sift_down(t, i)
  while true do
    local child = i * 2
    if child > count then break end
    local c = heap[child]
    if child < count then
      local right = heap[child + 1]
      if earlier(right, c) then child, c = child + 1, right end
    end
    if not earlier(c, t) then break end
    heap[i] = c
    i = child
  end
  heap[i] = t
end

local function pop()
  local last = heap[count]
  heap[count] = nil
  count = count - 1
  if count > 0 then sift_down(last, 1) end
end

local function clear_heap()
  for i = 1, count do heap[i] = nil end
  count, dead = 0, 0
end

-- Dead timers outnumber live ones: keep the live ones and re-heapify.
local function compact()
  local n = 0
  for i = 1, count do
    local t = heap[i]
    heap[i] = nil
    if t[3] ~= nil then
      n = n + 1
      heap[n] = t
    end
  end
  count, dead = n, 0
  for i = floor(n / 2), 1, -1 do sift_down(heap[i], i) end
end

-- Queued when the last live timer went: the weft timer is let go on the
-- loop's next turn unless a new timer came meanwhile (so that cancelling
-- and re-creating timers does not re-arm weft's timer each time).
local function release_idle_timer()
  idle_check_queued = false
  if live == 0 and armed_at ~= nil then
    armed_at = nil
    disarm()
  end
end

-- Arms the weft timer for the heap's top if it is not armed that early.
local function arm_for_top()
  if live == 0 then -- only dead timers: nothing to arm for
    clear_heap()
    return
  end
  local deadline = heap[1][1]
  if armed_at == nil or deadline < armed_at then
    arm(deadline)
    armed_at = deadline
  end
end

-- The weft timer fired: runs the timers that are due, in order; timers
-- created meanwhile wait for the next turn even if due.
local fire_now, first_new = 0, 0

local function run_due()
  while count > 0 do
    local t = heap[1]
    local fn = t[3]
    if fn == nil then
      pop()
      dead = dead - 1
    elseif t[1] > fire_now or t[2] >= first_new or stopping then
      break
    else
      pop()
      t[3] = nil
      live = live - 1
      fn(t[4])
    end
  end
end

local function fire()
  armed_at = nil
  fire_now, first_new = now_ns(), sequence + 1
  stopping = false
  run_batches(run_due)
  arm_for_top()
end

-- A timer calling fn(argument) after `seconds` (checked by the caller).
local function add_timer(seconds, fn, argument)
  local deadline = now_ns() + floor(seconds * 1e9)
  if armed_at == nil or deadline < armed_at then
    arm(deadline) -- raises if the loop refuses it: nothing was added
    armed_at = deadline
  end
  local n = sequence + 1
  sequence = n
  local t = setmetatable({ deadline, n, fn, argument }, TimerMT)
  n = count + 1
  count = n
  if n == 1 then heap[1] = t else sift_up(t, n) end
  live = live + 1
  return t
end

--- weft.call_later(seconds, fn): fn() runs once `seconds` have passed on
--- the loop clock (timers with equal deadlines in the order created);
--- returns the timer (timer:cancel(), timer:active()).
function weft.call_later(seconds, fn)
  if type(seconds) ~= "number" or not (seconds >= 0 and seconds <= 1e9) then
    raise("weft.call_later: seconds must be between 0 and 1e9")
  end
  if type(fn) ~= "function" then raise("weft.call_later: expected a function, got a " .. type(fn)) end
  -- add_timer(seconds, fn) written out: W3's path, where the call and the
  -- fourth slot cost Lua 5.4 about 6% more
  local deadline = now_ns() + floor(seconds * 1e9)
  if armed_at == nil or deadline < armed_at then
    arm(deadline) -- raises if the loop refuses it: nothing was added
    armed_at = deadline
  end
  local n = sequence + 1
  sequence = n
  local t = setmetatable({ deadline, n, fn }, TimerMT)
  n = count + 1
  count = n
  if n == 1 then heap[1] = t else sift_up(t, n) end
  live = live + 1
  return t
end

--- timer:cancel(): true if it was armed and now will not fire.
function Timer.cancel(self)
  if self[3] == nil then return false end
  self[3] = nil
  live = live - 1
  dead = dead + 1
  if live == 0 then
    if count == 1 then
      heap[1] = nil
      count, dead = 0, 0
    else
      clear_heap()
    end
    if armed_at ~= nil and not idle_check_queued then
      idle_check_queued = true
      if not posted and not post(true) then
        release_idle_timer()
        return true
      end
      posted = true
      tail = tail + 1
      queue[tail] = release_idle_timer
    end
  elseif dead > 64 and dead > live then
    compact()
  end
  return true
end

--- timer:active(): armed, neither fired nor cancelled yet.
function Timer.active(self) return self[3] ~= nil end

-- ---- teardown ----

-- closing: the runtime or the script's scope is going away (else weft
-- cancelled the drain or the timer: the script's scope was cancelled).
local function reset(closing)
  for i = head, tail do queue[i], marks[i] = nil, nil end
  head, tail, posted = 1, 0, false
  for i = 1, count do heap[i][3] = nil end
  clear_heap()
  live, armed_at, idle_check_queued = 0, nil, false
  disarm()
  tasks_dropped(closing)
end

weft._sched_hooks(drain, fire, reset)

-- Queues task t's next step (tasks.lua). what: the name to raise with when
-- there is no runtime or the loop refuses work; without it, returns false
-- instead of raising.
local function enqueue_task(t, what)
  if not posted then
    if what then post(false, what) elseif not post(true) then return false end
    posted = true
  end
  local n = tail + 1
  tail = n
  queue[n], marks[n] = t, drain_number
  t[TASK_WAIT] = true
  return true
end

-- For tasks.lua only (it removes this field).
weft._sched_tasks = {
  enqueue = enqueue_task,
  timer = add_timer,
  is_timer = function(x) return getmetatable(x) == TimerMT end,
  register = function(run, dropped) run_task, tasks_dropped = run, dropped end,
}
