-- scheduler.lua: weft.call_soon and weft.call_later, scheduled in Lua, and
-- the ready queue that tasks.lua's task steps share with call_soon.
-- Compiled into weft.so and run once by luaopen_weft, before tasks.lua and
-- weft.lua, with the module table.
--
-- weft.call_soon(fn) appends fn to a ready queue; one weft callback per
-- batch (scheduler.c's on_drain) calls drain(), which runs the queue's
-- first BATCH slots (a callback takes one, a task step two) in FIFO
-- order, those queued meanwhile included, and queues
-- itself again if more are waiting. A task step is an entry like a
-- callback — under LuaJIT a task table (queued by task_table.lua through
-- weft._sched_tasks.enqueue); under Lua 5.4 a marker standing for a run of
-- steps queued in C (task_step.c, which appends markers through
-- push_segment and runs a marker's steps with run_segment) — except that
-- one queued during the running drain waits for the next one:
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
-- queued task step (LuaJIT: task_table.lua's run_queued); queue such a task
-- when the queue was dropped meanwhile; tell it that queued steps or timers
-- were dropped. Under Lua 5.4, task_step.c's functions for the steps it
-- queues: run_segment(budget) -> ran, done; drop_steps(); close_steps();
-- stop_steps().
local run_task = function() end
local requeue_refused = function() end
local tasks_dropped = function() end
local run_segment, drop_steps, close_steps, stop_steps = false, false, false, false
local SEGMENT = {} -- Lua 5.4: the marker of a run of steps queued in C
local TASK_WAIT <const> = 6 -- a task table's slot saying what it waits for: true while its step is queued (task_table.lua's WAIT)

local BATCH <const> = 64 -- queue slots per drain: as many callbacks as weft's loop runs per pass
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

-- The queue is queue[head..tail]: a callback takes one slot; a task step
-- two, false and then the task (a callback is never false, so one test
-- tells them apart). Slots from drain_from on were filled during the
-- running drain: a task step there waits for the next drain.
--
-- A long queue is split rather than left to grow at the tail while it is
-- emptied at the head: Lua keeps a table's integer keys in its array part
-- only while more than half of them are present, so a queue whose head
-- has moved further than its length would spill its newest slots into the
-- table's hash part (slower to fill, to read and to collect). Once that
-- many slots lie behind the head, the queue (its slots head..tail) becomes
-- `older`, which the drains empty first, and new slots go to a fresh array
-- (the previous emptied one, when there is one).
local queue, head, tail = {}, 1, 0
local older, older_head, older_tail = false, 1, 0
local spare = false -- an emptied array, for the next split
local SPLIT_AFTER <const> = 1024 -- slots behind the head before a split is considered
local posted = false -- a drain is queued with weft (or running)
local drain_from = 1 -- the first slot of queue filled during the running (or last) drain

-- Clears what is queued (older's slots and queue's): none of it runs.
-- Answers whether any of it was a task step.
local function clear_queue()
  if drop_steps then drop_steps() end
  local had_tasks = false
  local o = older
  if o then
    for i = older_head, older_tail do
      if o[i] == false then had_tasks = true end
      o[i] = nil
    end
    older, older_head, older_tail, spare = false, 1, 0, o
  end
  for i = head, tail do
    if queue[i] == false then had_tasks = true end
    queue[i] = nil
  end
  head, tail, posted = 1, 0, false
  return had_tasks
end

-- Drops what is queued: no callback runs; tasks.lua deals with its steps.
local function drop_queue()
  if clear_queue() then tasks_dropped(false) end
end

local limit = 0 -- the drain stops before this slot of queue (its batch); 0 once weft.loop_stop was called
local older_limit = 0 -- likewise for older's slots
local stopping = false -- weft.loop_stop was called: the rest waits for the loop's next run

--- weft.loop_stop(loop): as the C function, and the callback now running
--- is the last of its batch (of the ready queue or of the due timers).
local c_loop_stop = weft.loop_stop
function weft.loop_stop(loop)
  local status = c_loop_stop(loop)
  stopping, limit, older_limit = true, 0, 0
  if stop_steps then stop_steps() end
  return status
end

-- Runs older's slots (all queued before the running drain).
local function run_older(o)
  while true do
    local h = older_head
    if h > older_tail then -- emptied: the queue is whole again; the batch goes on there
      if older == o then older, older_head, older_tail, spare = false, 1, 0, o end
      limit = head + (older_limit - h)
      return true
    end
    if h >= older_limit then return false end
    local entry = o[h]
    if entry then
      o[h] = nil
      older_head = h + 1
      entry()
    else
      entry = o[h + 1]
      if entry == SEGMENT then -- Lua 5.4: a run of steps queued in C
        local ran, done = run_segment(floor((older_limit - h) / 2))
        if not done then return false end
        o[h], o[h + 1] = nil, nil
        older_head = h + 2
        older_limit = older_limit - 2 * (ran - 1)
      else
        o[h], o[h + 1] = nil, nil
        older_head = h + 2
        if run_task(entry) then -- weft.yield(): its next step goes to the end of the queue
          if posted then
            local n = tail + 2
            tail = n
            queue[n - 1], queue[n] = false, entry
            entry[TASK_WAIT] = true
          else
            requeue_refused(entry)
          end
        end
      end
    end
  end
end

-- LuaJIT's task step below is written out as in run_older rather than
-- shared through a function: the call cost W6 417 instructions per task
-- under Lua 5.4 when its steps ran this way too (16,016 -> 16,433), about 3 %.
local function run_queue()
  local o = older
  if o and not run_older(o) then return end
  local q = queue
  while true do
    local h = head
    if h > tail or h >= limit then return end
    local entry = q[h]
    if entry then -- a callback
      q[h] = nil
      head = h + 1
      entry()
    else -- a task step
      if h >= drain_from then return end -- queued in this drain: the next one runs it
      entry = q[h + 1]
      if entry == SEGMENT then -- Lua 5.4: a run of steps queued in C
        local ran, done = run_segment(floor((limit - h) / 2))
        if not done then return end
        q[h], q[h + 1] = nil, nil
        head = h + 2
        limit = limit - 2 * (ran - 1)
      else
        q[h], q[h + 1] = nil, nil
        head = h + 2
        if run_task(entry) then -- weft.yield(): its next step goes to the end of the queue
          if posted then
            local n = tail + 2
            tail = n
            queue[n - 1], queue[n] = false, entry
            entry[TASK_WAIT] = true
          else
            requeue_refused(entry)
          end
        end
      end
    end
  end
end

local function drain()
  if close_steps then close_steps() end -- steps queued from now on wait for the next drain
  local h = head
  drain_from = tail + 1
  limit = h + BATCH
  older_limit = older_head + BATCH
  stopping = false
  run_batches(run_queue)
  h = head
  if h > tail and not older then
    head, tail, posted = 1, 0, false
    return
  end
  if not post(true) then
    drop_queue() -- the loop refuses work: the scope is closing
    return
  end
  if h > SPLIT_AFTER and not older then -- see the queue's comment
    if close_steps then close_steps() end
    older, older_head, older_tail = queue, h, tail
    queue, spare = spare or {}, false
    head, tail = 1, 0
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

-- Drops every timer (none of them runs): the reset hook, and a firing
-- after which the script's scope or runtime is gone.
local function drop_timers()
  for i = 1, count do heap[i][3] = nil end
  clear_heap()
  live, armed_at, idle_check_queued = 0, nil, false
end

local function fire()
  armed_at = nil
  fire_now, first_new = now_ns(), sequence + 1
  stopping = false
  run_batches(run_due)
  if live == 0 then
    clear_heap()
    return
  end
  -- Armed for what is left, unless a timer that ran cancelled the script's
  -- scope (or the runtime is going away): then what is left is dropped.
  local deadline = heap[1][1]
  if armed_at == nil or deadline < armed_at then
    if arm(deadline, true) then armed_at = deadline else drop_timers() end
  end
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
  clear_queue()
  drop_timers()
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
  local n = tail + 2
  tail = n
  queue[n - 1], queue[n] = false, t
  t[TASK_WAIT] = true
  return true
end

-- Lua 5.4: a marker at the queue's tail for the steps task_step.c queues
-- next; answers the new tail (what task_step.c compares with tail to tell
-- whether the marker is still the last entry), or false (or raises as
-- `what`) if the loop refuses work.
local function push_segment(what)
  if not posted then
    if what then post(false, what) elseif not post(true) then return false end
    posted = true
  end
  local n = tail + 2
  tail = n
  queue[n - 1], queue[n] = false, SEGMENT
  return n
end

-- For tasks.lua only (it removes this field). register(run, dropped,
-- requeue[, core]): core is task_core.c's table under Lua 5.4.
weft._sched_tasks = {
  enqueue = enqueue_task,
  push_segment = push_segment,
  tail = function() return tail end, -- its one upvalue is tail (task_step.c reads it)
  timer = add_timer,
  is_timer = function(x) return getmetatable(x) == TimerMT end,
  register = function(run, dropped, requeue, core)
    run_task, tasks_dropped, requeue_refused = run, dropped, requeue
    if core then
      run_segment, drop_steps, close_steps, stop_steps =
        core.run_segment, core.drop_steps, core.close_steps, core.stop_steps
    end
  end,
}
