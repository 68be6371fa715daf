-- scheduler_test.lua: weft.call_soon's ready queue and weft.call_later's
-- timer heap (scheduler.lua): FIFO order across batches and errors, timer
-- order under churn and cancellation, dead timers not keeping the loop
-- alive, callbacks that queue more work not starving the loop.
local check = require "check"
local weft = require "weft"

-- Collects what reaches the error handler.
local function capture_errors()
  local seen = {}
  weft.set_error_handler(function(err, traceback, where)
    seen[#seen + 1] = { err = err, traceback = traceback, where = where }
  end)
  return seen
end

return check.run {
  call_soon_is_fifo_across_batches_and_errors = function()
    local order, seen = {}, nil
    weft.run(function()
      seen = capture_errors()
      -- 300 callbacks (several batches); every 7th raises; each 10th queues
      -- a follower, which must run after everything queued before it.
      for i = 1, 300 do
        weft.call_soon(function()
          order[#order + 1] = i
          if i % 10 == 0 then weft.call_soon(function() order[#order + 1] = -i end) end
          if i % 7 == 0 then error("callback " .. i .. " broke") end
        end)
      end
      weft.sleep(0.01)
    end)
    weft.set_error_handler(nil)
    check.eq(#order, 330, "callbacks run")
    for i = 1, 300 do check.eq(order[i], i, "position " .. i) end
    for k = 1, 30 do check.eq(order[300 + k], -10 * k, "follower " .. k) end
    check.eq(#seen, 42, "errors reported")
    check.truthy(tostring(seen[1].err):find("callback 7 broke"), "the first error")
    check.truthy(seen[1].traceback:find("scheduler_test.lua"), "its traceback shows where")
    check.eq(seen[1].where, "callback failed", "where")
    check.truthy(tostring(seen[42].err):find("callback 294 broke"), "the last error")
  end,

  a_self_requeuing_callback_does_not_starve_the_loop = function()
    local ticks, timer_fired_at = 0, nil
    weft.run(function()
      weft.call_later(0.002, function() timer_fired_at = ticks end)
      local function again()
        ticks = ticks + 1
        if timer_fired_at == nil and ticks < 10000000 then weft.call_soon(again) end
      end
      weft.call_soon(again)
    end)
    check.truthy(timer_fired_at ~= nil, "the timer fired while the chain ran")
    check.truthy(ticks < 10000000, "the chain stopped once it had")
  end,

  timers_fire_in_deadline_order_under_churn = function()
    local fired, expected = {}, {}
    local stats
    weft.run(function()
      local started = weft.now()
      local long = {}
      local seed = 7
      local function random(n)
        seed = (seed * 1103515245 + 12345) % 2147483648
        return seed % n
      end
      -- Short timers with non-decreasing delays, created in order, so their
      -- deadlines are in creation order (equal delays included); between
      -- them, long timers are created and cancelled in a shuffled order so
      -- that the heap churns, compacts and empties of live timers.
      for i = 1, 120 do
        local delay = 0.001 + math.floor(i / 4) * 0.0002
        local t = weft.call_later(delay, function() fired[#fired + 1] = i end)
        if i % 5 == 0 then
          check.eq(t:cancel(), true, "cancel short " .. i)
        else
          expected[#expected + 1] = i
        end
        for _ = 1, 50 do long[#long + 1] = weft.call_later(30 + random(30), function() fired[#fired + 1] = "long" end) end
        for _ = 1, 45 do
          local k = random(#long) + 1
          long[k]:cancel()
          long[k] = long[#long]
          long[#long] = nil
        end
      end
      for _, t in ipairs(long) do check.eq(t:cancel(), true, "cancel long") end
      check.eq(long[1]:cancel(), false, "second cancel")
      check.eq(long[1]:active(), false, "inactive")
      while #fired < #expected and weft.now() - started < 20 do weft.sleep(0.005) end
      weft.yield() -- the weft timer is let go a turn after the last live timer went
      weft.yield()
      stats = weft.runtime_stats(weft.runtime())
    end)
    check.eq(table.concat(fired, ","), table.concat(expected, ","), "fired in deadline order")
    check.eq(stats.timers_pending, 0, "no weft timer left armed")
  end,

  cancelled_timers_do_not_keep_the_loop_alive = function()
    local elapsed
    weft.run(function()
      local started = weft.now()
      for i = 1, 1000 do weft.call_later(50 + i / 100, function() error("never") end):cancel() end
      local last = weft.call_later(50, function() error("never") end)
      weft.call_soon(function() last:cancel() end)
      elapsed = function() return weft.now() - started end
    end)
    -- weft.run returned: nothing was left armed. (It would have waited 50 s.)
    check.truthy(elapsed ~= nil, "ran")
  end,

  a_timer_callback_may_cancel_and_create_timers = function()
    local fired = {}
    weft.run(function()
      local b
      weft.call_later(0.001, function()
        fired[#fired + 1] = "a"
        check.eq(b:cancel(), true, "b cancelled before it fired")
        weft.call_later(0, function() fired[#fired + 1] = "c" end)
      end)
      b = weft.call_later(0.001, function() fired[#fired + 1] = "b" end)
      -- d is far enough out that c (due when a fires) comes first even on a
      -- loaded machine
      weft.call_later(0.3, function() fired[#fired + 1] = "d" end)
      weft.sleep(0.35)
    end)
    check.eq(table.concat(fired, ","), "a,c,d", "order")
  end,

  a_failing_timer_is_reported_and_the_others_fire = function()
    local fired, seen = {}, nil
    weft.run(function()
      seen = capture_errors()
      for i = 1, 5 do
        weft.call_later(0.001 * i, function()
          fired[#fired + 1] = i
          if i % 2 == 1 then error({ code = i }) end
        end)
      end
      weft.sleep(0.02)
    end)
    weft.set_error_handler(nil)
    check.eq(table.concat(fired, ","), "1,2,3,4,5", "all fired")
    check.eq(#seen, 3, "three failures")
    check.eq(seen[2].err.code, 3, "the error value itself")
    check.truthy(seen[1].traceback:find("stack traceback"), "a traceback")
    check.eq(seen[1].where, "callback failed", "where")
  end,

  bad_arguments = function()
    weft.run(function()
      check.raises(weft.WEFT_ERR_INVALID_ARGUMENT, weft.call_soon, nil)
      check.raises(weft.WEFT_ERR_INVALID_ARGUMENT, weft.call_later, 1, "not a function")
      check.raises(weft.WEFT_ERR_INVALID_ARGUMENT, weft.call_later, "1", function() end)
      check.raises(weft.WEFT_ERR_INVALID_ARGUMENT, weft.call_later, 0 / 0, function() end)
      check.raises(weft.WEFT_ERR_INVALID_ARGUMENT, weft.call_later, 2e9, function() end)
    end)
    check.raises(weft.WEFT_ERR_INVALID_STATE, weft.call_soon, function() end)
    check.raises(weft.WEFT_ERR_INVALID_STATE, weft.call_later, 1, function() end)
  end,

  loop_stop_ends_the_batch_after_the_running_callback = function()
    local ran = {}
    local ok = pcall(weft.run, function()
      weft.call_soon(function() ran[#ran + 1] = "a"; weft.loop_stop(weft.loop()) end)
      weft.call_soon(function() ran[#ran + 1] = "b" end)
      weft.call_later(0, function() ran[#ran + 1] = "t1"; weft.loop_stop(weft.loop()) end)
      weft.call_later(0, function() ran[#ran + 1] = "t2" end)
      weft.sleep(1)
    end)
    check.eq(ok, false, "weft.run: the loop stopped before main finished")
    check.eq(table.concat(ran, ","), "a", "b waited for the next run, which never came")
  end,

  cancelling_the_scope_drops_the_queue = function()
    local ran, refused = {}, nil
    pcall(weft.run, function()
      weft.call_soon(function()
        ran[#ran + 1] = "a"
        weft.scope_cancel(weft.loop_scope(weft.loop()))
        refused = select(2, pcall(weft.call_soon, function() ran[#ran + 1] = "late" end))
      end)
      weft.call_soon(function() ran[#ran + 1] = "b" end)
      weft.sleep(0.01)
    end)
    check.eq(table.concat(ran, ","), "a", "nothing queued ran after the cancel")
    check.truthy(weft.is_error(refused, weft.WEFT_ERR_CLOSED), "call_soon refused: " .. tostring(refused))
  end,

  what_a_run_left_behind_never_runs_in_the_next = function()
    local ran, timer = {}, nil
    local ok = pcall(weft.run, function()
      timer = weft.call_later(0.001, function() ran[#ran + 1] = "timer" end)
      weft.call_soon(function() ran[#ran + 1] = "soon" end)
      weft.loop_stop(weft.loop()) -- the loop returns before either runs
      weft.sleep(1)
    end)
    check.eq(ok, false, "main never finished")
    check.eq(timer:active(), false, "the timer was dropped")
    check.eq(timer:cancel(), false, "nothing to cancel")
    weft.run(function()
      weft.call_soon(function() ran[#ran + 1] = "next" end)
      weft.sleep(0.005)
    end)
    check.eq(table.concat(ran, ","), "next", "only the new run's callback")
  end,
}
