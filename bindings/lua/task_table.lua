-- task_table.lua: tasks as Lua tables, under LuaJIT — the functions
-- tasks.lua calls the core (under Lua 5.4 task_core.c and task_step.c give
-- the same ones over C structures): a task's fields, the running task, the
-- list of live tasks, and the hot paths of W6 (spawn, the queued step and
-- what its outcome most often is, weft.yield(), awaiting a finished task)
-- with the slots indexed directly, which LuaJIT runs fastest. The rarer
-- outcomes go to tasks.lua's hooks. Compiled into weft.so and run once by
-- luaopen_weft, after scheduler.lua and before tasks.lua; under Lua 5.4 it
-- does nothing.
--
--   weft._task_core_open(TaskMT, tail, hooks) -> the core table
--
-- A task is a table (metatable weft.Task) with its fields in array slots
-- (below). Spawning, starting and resuming a task call nothing of weft's C
-- runtime: its step is an entry of scheduler.lua's ready queue.
--
-- Thread: the loop thread.
-- Ownership: a task is kept alive by what it waits for (the ready queue, a
-- timer, the awaited task's waiter list, a C wait's registry reference) and
-- by the list of live tasks (PREV/NEXT), which it leaves when it finishes;
-- its coroutine is dropped then too (its results stay in the task).
-- Speed: W6's paths keep the rarer fields out of the array (EXTRA) and never
-- store into a nil slot.
local weft = ...
if weft._task_core_open then return end -- Lua 5.4: task_core.c

local create, resume, yield, running, status =
  coroutine.create, coroutine.resume, coroutine.yield, coroutine.running, coroutine.status
local type, select, setmetatable, error = type, select, setmetatable, error
local unpack = table.unpack or unpack

-- A task's slots (task.c's WL_TASK_WAIT and scheduler.lua's TASK_WAIT are
-- WAIT). "None" is false.
local CO = 1     -- its coroutine; false before it starts and once it finished
local STATE = 2  -- tasks.lua's states
local VALUE = 3  -- its function before it starts; its first result, or its error
local VALUES = 4 -- its argument, or NONE (none; several: EXTRA's args); finished:
                 -- false (one result or an error), NONE (none) or { n = n, results... }
local PREV, NEXT = 5, 7 -- the list of live tasks
local WAIT = 6   -- what it waits for: true while its step is queued, a C wait (light
                 -- userdata), a task, or a timer; false when running; finished: its epoch
local EXTRA = 8  -- false, or tasks.lua's table of the rarer fields

local SCHEDULED, RUNNING, SUSPENDED, DONE = 0, 1, 2, 3
local enqueue = weft._sched_tasks.enqueue -- enqueue(t[, what]): queues t's step (its WAIT becomes true)

function weft._task_core_open(TaskMT, _, hooks)
  local NONE = {}            -- VALUES: no value
  local YIELDED = {}         -- yielded by no task here (weft.yield() queues its step first)
  local current = nil        -- the task running now
  local alive, alive_count = false, 0 -- the head of the list of live tasks, and their number
  local epoch = 0            -- bumped when the runtime or scope goes away

  -- Takes finished task t out of the list of live tasks; its extras settle.
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
    if x then hooks.finish_extra(t, x, state, value) end
  end

  local function finish(t, state, value, values)
    t[STATE], t[VALUE], t[VALUES], t[CO], t[WAIT] = state, value, values or false, false, epoch
    leave_alive(t, state, value)
  end

  -- finish(t, DONE, value) for a task that returned n values, at most one.
  local function finish_done(t, value, n)
    t[STATE], t[VALUE], t[CO], t[WAIT] = DONE, value, false, epoch
    if n == 0 then t[VALUES] = NONE end
    leave_alive(t, DONE, value)
  end

  -- What resume answered for task t (previous: the task that was running).
  local function settle(t, previous, ok, ...)
    current = previous
    if ok then
      if t[STATE] == SUSPENDED then return end -- weft.yield() or a weft wait
      if status(t[CO]) == "dead" then
        local n = select("#", ...)
        if n <= 1 then return finish_done(t, (...), n) end
      end
    end
    return hooks.settle_rare(t, ok, ...)
  end

  -- Resumes suspended task t with (ok, values...) now.
  local function step(t, ...)
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

  -- A new task, scheduled (not queued), at the head of the live list.
  local function new_task(fn, ...)
    if type(fn) ~= "function" then hooks.spawn_bad("weft.spawn_now", fn) end
    local n = select("#", ...)
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

  --- weft.spawn(fn, ...)
  local function spawn(fn, ...)
    if type(fn) ~= "function" then hooks.spawn_bad("weft.spawn", fn) end
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

  --- weft.yield(): queues its next step, then yields (the checks and a
  --- refusal in tasks.lua's yield_slow).
  local function task_yield()
    local t = current
    if t == nil or t[CO] ~= running() then return hooks.yield_slow() end
    local x = t[EXTRA]
    if x and x.cancel_pending or not enqueue(t) then return hooks.yield_slow() end
    t[STATE] = SUSPENDED
    local ok, err = yield()
    if ok then return end
    error(err, 0)
  end

  --- task:await(): a finished task's one result without a wait; the rest
  --- in tasks.lua's await_slow.
  local function await(self)
    local t = current
    if t ~= nil and self[STATE] == DONE and self[VALUES] == false and t[CO] ~= false then
      local x = t[EXTRA]
      if not (x and x.cancel_pending) then return self[VALUE] end
    end
    return hooks.await_slow(self)
  end

  -- A finished task's outcome: its results, or raises its error.
  local function results(t)
    if t[STATE] == DONE then
      local values = t[VALUES]
      if not values then return t[VALUE] end
      if values == NONE then return end
      return unpack(values, 1, values.n)
    end
    error(t[VALUE], 0)
  end

  return {
    NONE = NONE,
    YIELDED = YIELDED,
    yield_queues = true, -- weft.yield() queues its step before it yields
    state = function(t) return t[STATE] end,
    set_state = function(t, state) t[STATE] = state end,
    wait = function(t) return t[WAIT] end,
    set_wait = function(t, w) t[WAIT] = w end,
    co = function(t) return t[CO] end,
    value = function(t) return t[VALUE] end,
    extra = function(t) return t[EXTRA] end,
    set_extra = function(t, x) t[EXTRA] = x end,
    running = function()
      local t = current
      if t ~= nil and t[CO] == running() then return t, t[EXTRA] end
    end,
    suspend = function(t, w)
      t[STATE] = SUSPENDED
      if w ~= nil then t[WAIT] = w end
    end,
    results = results,
    first_alive = function() return alive end,
    next_alive = function(t) return t[NEXT] end,
    alive_count = function() return alive_count end,
    epoch = function() return epoch end,
    bump_epoch = function() epoch = epoch + 1 end,
    finish = finish,
    spawn = spawn,
    new_task = new_task,
    yield = task_yield,
    await = await,
    run_queued = run_queued,
    step = step,
    enqueue = enqueue,
  }
end
