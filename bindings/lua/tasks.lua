-- tasks.lua: tasks — Lua coroutines scheduled on the ready queue of
-- scheduler.lua — and everything about them that is not the core: waiting
-- on weft operations and timers, awaiting a task that has not finished,
-- cancellation, failures reported with their traceback, the task handle's
-- methods, and the hooks the C side calls (a weft wait completed, the host
-- cancels the script's tasks, weft.run reads main's outcome). Compiled
-- into weft.so and run once by luaopen_weft, after scheduler.lua and
-- task_table.lua and before weft.lua.
--
-- The core — a task's fields, the running task, the list of live tasks,
-- spawn, the queued step and its common outcomes, weft.yield(), awaiting a
-- finished task — is weft._task_core_open's table: under Lua 5.4 tasks are
-- C structures (task_core.c, task_step.c: one userdata each, steps queued
-- and run in C), under LuaJIT Lua tables (task_table.lua). This file reads
-- and sets a task's fields only through the core's accessors (state(t),
-- set_state(t, s), wait(t), ...), so it is the same code under both, and
-- the core calls back here (the hooks at the end) for every rarer outcome.
-- weft.sleep(s) uses a timer of scheduler.lua's heap. A wait on a weft
-- operation (a future, an accept, a connect, a resolve) goes through
-- task.c: a wl_wait (a light userdata the task's wait is set to) holds a
-- registry reference to the task, and weft's callback hands the outcome to
-- wake() below, which resumes the task at once.
--
-- A task is resumed with (true, values...) or (false, error); the waiting
-- function (weft.lua) returns the values or raises the error. A plain
-- coroutine.yield() in a task acts as weft.yield().
--
-- A task's fields (the core's accessors): its state (below); its wait —
-- true while its step is queued, a C wait (light userdata), a task, or a
-- timer; false when running; finished: its runtime's epoch; its coroutine
-- (false before it starts and once it finished); its value (its first
-- result, or its error); its values (false: one result or an error; NONE:
-- none; or { n = n, results... }); its extra: false, or a table of the
-- rarer fields: label (its name), future (task:future()'s), waiters (the
-- tasks awaiting it, in order), reported (its error reached the handler or
-- weft.run), cancel_pending (cancelled while running), cancel_error
-- (resume it with this error), cancel_sent (reached by cancel_all), args
-- ({ n = n, ... } until it starts), epoch (if it ran when its runtime went
-- away).
--
-- Thread: the loop thread.
-- Ownership: a task is kept alive by what it waits for (the ready queue, a
-- timer, the awaited task's waiter list, a C wait's registry reference) and
-- by the list of live tasks, which it leaves when it finishes; its
-- coroutine is dropped then too (its results stay in the task).
local weft = ...

local yield, status = coroutine.yield, coroutine.status
local type, select, error, tostring, getmetatable, pcall =
  type, select, error, tostring, getmetatable, pcall
local traceback = debug.traceback
local unpack = table.unpack or unpack

local sched = weft._sched_tasks
weft._sched_tasks = nil
local add_timer, is_timer = sched.timer, sched.is_timer
local report, abandon_wait = weft._sched_report, weft._wait_abandon
local make_error = weft.error
local CANCELLED, INVALID_STATE, INVALID_ARGUMENT, NOT_READY, STALE_HANDLE, CLOSED =
  weft.WEFT_ERR_CANCELLED, weft.WEFT_ERR_INVALID_STATE, weft.WEFT_ERR_INVALID_ARGUMENT,
  weft.WEFT_ERR_NOT_READY, weft.WEFT_ERR_STALE_HANDLE, weft.WEFT_ERR_CLOSED
local future_new, future_share, future_settle, future_rename =
  weft._task_future_new, weft._task_future_share, weft._task_future_settle, weft._task_future_rename

local SCHEDULED, RUNNING, SUSPENDED = 0, 1, 2
local DONE, FAILED, KILLED = 3, 4, 5
local STATE_NAMES = { [0] = "scheduled", "running", "suspended", "done", "failed", "cancelled" }

local TaskMT = { __name = "weft.Task" }
local Task = {}
TaskMT.__index = Task
weft.Task = TaskMT

local hooks = {} -- filled at the end: what the core calls back
local core = weft._task_core_open(TaskMT, sched.tail, hooks)
weft._task_core_open = nil
local state, set_state, wait, set_wait, co_of, value_of, get_extra, set_extra =
  core.state, core.set_state, core.wait, core.set_wait, core.co, core.value, core.extra, core.set_extra
