-- combinators_test.lua: weft.all, weft.any and weft.with_timeout over
-- futures and tasks, and task:future().
local weft = require "weft"
local check = require "check"

local function after(seconds, value)
  return weft.spawn(function() weft.sleep(seconds); return value end)
end

return check.run {
  all_of_futures_and_tasks_in_order = function()
    weft.run(function()
      local f = weft.future()
      weft.call_later(0.005, function() f:resolve("future") end)
      local values = weft.all { after(0.01, "slow"), f, after(0.001, "fast") }
      check.eq(table.concat(values, ","), "slow,future,fast", "values")
      check.eq(#weft.all {}, 0, "empty")
    end)
  end,

  all_raises_the_first_failure = function()
    weft.run(function()
      weft.set_error_handler(function() end)
      local failing = weft.spawn(function() weft.sleep(0.001); error(weft.error(weft.WEFT_STATUS_USER - 1, "bad")) end)
      local slow = after(10, "never")
      local err = check.raises(weft.WEFT_STATUS_USER - 1, weft.all, { slow, failing })
      check.truthy(err.message:find("bad"), "message")
      slow:cancel()
      weft.set_error_handler(nil)
    end)
  end,

  any_gives_the_first = function()
    weft.run(function()
      local slow = after(10, "slow")
      local i, v = weft.any { slow, after(0.001, "fast") }
      check.eq(i, 2, "index")
      check.eq(v, "fast", "value")
      slow:cancel()
      check.raises(weft.WEFT_ERR_INVALID_ARGUMENT, weft.any, {})
    end)
  end,

  with_timeout_in_time = function()
    weft.run(function()
      check.eq(weft.with_timeout(after(0.001, "ok"), 5), "ok", "task value")
      local f = weft.future(); f:resolve(7)
      check.eq(weft.with_timeout(f, 1), 7, "future value")
    end)
  end,

  with_timeout_expires_and_cancels_the_task = function()
    weft.run(function()
      local cleaned = false
      local t = weft.spawn(function()
        local ok = pcall(weft.sleep, 10)
        cleaned = not ok
      end)
      check.raises(weft.WEFT_ERR_TIMED_OUT, weft.with_timeout, t, 0.01)
      weft.sleep(0.001)
      check.eq(t:status(), "done", "the task ended")
      check.truthy(cleaned, "the task saw the cancellation")
    end)
  end,

  task_future_completes_with_the_task = function()
    weft.run(function()
      local t = after(0.001, 99)
      local f = t:future()
      check.eq(weft.await(f), 99, "value")
      local status = f:result()
      check.eq(status, weft.WEFT_OK, "status")
      local c = weft.spawn(function() weft.sleep(10) end)
      local cf = c:future()
      weft.yield()
      c:cancel()
      check.raises(weft.WEFT_ERR_CANCELLED, weft.await, cf)
    end)
  end,
}
