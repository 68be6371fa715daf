-- tasks.lua: tasks — Lua coroutines scheduled on the ready queue of
-- scheduler.lua — and everything about them: spawn, the step that resumes
-- one, yield and sleep, awaiting another task, cancellation, failures
-- reported with their traceback, the task handle's methods, and the hooks
-- the C side calls (a weft wait completed, the host cancels the script's
-- tasks, weft.run reads main's outcome). Compiled into weft.so and run once
-- by luaopen_weft, after scheduler.lua and before weft.lua.
--
-- A task is a table (metatable weft.Task) with its state in array slots
-- (below). Spawning, starting and resuming a task call nothing of weft's C
-- runtime and make no weft object: the step is an entry of the ready
-- queue, drained by one weft callback per batch. Under Lua 5.4 the drain
-- runs a queued step through task_step.c's C step (lua_resume directly; the
-- common outcomes recorded there, the rest handed back to run_queued and
-- settle here); under LuaJIT through run_queued. weft.sleep(s) uses a timer
-- of scheduler.lua's heap. A wait on a weft operation (a future, an accept,
-- a connect, a resolve) goes through task.c: a wl_wait (a light userdata in
-- the task's WAIT slot) holds a registry reference to the task, and weft's
-- callback hands the outcome to wake() below, which resumes the task at once.
--
-- A task is resumed with (true, values...) or (false, error); the waiting
-- function (weft.lua) returns the values or raises the error. A plain
-- coroutine.yield() in a task acts as weft.yield().
--
-- Thread: the loop thread.
-- Ownership: a task is kept alive by what it waits for (the ready queue, a
-- timer, the awaited task's waiter list, a C wait's registry reference) and
-- by the list of live tasks (PREV/NEXT), which it leaves when it finishes;
-- its coroutine is dropped then too (its results stay in the task).
-- Speed: W6's paths (spawn, start, weft.yield, finish, awaiting a finished
-- task) keep the rarer fields out of the array (EXTRA) and never store into
-- a nil slot (absent is false: Lua 5.4 checks a metamethod there).
local weft = ...

local create, resume, yield, running, status =
  coroutine.create, coroutine.resume, coroutine.yield, coroutine.running, coroutine.status
local type, select, error, tostring, setmetatable, getmetatable, pcall =
  type, select, error, tostring, setmetatable, getmetatable, pcall
local traceback = debug.traceback
local unpack = table.unpack or unpack

local sched = weft._sched_tasks
weft._sched_tasks = nil
local add_timer, is_timer = sched.timer, sched.is_timer
local enqueue = sched.enqueue -- enqueue(t[, what]): queues t's step (its WAIT becomes true);
                              -- false, or raises as `what`, if the loop refuses work
local report, abandon_wait = weft._sched_report, weft._wait_abandon
local make_error = weft.error
local CANCELLED, INVALID_STATE, INVALID_ARGUMENT, NOT_READY, STALE_HANDLE =
  weft.WEFT_ERR_CANCELLED, weft.WEFT_ERR_INVALID_STATE, weft.WEFT_ERR_INVALID_ARGUMENT,
  weft.WEFT_ERR_NOT_READY, weft.WEFT_ERR_STALE_HANDLE
local future_new, future_share, future_settle, future_rename =
  weft._task_future_new, weft._task_future_share, weft._task_future_settle, weft._task_future_rename