local running_now, suspend, results_of = core.running, core.suspend, core.results
local first_alive, next_alive, get_epoch = core.first_alive, core.next_alive, core.epoch
local finish, step, enqueue, spawn, NONE, YIELDED =
  core.finish, core.step, core.enqueue, core.spawn, core.NONE, core.YIELDED
local named = 0            -- default names given ("task-<n>")
local closing = false      -- the runtime or scope is going away: every task ends now

local function raise(status, message) error(make_error(status, message), 3) end

local function extra(t)
  local x = get_extra(t)
  if not x then
    x = {}
    set_extra(t, x)
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
  if state(t) >= DONE then return wait(t) end
  local x = get_extra(t)
  return x and x.epoch or get_epoch()
end

-- A wait's object is a C wait (a light userdata; a task is a full one under Lua 5.4).
local function is_c_wait(w) return type(w) == "userdata" and getmetatable(w) == nil end

local function cancel_error_of(message) return make_error(CANCELLED, message) end

-- ---- finishing ----

-- Waiter w (suspended on a task that finished) goes on: queued to read the
-- outcome; ended with it if the runtime is going away or refuses work.
local function wake_waiter(w)
  if state(w) ~= SUSPENDED then return end
  if not closing and enqueue(w) then return end
  set_wait(w, false)
  extra(w).reported = true
  finish(w, KILLED, cancel_error_of("the runtime or scope was closed"))
end

-- What finishing costs beyond the common case (the core calls it for a
-- task with extras, once the task left the live list): an epoch kept,
-- waiters, a future.
function hooks.finish_extra(t, x, st, value)
  if x.epoch then set_wait(t, x.epoch) end
  local waiters = x.waiters
  if waiters then
    x.waiters = nil
    for i = 1, #waiters do wake_waiter(waiters[i]) end
  end
  local future = x.future
  if future then
    if st == DONE then future_settle(future, "ok", value)
    elseif st == KILLED then future_settle(future, "cancelled")
    else future_settle(future, "error", value, error_text(value)) end
  end
end

