-- errors_test.lua: Lua errors in callbacks and tasks go to the error handler
-- with a traceback and the loop goes on; bad arguments raise weft.Error
-- values carrying the status name and message; values that cannot travel
-- are refused; collected futures and handles are released.
local weft = require "weft"
local check = require "check"

local function capture_errors()
  local seen = {}
  weft.set_error_handler(function(err, traceback, where)
    seen[#seen + 1] = { err = err, traceback = traceback, where = where }
  end)
  return seen
end

return check.run {
  callback_error_goes_to_the_handler_and_the_loop_goes_on = function()
    local seen, after = nil, false
    weft.run(function()
      seen = capture_errors()
      local function failing_callback() error("callback broke") end
      weft.call_soon(failing_callback)
      weft.call_soon(function() after = true end)
      weft.sleep(0.001)
    end)
    weft.set_error_handler(nil)
    check.eq(#seen, 1, "errors reported")
    check.truthy(tostring(seen[1].err):find("callback broke"), "the error")
    check.truthy(seen[1].traceback:find("stack traceback"), "a traceback")
    check.truthy(seen[1].traceback:find("errors_test.lua:21"), "the traceback shows where it failed")
    check.eq(seen[1].where, "callback failed", "where")
    check.truthy(after, "the next callback still ran")
  end,

  unawaited_task_error_goes_to_the_handler = function()
    local seen
    weft.run(function()
      seen = capture_errors()
      local function doomed() weft.yield(); error("task broke") end
      weft.spawn(doomed):name("doomed")
      weft.sleep(0.001)
    end)
    weft.set_error_handler(nil)
    check.eq(#seen, 1, "errors reported")
    check.truthy(seen[1].where:find("doomed"), "names the task")
    check.truthy(seen[1].traceback:find("task broke"), "the message")
    check.truthy(seen[1].traceback:find("stack traceback"), "a traceback")
    check.truthy(seen[1].traceback:find("errors_test.lua:39"), "it shows where the task failed")
  end,

  cancelled_tasks_are_not_errors = function()
    local seen
    weft.run(function()
      seen = capture_errors()
      local t = weft.spawn(function() weft.sleep(60) end)
      weft.yield()
      t:cancel()
      weft.sleep(0.001)
    end)
    weft.set_error_handler(nil)
    check.eq(#seen, 0, "nothing reported")
  end,

  ten_thousand_erroring_callbacks = function()
    local count, before = 0, weft.errors_reported()
    weft.run(function()
      weft.set_error_handler(function() count = count + 1 end)
      for i = 1, 10000 do weft.call_soon(function() error("n" .. i) end) end
      weft.sleep(0.001)
    end)
    weft.set_error_handler(nil)
    check.eq(count, 10000, "handled")
    check.eq(weft.errors_reported() - before, 10000, "counted")
  end,

  failing_handler_does_not_stop_the_loop = function()
    local after = false
    weft.run(function()
      weft.set_error_handler(function() error("handler broke too") end)
      weft.call_soon(function() error("first") end)
      weft.call_soon(function() after = true end)
      weft.sleep(0.001)
    end)
    weft.set_error_handler(nil)
    check.truthy(after, "the loop went on")
  end,

  bad_arguments_raise_status_name_and_message = function()
    weft.run(function()
      local f = weft.future()
      local err = check.raises(weft.WEFT_ERR_INVALID_ARGUMENT, weft.future_reject, f, 5, "positive status")
      check.eq(err.name, "WEFT_ERR_INVALID_ARGUMENT", "name")
      check.eq(err.message, "invalid argument", "message")
      check.eq(tostring(err), "WEFT_ERR_INVALID_ARGUMENT: invalid argument", "tostring")
      check.truthy(weft.is_error(err), "is_error")
      check.raises(weft.WEFT_ERR_NOT_READY, f.result, f)
      f:resolve(1)
      check.raises(weft.WEFT_ERR_ALREADY_COMPLETED, f.resolve, f, 2)
      check.raises(weft.WEFT_ERR_INVALID_ARGUMENT, weft.await, 42)
      check.raises(weft.WEFT_ERR_INVALID_ARGUMENT, weft.call_later, -1, function() end)
      check.raises(nil, weft.call_soon, "not a function")
      check.raises(weft.WEFT_ERR_INVALID_ARGUMENT, weft.tcp.connect, "127.0.0.1", 0)
    end)
  end,

  values_travel_through_futures = function()
    weft.run(function()
      for _, v in ipairs { 42, 2.5, true, false, "bytes\0inside", -7 } do
        local f = weft.future()
        weft.call_soon(function() f:resolve(v) end)
        check.eq(weft.await(f), v, "value " .. tostring(v))
      end
      local f = weft.future()
      f:resolve(nil)
      check.eq(weft.await(f), nil, "nil")
      if math.type then
        local g = weft.future(); g:resolve(3)
        check.eq(math.type(weft.await(g)), "integer", "integers stay integers")
      end
      check.raises(weft.WEFT_ERR_INVALID_ARGUMENT, weft.future().resolve, weft.future(), {})
    end)
  end,

  rejected_future_raises_its_status = function()
    weft.run(function()
      local f = weft.future()
      f:reject("no luck", weft.WEFT_STATUS_USER - 5)
      local err = check.raises(weft.WEFT_STATUS_USER - 5, weft.await, f)
      check.eq(err.message, "no luck", "message")
    end)
  end,

  collected_futures_are_released = function()
    weft.run(function()
      local rt = weft.runtime()
      collectgarbage(); collectgarbage()
      local before = weft.runtime_stats(rt).futures_alive
      for _ = 1, 100 do local f = weft.future(); f:resolve(1) end
      collectgarbage(); collectgarbage()
      weft.yield()
      check.eq(weft.runtime_stats(rt).futures_alive, before, "futures alive after collection")
      local f = weft.future()
      f:release()
      check.raises(weft.WEFT_ERR_STALE_HANDLE, f.resolve, f, 1)
    end)
  end,

  collected_listener_is_closed = function()
    weft.run(function()
      local listener = weft.tcp.listen("127.0.0.1", 0)
      local port = listener:port()
      listener = nil
      collectgarbage(); collectgarbage()
      local again = weft.tcp.listen("127.0.0.1", port)
      check.eq(again:port(), port, "the port is free again")
      again:close()
      again:close() -- closing twice is fine
      check.raises(weft.WEFT_ERR_INVALID_ARGUMENT, again.close, weft.future())
      check.raises(weft.WEFT_ERR_INVALID_ARGUMENT, again.close, {})
      check.raises(weft.WEFT_ERR_CLOSED, again.port, again)
    end)
  end,
}
