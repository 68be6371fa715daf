-- task_handle_test.lua: the task handle through W6's fast paths and the
-- rarer ones: results and arguments of every count (nil ones included),
-- await of a running task and of a finished one, errors raised at await,
-- cancellation while queued and while running, names, a plain
-- coroutine.yield(), finished or forgotten tasks collected once nothing
-- holds them, and the handles of a runtime gone.
local weft = require "weft"
local check = require "check"

local function pack(...) return { n = select("#", ...), ... } end

return check.run {
  handle_is_a_weft_task = function()
    weft.run(function()
      local t = weft.spawn(function() end)
      check.eq(getmetatable(t), weft.Task, "metatable")
      check.eq(type(t.await), "function", "methods through the handle")
      check.eq(t.no_such_method, nil, "an unknown field")
      t:await()
    end)
  end,

  results_of_every_count = function()
    weft.run(function()
      local none = weft.spawn(function() weft.yield() end)
      local one_nil = weft.spawn(function() weft.yield(); return nil end)
      local one = weft.spawn(function(x) weft.yield(); return x end, 7)
      local many = weft.spawn(function(a, b, c) weft.yield(); return c, b, a end, 1, nil, 3)
      check.eq(select("#", none:await()), 0, "no results")
      local r = pack(one_nil:await())
      check.eq(r.n, 1, "one nil result: count")
      check.eq(r[1], nil, "one nil result")
      check.eq(one:await(), 7, "one result")
      r = pack(many:await())
      check.eq(r.n, 3, "three results: count")
      check.eq(r[1], 3, "first")
      check.eq(r[2], nil, "second")
      check.eq(r[3], 1, "third")
      r = pack(many:result())
      check.eq(r.n, 4, "result(): true and the three")
      check.eq(r[1], true, "result(): ok")
    end)
  end,

  arguments_of_every_count = function()
    weft.run(function()
      local t0 = weft.spawn(function(...) return select("#", ...) end)
      local t1 = weft.spawn(function(...) return select("#", ...) end, nil)
      local t3 = weft.spawn(function(...) return select("#", ...) end, nil, nil, nil)
      check.eq(t0:await(), 0, "no argument")
      check.eq(t1:await(), 1, "one nil argument")
      check.eq(t3:await(), 3, "three nil arguments")
    end)
  end,

  await_a_running_task_then_a_finished_one = function()
    weft.run(function()
      local t = weft.spawn(function() weft.yield(); weft.yield(); return "late" end)
      check.eq(t:await(), "late", "awaited while it ran")
      check.eq(t:await(), "late", "awaited once finished")
      check.eq(weft.await(t), "late", "weft.await")
      check.eq(t:status(), "done", "status")
    end)
  end,

  errors_raise_at_await = function()
    weft.run(function()
      local t = weft.spawn(function() weft.yield(); error("broken", 0) end)
      local ok, err = pcall(t.await, t)
      check.eq(ok, false, "await raised")
      check.eq(err, "broken", "the error")
      check.eq(t:status(), "failed", "status")
      local r = pack(t:result())
      check.eq(r[1], false, "result(): failed")
      check.eq(r[2], "broken", "result(): the error")
    end)
  end,

  cancel_while_queued_and_at_yield = function()
    weft.run(function()
      local reached = false
      local queued = weft.spawn(function() weft.yield(); reached = true end)
      weft.yield() -- started, its next step queued
      check.truthy(queued:cancel(), "cancelled while queued")
      check.raises(weft.WEFT_ERR_CANCELLED, queued.await, queued)
      check.eq(reached, false, "it did not go on")
      check.eq(queued:status(), "cancelled", "status")
      local me
      local running = weft.spawn(function()
        me = weft.current()
        me:cancel() -- cancelled while it runs: raised at its next wait
        weft.yield()
        reached = true
      end)
      check.raises(weft.WEFT_ERR_CANCELLED, running.await, running)
      check.eq(me, running, "weft.current() is the handle")
      check.eq(reached, false, "the yield raised")
      check.eq(running:cancel(), false, "a finished task")
    end)
  end,

  names_through_the_handle = function()
    weft.run(function()
      local t = weft.spawn(function() weft.yield() end)
      check.eq(t:name("worker"), "worker", "named")
      check.eq(tostring(t), "weft.Task(worker)", "tostring")
      t:await()
      check.eq(t:name(), "worker", "the name stays once finished")
    end)
  end,

  plain_coroutine_yield_acts_as_yield = function()
    weft.run(function()
      local order = {}
      local a = weft.spawn(function() order[#order + 1] = "a1"; coroutine.yield(); order[#order + 1] = "a2" end)
      local b = weft.spawn(function() order[#order + 1] = "b1"; weft.yield(); order[#order + 1] = "b2" end)
      a:await()
      b:await()
      check.eq(table.concat(order, " "), "a1 b1 a2 b2", "order")
    end)
  end,

  finished_and_forgotten_tasks_are_collected = function()
    local weak = setmetatable({}, { __mode = "v" })
    weft.run(function()
      local finished = weft.spawn(function(x) weft.yield(); return { x } end, 1)
      weak.result = finished:await()
      weak.finished = finished
      local forgotten = weft.spawn(function() weft.yield(); return {} end)
      weak.forgotten = forgotten
      forgotten = nil -- nothing but the scheduler holds it now
      weft.yield()
      weft.yield()
      check.eq(weak.forgotten and weak.forgotten:status() or "done", "done", "the forgotten one finished")
    end)
    collectgarbage()
    collectgarbage()
    check.eq(weak.finished, nil, "the finished task was collected")
    check.eq(weak.forgotten, nil, "the forgotten task was collected")
    check.eq(weak.result, nil, "its result was collected")
    check.eq(weft.tasks_alive(), 0, "no live task")
  end,

  handles_of_a_runtime_gone = function()
    local done, asleep, started
    check.eq(pcall(weft.run, function()
      done = weft.spawn(function() return 1 end)
      done:await()
      asleep = weft.spawn(function() weft.await(weft.future()) end)
      started = weft.spawn(function(a, b) return a + b end, 2, 3)
      weft.yield()
      weft.loop_stop(weft.loop()) -- the runtime goes away with tasks waiting
      weft.sleep(60)
    end), false, "main never finished")
    check.eq(asleep:status(), "cancelled", "a task left waiting ends with its runtime")
    weft.run(function()
      check.raises(weft.WEFT_ERR_STALE_HANDLE, done.future, done)
      check.raises(weft.WEFT_ERR_STALE_HANDLE, asleep.future, asleep)
      check.eq(started:await(), 5, "a finished task's results outlive its runtime")
      local fresh = weft.spawn(function() weft.yield() end)
      check.eq(weft.await(fresh:future()), nil, "a task of this runtime has a future")
    end)
  end,
}
