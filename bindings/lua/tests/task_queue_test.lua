-- task_queue_test.lua: tasks stepped from the Lua ready queue (tasks.lua on
-- scheduler.lua's queue): a cancel that reaches a queued step, a failing
-- task among yielding ones, a task awaiting a weft future resolved by a
-- weft-level (C queue) callback while others yield, FIFO fairness between
-- call_soon callbacks and task steps, weft.yield letting weft's own queue
-- run, many tasks yielding many times, a cancelled scope dropping queued
-- steps, and a scope closed under tasks in every kind of wait; a queue
-- long enough to be split (scheduler.lua) keeps its order, and a scope
-- cancelled or a loop stopped while it is split loses nothing else. Under
-- Lua 5.4 the steps wait in C behind markers of the queue (task_step.c):
-- steps queued back to back share a marker, a callback between them
-- starts a new one, weft.loop_stop from a task ends the run of steps, and
-- a finished task whose step is still queued stays safe to collect.
local check = require "check"
local weft = require "weft"

local function capture_errors()
  local seen = {}
  weft.set_error_handler(function(err, traceback, where)
    seen[#seen + 1] = { err = err, traceback = traceback, where = where }
  end)
  return seen
end

return check.run {
  cancel_reaches_a_queued_step = function()
    local seen
    weft.run(function()
      local t = weft.spawn(function()
        local ok, err = pcall(weft.yield)
        seen = err
        check.eq(ok, false, "the yield raised")
        return "caught"
      end)
      weft.yield() -- t starts and yields: its step is queued behind ours
      check.eq(t:status(), "suspended", "queued")
      check.eq(t:cancel(), true, "cancel of a queued task")
      check.eq(t:await(), "caught", "the task caught the cancellation and returned")
    end)
    check.truthy(weft.is_cancelled(seen), "the error identifies cancellation")
  end,

  cancel_of_a_scheduled_task_drops_its_step = function()
    local ran = {}
    weft.run(function()
      local a = weft.spawn(function() ran[#ran + 1] = "a" end)
      local b = weft.spawn(function() ran[#ran + 1] = "b" end)
      a:cancel()
      b:await()
      check.eq(a:status(), "cancelled", "a")
      check.eq(weft.tasks_alive(), 1, "only main is alive")
    end)
    check.eq(table.concat(ran, ","), "b", "a never ran")
  end,

  a_failing_task_among_yielding_ones = function()
    local seen, sum
    weft.run(function()
      seen = capture_errors()
      local tasks = {}
      for i = 1, 100 do
        tasks[i] = weft.spawn(function()
          weft.yield()
          if i == 50 then error("task fifty broke") end
          weft.yield()
          return i
        end)
      end
      sum = 0
      weft.sleep(0.001) -- task 50 fails unobserved: reported
      for i = 1, 100 do
        local ok, value = tasks[i]:result()
        if i == 50 then
          check.eq(ok, false, "task 50 failed")
          check.truthy(tostring(value):find("task fifty broke"), "its error")
        else
          sum = sum + value
        end
      end
    end)
    weft.set_error_handler(nil)
    check.eq(sum, 5050 - 50, "the others finished")
    check.eq(#seen, 1, "one failure reported")
    check.truthy(seen[1].where:find("task%-%d+"), "where names the task: " .. seen[1].where)
    check.truthy(seen[1].traceback:find("task_queue_test.lua:64"), "the traceback shows the line")
  end,

  a_task_awaits_a_weft_future_while_others_yield = function()
    local order = {}
    weft.run(function()
      local future = weft.future()
      local waiter = weft.spawn(function()
        local value = future:await()
        order[#order + 1] = "waiter got " .. value
        return value
      end)
      local yielders = {}
      for i = 1, 3 do
        yielders[i] = weft.spawn(function()
          for step = 1, 4 do
            order[#order + 1] = "y" .. i .. "." .. step
            weft.yield()
          end
        end)
      end
      -- resolved from weft's own (C) queue, not the Lua one
      weft.loop_call_soon(weft.loop(), function() future:resolve(42) end)
      check.eq(waiter:await(), 42, "the waiter's value")
      for i = 1, 3 do yielders[i]:await() end
    end)
    local text = table.concat(order, " ")
    check.truthy(text:find("waiter got 42", 1, true), "the waiter resumed: " .. text)
    check.truthy(text:find("y3.4", 1, true), "the yielders finished: " .. text)
    check.eq(#order, 13, "every step once")
  end,

  call_soon_and_task_steps_share_one_fifo = function()
    local order = {}
    local function log(x) order[#order + 1] = x end
    weft.run(function()
      weft.call_soon(function() log("c1") end)
      local t = weft.spawn(function() log("t1"); weft.yield(); log("t1b") end)
      weft.call_soon(function()
        log("c2")
        weft.call_soon(function() log("c3") end)
      end)
      t:await()
      weft.sleep(0.001)
    end)
    check.eq(table.concat(order, ","), "c1,t1,c2,t1b,c3", "FIFO across kinds")
  end,

  steps_and_callbacks_keep_their_order_across_drains = function()
    local order = {}
    local function log(x) order[#order + 1] = x end
    weft.run(function()
      local a = weft.spawn(function() log("a"); weft.yield(); log("a2") end)
      local b = weft.spawn(function()
        log("b")
        weft.call_soon(function() log("cb") end) -- after a's next step, before b's
        weft.yield()
        log("b2")
      end)
      weft.call_soon(function() log("c") end)
      local d = weft.spawn(function() log("d"); weft.yield(); log("d2") end)
      weft.call_soon(function() log("e") end)
      a:await()
      b:await()
      d:await()
    end)
    check.eq(table.concat(order, ","), "a,b,c,d,e,a2,cb,b2,d2", "one FIFO")
  end,

  loop_stop_in_a_task_ends_the_batch_of_steps = function()
    local ran = {}
    local ok = pcall(weft.run, function()
      weft.spawn(function() ran[#ran + 1] = "t1"; weft.loop_stop(weft.loop()) end)
      weft.spawn(function() ran[#ran + 1] = "t2" end)
      weft.sleep(1)
    end)
    check.eq(ok, false, "weft.run: the loop stopped before main finished")
    check.eq(table.concat(ran, ","), "t1", "t2 waited for the next run, which never came")
  end,

  a_finished_task_with_a_queued_step_is_collected_once_it_is_taken = function()
    local weak = setmetatable({}, { __mode = "v" })
    weft.run(function()
      local t = weft.spawn(function() end)
      check.eq(t:cancel(), true, "cancelled before it started: its step is still queued")
      weak.t = t
      t = nil
      collectgarbage()
      collectgarbage()
      weft.yield() -- the step is taken, and skipped
      weft.yield()
    end)
    collectgarbage()
    collectgarbage()
    check.eq(weak.t, nil, "collected")
    check.eq(weft.tasks_alive(), 0, "no live task")
  end,

  a_table_with_the_task_metatable_is_not_a_task = function()
    local fake = setmetatable({}, weft.Task)
    local ok, err = pcall(fake.status, fake)
    if not jit then -- Lua 5.4: a task is a C structure
      check.eq(ok, false, "refused")
      check.truthy(tostring(err):find("weft.Task", 1, true), "says what it expected: " .. tostring(err))
      weft.run(function()
        local ok2, err2 = pcall(weft.await, fake)
        check.eq(ok2, false, "await refused")
        check.truthy(tostring(err2):find("weft.Task", 1, true), "await says what it expected: " .. tostring(err2))
      end)
    end
  end,

  yield_lets_weft_callbacks_queued_before_it_run = function()
    local order = {}
    weft.run(function()
      local loop = weft.loop()
      for _ = 1, 3 do
        weft.loop_call_soon(loop, function() order[#order + 1] = "weft" end)
        weft.yield()
        order[#order + 1] = "task"
      end
    end)
    check.eq(table.concat(order, ","), "weft,task,weft,task,weft,task", "each yield let weft's queue run")
  end,

  many_tasks_yield_many_times = function()
    local sum, steps = 0, 0
    weft.run(function()
      local tasks = {}
      for i = 1, 5000 do
        tasks[i] = weft.spawn(function(x)
          for _ = 1, 3 do steps = steps + 1; weft.yield() end
          return x, -x
        end, i)
      end
      for i = 1, 5000 do
        local a, b = tasks[i]:await()
        check.eq(b, -a, "second result")
        sum = sum + a
      end
      check.eq(weft.tasks_alive(), 1, "only main left")
    end)
    check.eq(sum, 5000 * 5001 / 2, "sum")
    check.eq(steps, 15000, "steps")
  end,

  sleep_zero_is_a_yield = function()
    local order = {}
    weft.run(function()
      local t = weft.spawn(function() order[#order + 1] = "other" end)
      weft.sleep(0)
      order[#order + 1] = "main"
      t:await()
    end)
    check.eq(table.concat(order, ","), "other,main", "sleep(0) let the queued task run")
  end,

  a_cancelled_scope_cancels_queued_steps = function()
    local seen
    pcall(weft.run, function()
      weft.spawn(function()
        local ok, err = pcall(weft.yield)
        seen = err
      end)
      weft.call_soon(function()
        -- by now the task has yielded; its step is queued
        weft.scope_cancel(weft.loop_scope(weft.loop()))
      end)
      weft.sleep(0.05)
    end)
    check.truthy(weft.is_cancelled(seen), "the queued task got the cancellation: " .. tostring(seen))
  end,

  -- weft.yield raising WEFT_ERR_CLOSED once the loop refuses work: under
  -- Lua 5.4 the step queues a yielding task after the yield, so these take
  -- tasks.lua's requeue_refused (a task stepped from the drain) and
  -- settle's YIELDED check (a task started at once).
  weft_yield_raises_closed_once_the_loop_refuses_work = function()
    local seen, finished
    pcall(weft.run, function()
      local t = weft.spawn(function()
        weft.yield() -- its next step runs from the drain
        weft.scope_cancel(weft.loop_scope(weft.loop())) -- drops the queue: no new work
        local ok, err = pcall(weft.yield)
        seen = err
        return ok
      end)
      weft.call_soon(function() finished = t end)
      weft.sleep(0.05)
    end)
    check.truthy(weft.is_error(seen, weft.WEFT_ERR_CLOSED), "weft.yield raised WEFT_ERR_CLOSED: " .. tostring(seen))
    check.truthy(tostring(seen):find("weft.yield: the loop refuses new work", 1, true), "its message: " .. tostring(seen))
    check.eq(finished:status(), "done", "the task went on after the error")
    check.eq(select(2, finished:result()), false, "its pcall saw the error")
  end,

  weft_yield_raises_closed_in_a_task_started_at_once = function()
    local seen, t
    pcall(weft.run, function()
      t = weft.spawn_now(function() -- runs now, not from the drain
        weft.scope_cancel(weft.loop_scope(weft.loop()))
        local ok, err = pcall(weft.yield)
        seen = err
        return ok
      end)
    end)
    check.truthy(weft.is_error(seen, weft.WEFT_ERR_CLOSED), "weft.yield raised WEFT_ERR_CLOSED: " .. tostring(seen))
    check.eq(t:status(), "done", "the task went on after the error")
  end,

  the_runtime_going_away_ends_tasks_in_every_wait = function()
    local statuses = {}
    local tasks = {}
    local ok = pcall(weft.run, function()
      local never = weft.future()
      tasks.sleeping = weft.spawn(function() weft.sleep(60) end)
      tasks.future = weft.spawn(function() never:await() end)
      tasks.awaiting = weft.spawn(function() tasks.sleeping:await() end)
      tasks.queued = weft.spawn(function() while true do weft.yield() end end)
      weft.yield()
      weft.loop_stop(weft.loop()) -- the loop returns with all of them waiting
      weft.sleep(60)
    end)
    check.eq(ok, false, "main never finished")
    for name, t in pairs(tasks) do statuses[#statuses + 1] = name .. "=" .. t:status() end
    table.sort(statuses)
    check.eq(table.concat(statuses, ","), "awaiting=cancelled,future=cancelled,queued=cancelled,sleeping=cancelled",
             "every task ended")
    check.eq(weft.tasks_alive(), 0, "none alive")
    local _, err = tasks.future:result()
    check.truthy(weft.is_cancelled(err), "ended as cancelled")
  end,

  a_split_queue_keeps_fifo_order_across_kinds = function()
    -- 3000 tasks yield 4 times with a callback queued before each yield:
    -- the queue holds thousands of slots, so it is split several times
    local n, rounds = 3000, 4
    local order = {}
    weft.run(function()
      local tasks = {}
      for i = 1, n do
        tasks[i] = weft.spawn(function()
          for r = 1, rounds do
            weft.call_soon(function() order[#order + 1] = "c" .. r .. ":" .. i end)
            order[#order + 1] = "t" .. r .. ":" .. i
            weft.yield()
          end
          return i
        end)
      end
      local sum = 0
      for i = 1, n do sum = sum + tasks[i]:await() end
      check.eq(sum, n * (n + 1) / 2, "every task finished")
    end)
    check.eq(#order, 2 * n * rounds, "every step and every callback ran once")
    -- within a round, the steps and the callbacks each come in task order,
    -- and task i's callback of round r runs before its step of round r + 1
    local last = {}
    local position = {}
    for k, entry in ipairs(order) do
      local kind, r, i = entry:match("^(%a)(%d+):(%d+)$")
      r, i = tonumber(r), tonumber(i)
      local key = kind .. r
      check.truthy((last[key] or 0) < i, "in order: " .. entry .. " after " .. tostring(last[key]))
      last[key] = i
      position[entry] = k
    end
    for i = 1, n, 97 do
      for r = 1, rounds - 1 do
        check.truthy(position["c" .. r .. ":" .. i] < position["t" .. (r + 1) .. ":" .. i],
                     "callback before the next step, task " .. i)
      end
    end
  end,

  a_scope_cancelled_while_the_queue_is_split = function()
    local started, cancelled, finished, late = 0, 0, 0, 0
    pcall(weft.run, function()
      for _ = 1, 3000 do
        weft.spawn(function()
          started = started + 1
          local ok = pcall(function()
            for _ = 1, 1000 do weft.yield() end
          end)
          if ok then finished = finished + 1 else cancelled = cancelled + 1 end
        end)
      end
      while started < 3000 do weft.yield() end -- every task is in the queue now
      weft.call_soon(function()
        weft.call_soon(function() late = late + 1 end) -- dropped with the queue
        weft.scope_cancel(weft.loop_scope(weft.loop()))
      end)
      weft.sleep(60)
    end)
    check.eq(started, 3000, "every task started")
    check.eq(finished, 0, "no task ran its 1000 yields")
    check.eq(cancelled, 3000, "every queued task got the cancellation")
    check.eq(late, 0, "the dropped callback never ran")
  end,

  the_runtime_going_away_while_the_queue_is_split = function()
    local steps = 0
    local tasks = {}
    local ok = pcall(weft.run, function()
      for i = 1, 3000 do
        tasks[i] = weft.spawn(function()
          for _ = 1, 3 do
            steps = steps + 1
            if steps == 5000 then weft.loop_stop(weft.loop()) end -- mid-queue
            weft.yield()
          end
        end)
      end
      for i = 1, 3000 do tasks[i]:await() end
    end)
    check.eq(ok, false, "the loop stopped before main finished")
    check.truthy(steps >= 5000 and steps < 9000, "stopped mid-queue: " .. steps)
    check.eq(weft.tasks_alive(), 0, "none alive")
    for i = 1, 3000 do
      check.eq(tasks[i]:status(), "cancelled", "task " .. i .. " ended as cancelled")
    end
  end,
}