-- A task's slots (task.c's WL_TASK_WAIT and scheduler.lua's TASK_WAIT are
-- WAIT). "None" is false.
local CO <const> = 1     -- its coroutine; false before it starts and once it finished
local STATE <const> = 2  -- below
local VALUE <const> = 3  -- its function before it starts; its first result, or its error
local VALUES <const> = 4 -- its argument, or NONE (none; several: EXTRA's args); finished:
                         -- false (one result or an error), NONE (none) or { n = n, results... }
local PREV <const>, NEXT <const> = 5, 7 -- the list of live tasks
local WAIT <const> = 6   -- what it waits for: true while its step is queued, a C wait (light
                         -- userdata), a task, or a timer; false when running; finished: its epoch
local EXTRA <const> = 8  -- false, or a table of the rarer fields: label (its name), future
                         -- (task:future()'s), waiters (the tasks awaiting it, in order),
                         -- reported (its error reached the handler or weft.run), cancel_pending
                         -- (cancelled while running), cancel_error (resume it with this error),
                         -- cancel_sent (reached by cancel_all), args ({ n = n, ... }), epoch (if
                         -- it ran when its runtime went away)

local SCHEDULED <const>, RUNNING <const>, SUSPENDED <const> = 0, 1, 2
local DONE <const>, FAILED <const>, KILLED <const> = 3, 4, 5
local STATE_NAMES = { [0] = "scheduled", "running", "suspended", "done", "failed", "cancelled" }

local TaskMT = { __name = "weft.Task" }
local Task = {}
TaskMT.__index = Task
weft.Task = TaskMT

local current = nil        -- the task running now
local alive, alive_count = false, 0 -- the head of the list of live tasks, and their number
-- Lua 5.4: task_step.c's step (weft._task_stepper); nil under LuaJIT.
local stepper = weft._task_stepper
weft._task_stepper = nil
-- Under Lua 5.4, weft.yield() yields this value, which no other code
-- yields: whoever resumed the task queues its next step.
local YIELDED = { "weft.yield" }
local NONE = {}            -- VALUES: no value (see above)
local epoch = 0            -- bumped when the runtime or scope goes away
local named = 0            -- default names given ("task-<n>")
local closing = false      -- the runtime or scope is going away: every task ends now

local function raise(status, message) error(make_error(status, message), 3) end

local function extra(t)
  local x = t[EXTRA]
  if not x then
    x = {}
    t[EXTRA] = x
  end
  return x
end

-- The text of an error value, as task.c's wl_tostring gives it.
local function error_text(err)
  local kind = type(err)
  if kind == "string" or kind == "number" then return tostring(err) end
  local mt = getmetatable(err)
  if type(mt) == "table" and mt.__tostring then
    local ok, text = pcall(tostring, err)
    if ok and type(text) == "string" then return text end
  end
  return "(error object is a " .. kind .. " value)"
end

local function task_name(t)
  local x = extra(t)
  local name = x.label
  if name == nil then
    named = named + 1
    name = "task-" .. named
    x.label = name
  end
  return name
end

local function epoch_of(t) -- the epoch of the runtime task t belongs to
  local x = t[EXTRA]
  return t[STATE] >= DONE and t[WAIT] or x and x.epoch or epoch
end

local function cancel_error_of(message) return make_error(CANCELLED, message) end


-- ---- finishing ----

local finish

-- Waiter w (suspended on a task that finished) goes on: queued to read the
-- outcome; ended with it if the runtime is going away or refuses work.
local function wake_waiter(w)
  if w[STATE] ~= SUSPENDED then return end
  if not closing and enqueue(w) then return end
  w[WAIT] = false
  extra(w).reported = true
  finish(w, KILLED, cancel_error_of("the runtime or scope was closed"))
end

-- What finishing costs beyond the common case: an epoch kept, waiters, a future.
local function finish_extra(t, x, state, value)
  if x.epoch then t[WAIT] = x.epoch end
  local waiters = x.waiters
  if waiters then
    x.waiters = nil
    for i = 1, #waiters do wake_waiter(waiters[i]) end
  end
  local future = x.future
  if future then
    if state == DONE then future_settle(future, "ok", value)
    elseif state == KILLED then future_settle(future, "cancelled")
    else future_settle(future, "error", value, error_text(value)) end
  end
end

-- Takes finished task t out of the list of live tasks and settles its extras
-- (waiters, weft future) with state and value.
local function leave_alive(t, state, value)
  local prev, nxt = t[PREV], t[NEXT]
  if prev then
    prev[NEXT] = nxt
    t[PREV] = false
  else
    alive = nxt
  end
  if nxt then
    nxt[PREV] = prev
    t[NEXT] = false
  end
  alive_count = alive_count - 1
  local x = t[EXTRA]
  if x then finish_extra(t, x, state, value) end
end

-- Ends task t: its state, its value (the first result or the error), its
-- results beyond the first; then it leaves the list of live tasks, its
-- waiters go on, in the order they came, and its weft future
-- (task:future()) completes.
finish = function(t, state, value, values)
  t[STATE], t[VALUE], t[VALUES], t[CO], t[WAIT] = state, value, values or false, false, epoch
  leave_alive(t, state, value)
end

-- finish(t, DONE, value) for a task that returned n values, at most one
-- (most tasks' last step; t is running, so its VALUES is false already).
local function finish_done(t, value, n)
  t[STATE], t[VALUE], t[CO], t[WAIT] = DONE, value, false, epoch
  if n == 0 then t[VALUES] = NONE end
  leave_alive(t, DONE, value)
end

-- The task's coroutine failed with err (its stack is still there for the
-- traceback): a cancellation ends it as cancelled; an error nobody awaits
-- goes to the error handler.
local function fail(t, err)
  if type(err) == "table" and err.status == CANCELLED then return finish(t, KILLED, err) end
  local x = extra(t)
  if not x.reported and not (x.waiters and #x.waiters > 0) and not closing then
    x.reported = true
    report(err, traceback(t[CO], error_text(err)), "task '" .. task_name(t) .. "' failed")
  end
  return finish(t, FAILED, err)
end

-- ---- stepping ----

local step

-- What resume answered for task t (previous: the task that was running).
local function settle(t, previous, ok, ...)
  current = previous
  if not ok then return fail(t, (...)) end
  if t[STATE] == SUSPENDED then return end -- a weft wait: whatever it waits for resumes it
  if status(t[CO]) == "dead" then
    local n = select("#", ...)
    if n > 1 then return finish(t, DONE, (...), { n = n, ... }) end
    return finish_done(t, (...), n)
  end
  -- weft.yield() under Lua 5.4 (it yielded YIELDED), or a plain
  -- coroutine.yield(), which acts as weft.yield()
  t[STATE] = SUSPENDED
  if enqueue(t) then return end
  if (...) == YIELDED and select("#", ...) == 1 then -- weft.yield() raises
    return step(t, false, make_error(weft.WEFT_ERR_CLOSED, "weft.yield: the loop refuses new work"))
  end
  -- the loop refuses work: the task cannot go on
  return finish(t, KILLED, cancel_error_of("the task cannot be scheduled: the loop refuses new work"))
end

-- Resumes suspended task t with (ok, values...) now.
step = function(t, ...)
  local previous = current
  current = t
  t[STATE] = RUNNING
  return settle(t, previous, resume(t[CO], ...))
end

-- A queued step (scheduler.lua's drain): starts the task until its first
-- wait, or resumes it with true (or with the cancellation error it got
-- while queued).
local function run_queued(t)
  local state = t[STATE]
  local previous = current
  if state == SCHEDULED then
    local co = create(t[VALUE])
    local args = t[VALUES]
    t[CO], t[VALUE], t[VALUES], t[WAIT], t[STATE] = co, false, false, false, RUNNING
    current = t
    if args ~= NONE then return settle(t, previous, resume(co, args)) end
    local x = t[EXTRA]
    args = x and x.args
    if not args then return settle(t, previous, resume(co)) end
    x.args = nil
    return settle(t, previous, resume(co, unpack(args, 1, args.n)))
  end
  if state ~= SUSPENDED or t[WAIT] ~= true then return end -- finished meanwhile
  local x = t[EXTRA]
  if x then
    local err = x.cancel_error
    if err ~= nil then
      x.cancel_error = nil
      t[WAIT] = false
      return step(t, false, err)
    end
  end
  t[WAIT], t[STATE] = false, RUNNING
  current = t
  return settle(t, previous, resume(t[CO], true))
end

-- ---- spawning ----

-- A new task, scheduled (not queued), at the head of the live list.
local function new_task(fn, n, ...)
  local head = alive
  local t
  if n == 1 then
    t = setmetatable({ false, SCHEDULED, fn, (...), false, false, head, false }, TaskMT)
  else -- none, or several (EXTRA's args)
    local x = n > 1 and { args = { n = n, ... } }
    t = setmetatable({ false, SCHEDULED, fn, NONE, false, false, head, x }, TaskMT)
  end
  if head then head[PREV] = t end
  alive = t
  alive_count = alive_count + 1
  return t
end

--- weft.spawn(fn, ...): a task running fn(...), started on the loop's next
--- turn (after what is queued already).
local function spawn(fn, ...)
  if type(fn) ~= "function" then
    raise(INVALID_ARGUMENT, "weft.spawn: expected a function, got a " .. type(fn))
  end
  local n = select("#", ...)
  local head = alive
  local t
  if n == 1 then
    t = setmetatable({ false, SCHEDULED, fn, (...), false, true, head, false }, TaskMT)
  else -- none, or several (EXTRA's args)
    local x = n > 1 and { args = { n = n, ... } }
    t = setmetatable({ false, SCHEDULED, fn, NONE, false, true, head, x }, TaskMT)
  end
  enqueue(t, "weft.spawn") -- raises without a runtime or when the loop refuses work
  if head then head[PREV] = t end
  alive = t
  alive_count = alive_count + 1
  return t
end
weft.spawn = spawn

--- weft.spawn_now(fn, ...): a task that runs at once until its first wait
--- (Luau's task.spawn).
function weft.spawn_now(fn, ...)
  if type(fn) ~= "function" then
    raise(INVALID_ARGUMENT, "weft.spawn_now: expected a function, got a " .. type(fn))
  end
  weft._check_runtime("weft.spawn_now")
  local t = new_task(fn, select("#", ...), ...)
  run_queued(t)
  return t
end

-- ---- waiting (called inside the task; weft.lua gives them their shape) ----

local function not_in_task(what)
  raise(INVALID_STATE, what .. ": not inside a weft task (use weft.spawn or weft.run)")
end

-- A cancel that came while the task ran is raised at its next wait.
local function take_cancel(x)
  if x.cancel_pending then
    x.cancel_pending = nil
    error(cancel_error_of("the task was cancelled"), 0)
  end
end

-- The outcome the task was resumed with.
local function outcome(ok, ...)
  if ok then return ... end
  error((...), 0)
end

--- weft.yield(): lets the other ready tasks and callbacks run first.
local task_yield
if stepper then
  -- Lua 5.4: yields YIELDED; whoever resumed the task (task_step.c's step,
  -- or settle) queues its next step, or resumes it with an error if the
  -- loop refuses work.
  task_yield = function()
    local t = current
    if t == nil or t[CO] ~= running() then not_in_task("weft.yield") end
    local x = t[EXTRA]
    if x then take_cancel(x) end
    local ok, err = yield(YIELDED)
    if ok then return end
    error(err, 0)
  end
else
  -- LuaJIT: queues its next step, then yields.
  task_yield = function()
    local t = current
    if t == nil or t[CO] ~= running() then not_in_task("weft.yield") end
    local x = t[EXTRA]
    if x then take_cancel(x) end
    if not enqueue(t) then raise(weft.WEFT_ERR_CLOSED, "weft.yield: the loop refuses new work") end
    t[STATE] = SUSPENDED
    local ok, err = yield()
    if ok then return end
    error(err, 0)
  end
end
weft.yield = task_yield

-- The running task, or raises (`what` is not inside a task); raises a
-- cancel that came while it ran.
local function running_task(what)
  local t = current
  if t == nil or t[CO] ~= running() then not_in_task(what) end
  local x = t[EXTRA]
  if x then take_cancel(x) end
  return t
end

local function wake_sleeper(t)
  if t[STATE] ~= SUSPENDED or not is_timer(t[WAIT]) then return end
  t[WAIT] = false
  return step(t, true)
end

--- weft.sleep(seconds): suspends the task for `seconds` of the loop clock
--- (0: as weft.yield()).
function weft.sleep(seconds)
  if type(seconds) ~= "number" then
    raise(INVALID_ARGUMENT, "weft.sleep: seconds must be a number, got a " .. type(seconds))
  end
  if seconds == 0 then return task_yield() end
  local t = running_task("weft.sleep")
  if not (seconds >= 0) or seconds > 1e9 then
    raise(INVALID_ARGUMENT, "weft.sleep: seconds must be between 0 and 1e9")
  end
  local timer = add_timer(seconds, wake_sleeper, t) -- raises if the loop refuses it
  t[STATE], t[WAIT] = SUSPENDED, timer
  return outcome(yield())
end

-- Suspends the running task t on the C wait a _wait_* function registered
-- (it answered true), or raises the error it answered (false, error).
local function suspend_c(t, first, ...)
  if first == false then error((...), 0) end
  t[STATE] = SUSPENDED
  return outcome(yield())
end

--- Awaits a C wait: wait_fn(...) registers it for the running task.
function weft._await_c(what, wait_fn, ...)
  local t = running_task(what)
  return suspend_c(t, wait_fn(...))
end

-- A finished task's outcome: its results, or raises its error.
local function results_of(t)
  local state = t[STATE]
  if state == DONE then
    local values = t[VALUES]
    if not values then return t[VALUE] end
    if values == NONE then return end
    return unpack(values, 1, values.n)
  end
  error(t[VALUE], 0)
end

local function remove_waiter(source, w)
  local x = source[EXTRA]
  local waiters = x and x.waiters
  if not waiters then return end
  for i = 1, #waiters do
    if waiters[i] == w then
      table.remove(waiters, i)
      return
    end
  end
end

--- task:await() (and weft.await(task)): its results, or raises its error.
function Task.await(self)
  local t = current
  if t ~= nil and self[STATE] == DONE and self[VALUES] == false and t[CO] ~= false then
    local x = t[EXTRA]
    if x then take_cancel(x) end
    return self[VALUE] -- finished: no wait (the common case of gathering)
  end
  if t == nil or t[CO] ~= running() then not_in_task("task:await") end
  if getmetatable(self) ~= TaskMT then raise(INVALID_ARGUMENT, "task:await: expected a weft.Task") end
  if self == t then raise(INVALID_ARGUMENT, "task:await: a task cannot await itself") end
  local x = t[EXTRA]
  if x then take_cancel(x) end
  if self[STATE] < DONE then
    local sx = extra(self)
    local waiters = sx.waiters
    if not waiters then
      waiters = {}
      sx.waiters = waiters
    end
    waiters[#waiters + 1] = t
    t[STATE], t[WAIT] = SUSPENDED, self
    local ok, err = yield()
    if not ok then error(err, 0) end
  end
  return results_of(self)
end

-- ---- cancelling ----

-- Cancels live task t: a running one at its next wait, a scheduled one at
-- once, a suspended one by resuming it with the cancellation error on the
-- loop's next turn.
local function cancel(t)
  local state = t[STATE]
  if state == RUNNING then
    extra(t).cancel_pending = true
    return
  end
  if state == SCHEDULED then
    return finish(t, KILLED, cancel_error_of("the task was cancelled before it started"))
  end
  local err = cancel_error_of("the task was cancelled")
  local w = t[WAIT]
  if w == true then -- queued: its step resumes it with the error
    extra(t).cancel_error = err
    return
  end
  t[WAIT] = false
  if type(w) == "userdata" then abandon_wait(w)
  elseif getmetatable(w) == TaskMT then remove_waiter(w, t)
  elseif w then w:cancel() end -- a sleep's timer
  if not closing and enqueue(t) then
    extra(t).cancel_error = err
    return
  end
  return finish(t, KILLED, err)
end

--- task:cancel(): true if the task was still alive.
function Task.cancel(self)
  if self[STATE] >= DONE then return false end
  cancel(self)
  return true
end

-- ---- the task handle ----

--- task:name() / task:name("new name").
function Task.name(self, name)
  if name ~= nil then
    if type(name) ~= "string" and type(name) ~= "number" then
      raise(INVALID_ARGUMENT, "task:name: expected a string, got a " .. type(name))
    end
    name = tostring(name):sub(1, 47)
    local x = extra(self)
    x.label = name
    local future = x.future
    if future and epoch_of(self) == epoch then future_rename(future, name) end
  end
  return task_name(self)
end

--- task:status(): "scheduled", "running", "suspended", "done", "failed" or
--- "cancelled".
function Task.status(self) return STATE_NAMES[self[STATE]] end

--- task:result(): the outcome of a finished task: true, results... or
--- false, error. Raises if it has not finished.
function Task.result(self)
  local state = self[STATE]
  if state < DONE then raise(NOT_READY, "task:result: the task has not finished") end
  if state == DONE then return true, results_of(self) end
  return false, self[VALUE]
end

--- task:future(): a weft future that completes with the task (its first
--- result if it is a nil, boolean, number or string; the failure's status
--- and text; or cancelled) — for the combinators and for C code.
function Task.future(self)
  local x = extra(self)
  local future = x.future
  if future == nil then
    weft._check_runtime("task:future")
    if epoch_of(self) ~= epoch then raise(STALE_HANDLE, "the task's runtime is gone") end
    future = future_new(task_name(self))
    x.future = future
    local state = self[STATE]
    if state == DONE then future_settle(future, "ok", self[VALUE])
    elseif state == KILLED then future_settle(future, "cancelled")
    elseif state == FAILED then future_settle(future, "error", self[VALUE], error_text(self[VALUE])) end
  elseif epoch_of(self) ~= epoch then
    raise(STALE_HANDLE, "the task's runtime is gone")
  end
  return future_share(future)
end

TaskMT.__tostring = function(self) return "weft.Task(" .. task_name(self) .. ")" end

--- weft.current(): the running task, or nil.
function weft.current()
  local t = current
  if t ~= nil and t[CO] == running() then return t end
  return nil
end

function weft.tasks_alive() return alive_count end

-- ---- hooks for the C side and the scheduler ----

-- A C wait of task t completed (task.c): resume it now with (ok, values...).
local function wake(t, ...)
  if type(t[WAIT]) ~= "userdata" then return end
  t[WAIT] = false -- the wait is freed: never abandon it now
  if t[STATE] ~= SUSPENDED then return end
  return step(t, ...)
end

-- The host unloads the script: cancels every live task; returns how many.
local function cancel_all()
  local list, n = {}, 0
  local t = alive
  while t do
    n = n + 1
    list[n] = t
    t = t[NEXT]
  end
  local count = 0
  for i = 1, n do
    t = list[i]
    if t[STATE] < DONE and not extra(t).cancel_sent then
      extra(t).cancel_sent = true
      cancel(t)
      count = count + 1
    end
  end
  return count
end

-- scheduler.lua dropped its queue or its timers. closing: the runtime or
-- scope is going away: every live task ends now as cancelled, without
-- running again. Otherwise (the loop refuses work: the script's scope was
-- cancelled) the tasks whose step or timer was dropped get the cancellation
-- error at their wait (or end, if they never started).
local function tasks_dropped(is_closing)
  if is_closing then
    closing = true
    local t = alive
    while t do
      local nxt = t[NEXT]
      if t[STATE] ~= RUNNING then
        local w = t[WAIT]
        if type(w) == "userdata" then abandon_wait(w) end
        extra(t).reported = true
        finish(t, KILLED, cancel_error_of("the runtime or scope was closed"))
        nxt = alive -- finishing one may have finished others
      else -- it ends later, of this epoch
        extra(t).epoch = epoch
      end
      t = nxt
    end
    closing = false
    epoch = epoch + 1
    return
  end
  local dropped, n = {}, 0
  local t = alive
  while t do
    local w = t[WAIT]
    if t[STATE] == SCHEDULED or w == true or (is_timer(w) and not w:active()) then
      n = n + 1
      dropped[n] = t
    end
    t = t[NEXT]
  end
  for i = 1, n do
    t = dropped[i]
    if t[STATE] == SCHEDULED then
      finish(t, KILLED, make_error(CANCELLED, "the task was cancelled before it started: the loop refuses new work"))
    elseif t[STATE] == SUSPENDED then
      local x = extra(t)
      local err = x.cancel_error or cancel_error_of("the loop refuses new work: the scope was cancelled")
      x.cancel_error = nil
      t[WAIT] = false
      step(t, false, err)
    end
  end
end

-- weft.run's main task: spawned like any, its error raised by weft.run
-- instead of reported.
local function spawn_main(fn, ...)
  local t = spawn(fn, ...)
  extra(t).reported = true
  return t
end

-- Its outcome for weft.run: "done", results... / "failed", error / "pending".
local function main_outcome(t)
  local state = t[STATE]
  if state < DONE then return "pending" end
  if state == DONE then return "done", results_of(t) end
  return "failed", t[VALUE]
end

-- The drain's step yielded through weft.yield() (task t is suspended) and
-- the queue was dropped meanwhile: queued again if the loop takes work, else
-- weft.yield() raises in the task.
local function requeue_refused(t)
  if enqueue(t) then return end
  return step(t, false, make_error(weft.WEFT_ERR_CLOSED, "weft.yield: the loop refuses new work"))
end

-- Under Lua 5.4 the queued steps run in C (task_step.c): it reads and sets
-- current, alive, alive_count and epoch as the first upvalue of these
-- functions, and calls run_queued and settle for the rarer cases. Under LuaJIT
-- run_queued itself is faster.
local run_step = run_queued
if stepper then
  run_step = stepper(function() return current end, function() return alive end,
    function() return alive_count end, function() return epoch end, run_queued, settle, YIELDED, NONE)
end
sched.register(run_step, tasks_dropped, requeue_refused)
weft._task_hooks(wake, cancel_all, weft.current)
weft._run_main = { spawn = spawn_main, outcome = main_outcome }
