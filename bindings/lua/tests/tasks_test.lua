-- tasks_test.lua: tasks on coroutines — weft.run, spawn, sleep, yield,
-- await, task handles (await, cancel, name, status), cancellation as a
-- catchable error, and Luau's task helpers.
local weft = require "weft"
local check = require "check"

return check.run {
  run_returns_main_results = function()
    local a, b = weft.run(function(x, y) return x + 1, y .. "!" end, 1, "hi")
    check.eq(a, 2, "first result")
    check.eq(b, "hi!", "second result")
  end,

  run_raises_main_error = function()
    local ok, err = pcall(weft.run, function() error("boom", 0) end)
    check.eq(ok, false, "pcall")
    check.eq(err, "boom", "error value")
  end,

  run_waits_for_spawned_tasks = function()
    local finished = false
    weft.run(function()
      weft.spawn(function() weft.sleep(0.02); finished = true end)
    end)
    check.truthy(finished, "the spawned task ran to its end before run returned")
  end,

  run_cannot_nest = function()
    weft.run(function()
      check.raises(weft.WEFT_ERR_INVALID_STATE, weft.run, function() end)
    end)
  end,

  spawn_outside_run_is_refused = function()
    check.raises(weft.WEFT_ERR_INVALID_STATE, weft.spawn, function() end)
    check.raises(weft.WEFT_ERR_INVALID_STATE, weft.spawn, function() end, 1, 2)
    check.eq(weft.tasks_alive(), 0, "nothing was left behind")
    weft.run(function() check.eq(weft.spawn(function(x) return x end, 7):await(), 7, "spawn works after") end)
  end,

  await_outside_a_task_is_refused = function()
    check.raises(weft.WEFT_ERR_INVALID_STATE, weft.sleep, 0)
  end,

  spawn_starts_on_the_next_turn_in_order = function()
    local order = {}
    weft.run(function()
      for i = 1, 3 do weft.spawn(function() order[#order + 1] = i end) end
      order[#order + 1] = "main"
    end)
    check.eq(table.concat(order, ","), "main,1,2,3", "order")
  end,

  yield_interleaves_tasks = function()
    local order = {}
    weft.run(function()
      local function worker(name)
        for i = 1, 3 do
          order[#order + 1] = name .. i
          weft.yield()
        end
      end
      local a, b = weft.spawn(worker, "a"), weft.spawn(worker, "b")
      a:await(); b:await()
    end)
    check.eq(table.concat(order, ","), "a1,b1,a2,b2,a3,b3", "interleaving")
  end,

  plain_coroutine_yield_in_a_task_acts_as_weft_yield = function()
    local steps = 0
    weft.run(function()
      local t = weft.spawn(function()
        for _ = 1, 3 do coroutine.yield(); steps = steps + 1 end
        return "ok"
      end)
      check.eq(t:await(), "ok", "result")
    end)
    check.eq(steps, 3, "steps")
  end,

  sleep_waits_at_least_its_time = function()
    weft.run(function()
      local start = weft.now()
      weft.sleep(0.03)
      check.truthy(weft.now() - start >= 0.03, "slept 30 ms")
    end)
  end,

  sleep_rejects_bad_seconds = function()
    weft.run(function()
      check.raises(weft.WEFT_ERR_INVALID_ARGUMENT, weft.sleep, -1)
      check.raises(nil, weft.sleep, "soon")
    end)
  end,

  task_await_returns_all_results = function()
    weft.run(function()
      local t = weft.spawn(function() weft.sleep(0.001); return 1, nil, "three" end)
      local a, b, c = t:await()
      check.eq(a, 1, "a"); check.eq(b, nil, "b"); check.eq(c, "three", "c")
      -- awaiting a finished task answers at once, again
      local x = weft.await(t)
      check.eq(x, 1, "second await")
    end)
  end,

  task_await_raises_its_error = function()
    weft.run(function()
      weft.set_error_handler(function() end)
      local t = weft.spawn(function() weft.yield(); error({ code = 7 }) end)
      local ok, err = pcall(t.await, t)
      check.eq(ok, false, "pcall")
      check.eq(err.code, 7, "the task's error value")
      check.eq(t:status(), "failed", "status")
      weft.set_error_handler(nil)
    end)
  end,

  task_cannot_await_itself = function()
    weft.run(function()
      local me = weft.current()
      check.raises(weft.WEFT_ERR_INVALID_ARGUMENT, me.await, me)
    end)
  end,

  names = function()
    weft.run(function()
      local t = weft.spawn(function() end)
      check.truthy(t:name():match("^task%-%d+$"), "default name")
      check.eq(t:name("loader"), "loader", "renamed")
      check.eq(tostring(t), "weft.Task(loader)", "tostring")
    end)
  end,

  cancel_a_sleeping_task_raises_cancelled_inside_it = function()
    local seen
    weft.run(function()
      local t = weft.spawn(function()
        local ok, err = pcall(weft.sleep, 60)
        seen = err
        check.eq(ok, false, "sleep was interrupted")
        return "cleaned up"
      end)
      weft.sleep(0.01)
      check.eq(t:cancel(), true, "cancel of a live task")
      check.eq(t:await(), "cleaned up", "the task caught it and returned")
    end)
    check.truthy(weft.is_cancelled(seen), "the error identifies cancellation")
    check.eq(seen.name, "WEFT_ERR_CANCELLED", "its name")
  end,

  cancel_before_start = function()
    local ran = false
    weft.run(function()
      local t = weft.spawn(function() ran = true end)
      check.eq(t:cancel(), true, "cancelled")
      check.eq(t:status(), "cancelled", "status")
      local err = check.raises(weft.WEFT_ERR_CANCELLED, t.await, t)
      check.truthy(weft.is_cancelled(err), "is_cancelled")
      check.eq(t:cancel(), false, "second cancel")
    end)
    check.eq(ran, false, "never ran")
  end,

  cancel_uncaught_ends_the_task_as_cancelled = function()
    weft.run(function()
      local t = weft.spawn(function() weft.sleep(60) end)
      weft.yield()
      t:cancel()
      check.raises(weft.WEFT_ERR_CANCELLED, t.await, t)
      check.eq(t:status(), "cancelled", "status")
    end)
  end,

  self_cancel_raises_at_the_next_wait = function()
    weft.run(function()
      local t = weft.spawn(function()
        weft.current():cancel()
        local ok, err = pcall(weft.yield)
        return ok, err and err.status
      end)
      local ok, status = t:await()
      check.eq(ok, false, "the wait raised")
      check.eq(status, weft.WEFT_ERR_CANCELLED, "with cancellation")
    end)
  end,

  cancel_a_task_waiting_for_a_task = function()
    weft.run(function()
      local slow = weft.spawn(function() weft.sleep(0.05); return "slow" end)
      local waiter = weft.spawn(function() return slow:await() end)
      weft.sleep(0.005)
      waiter:cancel()
      check.raises(weft.WEFT_ERR_CANCELLED, waiter.await, waiter)
      check.eq(slow:await(), "slow", "the awaited task went on")
    end)
  end,

  luau_task_helpers = function()
    weft.run(function()
      local order = {}
      weft.task.defer(function() order[#order + 1] = "defer" end)
      weft.task.spawn(function() order[#order + 1] = "spawn"; weft.yield(); order[#order + 1] = "spawn2" end)
      order[#order + 1] = "main"
      local d = weft.task.delay(0.01, function(x) order[#order + 1] = x end, "delay")
      local waited = weft.task.wait(0.02)
      check.truthy(waited >= 0.02, "wait returns the time waited")
      d:await()
      check.eq(table.concat(order, ","), "spawn,main,defer,spawn2,delay", "order")
      local never = weft.task.delay(10, function() error("must not run") end)
      check.eq(weft.task.cancel(never), true, "task.cancel")
    end)
  end,

  current_is_nil_outside_tasks = function()
    check.eq(weft.current(), nil, "outside run")
    weft.run(function() check.truthy(weft.current() ~= nil, "inside main") end)
  end,

  tasks_are_counted_and_released = function()
    weft.run(function()
      local before = weft.tasks_alive()
      local t = weft.spawn(function() weft.sleep(0.001) end)
      check.eq(weft.tasks_alive(), before + 1, "alive")
      t:await()
      check.eq(weft.tasks_alive(), before, "finished")
    end)
  end,

  finished_tasks_are_collected_with_their_coroutines_and_futures = function()
    weft.run(function()
      local rt = weft.runtime()
      collectgarbage(); collectgarbage()
      local futures_before = weft.runtime_stats(rt).futures_alive
      local seen = setmetatable({}, { __mode = "k" })
      local tasks = {}
      for i = 1, 200 do
        local t = weft.spawn(function(x)
          seen[coroutine.running()] = true
          weft.yield()
          if x % 2 == 0 then error("task " .. x .. " failed", 0) end
          return x
        end, i)
        if i % 3 == 0 then t:future() end -- a weft future held for the task
        tasks[i] = t
        seen[t] = true
      end
      weft.set_error_handler(function() end)
      weft.yield() -- every task has started and waits at its yield
      local count = 0
      for _ in pairs(seen) do count = count + 1 end
      check.eq(count, 400, "200 tasks and their coroutines seen")
      for i = 1, 200 do
        local ok, value = pcall(tasks[i].await, tasks[i])
        check.eq(ok, i % 2 == 1, "outcome of " .. i)
        if ok then check.eq(value, i, "result of " .. i) else check.eq(value, "task " .. i .. " failed", "error of " .. i) end
        local rok, rvalue = tasks[i]:result() -- the results stay with the finished task
        check.eq(rok, ok, "result() of " .. i)
        check.eq(rvalue, value, "result() value of " .. i)
      end
      weft.set_error_handler(nil)
      collectgarbage(); collectgarbage()
      count = 0
      for _ in pairs(seen) do count = count + 1 end
      check.eq(count, 200, "a finished task lets its coroutine go (its results stay)")
      tasks = nil
      weft.yield()
      collectgarbage(); collectgarbage(); collectgarbage()
      count = 0
      for _ in pairs(seen) do count = count + 1 end
      check.eq(count, 0, "tasks and coroutines collected")
      weft.yield()
      check.eq(weft.runtime_stats(rt).futures_alive, futures_before, "the tasks' futures released")
    end)
  end,

  naming_a_task_after_its_runtime_ended = function()
    local t = weft.run(function()
      local t = weft.spawn(function() return 1 end)
      t:future() -- a weft future that goes away with the runtime
      t:await()
      return t
    end)
    check.eq(t:name("renamed"), "renamed", "the handle still answers")
    check.eq(t:status(), "done", "status")
  end,
}