-- The task's coroutine failed with err (its stack is still there for the
-- traceback): a cancellation ends it as cancelled; an error nobody awaits
-- goes to the error handler.
local function fail(t, err)
  if type(err) == "table" and err.status == CANCELLED then return finish(t, KILLED, err) end
  local x = extra(t)
  if not x.reported and not (x.waiters and #x.waiters > 0) and not closing then
    x.reported = true
    report(err, traceback(co_of(t), error_text(err)), "task '" .. task_name(t) .. "' failed")
  end
  return finish(t, FAILED, err)
end

-- What resume answered for task t (the running task restored) when the
-- core leaves it here: an error, several results, a plain
-- coroutine.yield(), or any outcome of a task with extras.
function hooks.settle_rare(t, ok, ...)
  if not ok then return fail(t, (...)) end
  if state(t) == SUSPENDED then return end -- a weft wait: whatever it waits for resumes it
  if status(co_of(t)) == "dead" then
    local n = select("#", ...)
    if n > 1 then return finish(t, DONE, (...), { n = n, ... }) end
    return finish(t, DONE, (...), n == 0 and NONE or false)
  end
  -- weft.yield() under Lua 5.4 (it yielded YIELDED), or a plain
  -- coroutine.yield(), which acts as weft.yield()
  set_state(t, SUSPENDED)
  if enqueue(t) then return end
  if (...) == YIELDED and select("#", ...) == 1 then -- weft.yield() raises
    return step(t, false, make_error(CLOSED, "weft.yield: the loop refuses new work"))
  end
  -- the loop refuses work: the task cannot go on
  return finish(t, KILLED, cancel_error_of("the task cannot be scheduled: the loop refuses new work"))
end

-- ---- spawning ----

function hooks.spawn_bad(what, fn)
  error(make_error(INVALID_ARGUMENT, what .. ": expected a function, got a " .. type(fn)), 3)
end

--- weft.spawn(fn, ...): a task running fn(...), started on the loop's next
--- turn (after what is queued already).
weft.spawn = spawn

--- weft.spawn_now(fn, ...): a task that runs at once until its first wait
--- (Luau's task.spawn).
local new_task, run_queued = core.new_task, core.run_queued
function weft.spawn_now(fn, ...)
  if type(fn) ~= "function" then
    raise(INVALID_ARGUMENT, "weft.spawn_now: expected a function, got a " .. type(fn))
  end
  weft._check_runtime("weft.spawn_now")
  local t = new_task(fn, ...)
  run_queued(t)
  return t
end

-- A task with extras starts (the core's queued step): its arguments.
function hooks.start_args(t)
  local x = get_extra(t)
  local args = x and x.args
  if not args then return end
  x.args = nil
  return unpack(args, 1, args.n)
end

-- A queued step of a task with extras: resumed with the cancellation error
-- it got while queued, or with true.
function hooks.resume_rare(t)
  local x = get_extra(t)
  local err = x and x.cancel_error
  set_wait(t, false)
  if err ~= nil then
    x.cancel_error = nil
    return step(t, false, err)
  end
  return step(t, true)
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

-- The running task, or raises (`what` is not inside a task); raises a
-- cancel that came while it ran.
local function running_task(what)
  local t, x = running_now()
  if t == nil then not_in_task(what) end
  if x then take_cancel(x) end
  return t
end

-- The outcome the task was resumed with.
local function outcome(ok, ...)
  if ok then return ... end
  error((...), 0)
end

--- weft.yield(): lets the other ready tasks and callbacks run first. The
--- core's weft.yield() comes here outside a task, for a task with extras,
--- and (LuaJIT) when the loop refuses its step.
local task_yield = core.yield
local yield_queues = core.yield_queues
function hooks.yield_slow()
  local t = running_task("weft.yield")
  if not yield_queues then return outcome(yield(YIELDED)) end -- the step queues the next one
  if not enqueue(t) then raise(CLOSED, "weft.yield: the loop refuses new work") end
  suspend(t)
  outcome(yield())
end
weft.yield = task_yield

-- The step's weft.yield() could not queue the next step: it raises in the task.
function hooks.yield_refused(t)
  return step(t, false, make_error(CLOSED, "weft.yield: the loop refuses new work"))
end

local function wake_sleeper(t)
  if state(t) ~= SUSPENDED or not is_timer(wait(t)) then return end
  set_wait(t, false)
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
  suspend(t, add_timer(seconds, wake_sleeper, t)) -- add_timer raises if the loop refuses it
  return outcome(yield())
end

-- Suspends the running task t on the C wait a _wait_* function registered
-- (it answered true), or raises the error it answered (false, error).
local function suspend_c(t, first, ...)
  if first == false then error((...), 0) end
  suspend(t)
  return outcome(yield())
end

--- Awaits a C wait: wait_fn(...) registers it for the running task.
function weft._await_c(what, wait_fn, ...)
  local t = running_task(what)
  return suspend_c(t, wait_fn(...))
end

local function remove_waiter(source, w)
  local x = get_extra(source)
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
--- The core answers a finished task's one result; the rest comes here.
function hooks.await_slow(self)
  local t, x = running_now()
  if t == nil then not_in_task("task:await") end
  if getmetatable(self) ~= TaskMT then raise(INVALID_ARGUMENT, "task:await: expected a weft.Task") end
  if self == t then raise(INVALID_ARGUMENT, "task:await: a task cannot await itself") end
  if x then take_cancel(x) end
  if state(self) < DONE then
    local sx = extra(self)
    local waiters = sx.waiters
    if not waiters then
      waiters = {}
      sx.waiters = waiters
    end
    waiters[#waiters + 1] = t
    suspend(t, self)
    local ok, err = yield()
    if not ok then error(err, 0) end
  end
  return results_of(self)
end
Task.await = core.await

-- ---- cancelling ----

-- Cancels live task t: a running one at its next wait, a scheduled one at
-- once, a suspended one by resuming it with the cancellation error on the
-- loop's next turn.
local function cancel(t)
  local st = state(t)
  if st == RUNNING then
    extra(t).cancel_pending = true
    return
  end
  if st == SCHEDULED then
    return finish(t, KILLED, cancel_error_of("the task was cancelled before it started"))
  end
  local err = cancel_error_of("the task was cancelled")
  local w = wait(t)
  if w == true then -- queued: its step resumes it with the error
    extra(t).cancel_error = err
    return
  end
  set_wait(t, false)
  if getmetatable(w) == TaskMT then remove_waiter(w, t)
  elseif is_c_wait(w) then abandon_wait(w)
  elseif w then w:cancel() end -- a sleep's timer
  if not closing and enqueue(t) then
    extra(t).cancel_error = err
    return
  end
  return finish(t, KILLED, err)
end

--- task:cancel(): true if the task was still alive.
function Task.cancel(self)
  if state(self) >= DONE then return false end
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
    if future and epoch_of(self) == get_epoch() then future_rename(future, name) end
  end
  return task_name(self)
end

--- task:status(): "scheduled", "running", "suspended", "done", "failed" or
--- "cancelled".
function Task.status(self) return STATE_NAMES[state(self)] end

--- task:result(): the outcome of a finished task: true, results... or
--- false, error. Raises if it has not finished.
function Task.result(self)
  local st = state(self)
  if st < DONE then raise(NOT_READY, "task:result: the task has not finished") end
  if st == DONE then return true, results_of(self) end
  return false, value_of(self)
end

--- task:future(): a weft future that completes with the task (its first
--- result if it is a nil, boolean, number or string; the failure's status
--- and text; or cancelled) — for the combinators and for C code.
function Task.future(self)
  local x = extra(self)
  local future = x.future
  if future == nil then
    weft._check_runtime("task:future")
    if epoch_of(self) ~= get_epoch() then raise(STALE_HANDLE, "the task's runtime is gone") end
    future = future_new(task_name(self))
    x.future = future
    local st = state(self)
    if st == DONE then future_settle(future, "ok", value_of(self))
    elseif st == KILLED then future_settle(future, "cancelled")
    elseif st == FAILED then future_settle(future, "error", value_of(self), error_text(value_of(self))) end
  elseif epoch_of(self) ~= get_epoch() then
    raise(STALE_HANDLE, "the task's runtime is gone")
  end
  return future_share(future)
end

TaskMT.__tostring = function(self) return "weft.Task(" .. task_name(self) .. ")" end

--- weft.current(): the running task, or nil.
function weft.current() return (running_now()) end

weft.tasks_alive = core.alive_count

-- ---- hooks for the C side and the scheduler ----

-- A C wait of task t completed (task.c): resume it now with (ok, values...).
local function wake(t, ...)
  if not is_c_wait(wait(t)) then return end
  set_wait(t, false) -- the wait is freed: never abandon it now
  if state(t) ~= SUSPENDED then return end
  return step(t, ...)
end

-- The host unloads the script: cancels every live task; returns how many.
local function cancel_all()
  local list, n = {}, 0
  local t = first_alive()
  while t do
    n = n + 1
    list[n] = t
    t = next_alive(t)
  end
  local count = 0
  for i = 1, n do
    t = list[i]
    if state(t) < DONE and not extra(t).cancel_sent then
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
    local t = first_alive()
    while t do
      local nxt = next_alive(t)
      if state(t) ~= RUNNING then
        local w = wait(t)
        if is_c_wait(w) then abandon_wait(w) end
        extra(t).reported = true
        finish(t, KILLED, cancel_error_of("the runtime or scope was closed"))
        nxt = first_alive() -- finishing one may have finished others
      else -- it ends later, of this epoch
        extra(t).epoch = get_epoch()
      end
      t = nxt
    end
    closing = false
    core.bump_epoch()
    return
  end
  local dropped, n = {}, 0
  local t = first_alive()
  while t do
    local w = wait(t)
    if state(t) == SCHEDULED or w == true or (is_timer(w) and not w:active()) then
      n = n + 1
      dropped[n] = t
    end
    t = next_alive(t)
  end
  for i = 1, n do
    t = dropped[i]
    if state(t) == SCHEDULED then
      finish(t, KILLED, make_error(CANCELLED, "the task was cancelled before it started: the loop refuses new work"))
    elseif state(t) == SUSPENDED then
      local x = extra(t)
      local err = x.cancel_error or cancel_error_of("the loop refuses new work: the scope was cancelled")
      x.cancel_error = nil
      set_wait(t, false)
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
  local st = state(t)
  if st < DONE then return "pending" end
  if st == DONE then return "done", results_of(t) end
  return "failed", value_of(t)
end

-- (LuaJIT) The drain's step yielded through weft.yield() (task t is
-- suspended) and the queue was dropped meanwhile: queued again if the loop
-- takes work, else weft.yield() raises in the task.
local function requeue_refused(t)
  if enqueue(t) then return end
  return hooks.yield_refused(t)
end

hooks[1], hooks[2], hooks[3], hooks[4], hooks[5], hooks[6], hooks[7], hooks[8], hooks[9] =
  hooks.settle_rare, hooks.finish_extra, hooks.yield_slow, hooks.await_slow, hooks.start_args,
  hooks.resume_rare, hooks.yield_refused, sched.push_segment, hooks.spawn_bad -- task_core.h's WL_HOOK_*
sched.register(core.run_queued, tasks_dropped, requeue_refused, core.run_segment and core)
weft._task_hooks(wake, cancel_all, weft.current)
weft._run_main = { spawn = spawn_main, outcome = main_outcome }
