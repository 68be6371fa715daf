-- lowlevel_test.lua: the SWIG-generated C API functions (weft.loop_*,
-- weft.future_*, weft.runtime_stats, weft.status_*) with Lua function
-- callbacks, and that each callback's registry reference is dropped after
-- weft's single call.
local weft = require "weft"
local check = require "check"

-- Functions the registry holds: a callback's reference shows up here until
-- it is dropped.
local function registry_functions()
  local n = 0
  for _, v in pairs(debug.getregistry()) do
    if type(v) == "function" then n = n + 1 end
  end
  return n
end

return check.run {
  status_helpers = function()
    check.eq(weft.status_name(weft.WEFT_ERR_TIMED_OUT), "WEFT_ERR_TIMED_OUT", "name")
    check.eq(weft.status_str(weft.WEFT_ERR_TIMED_OUT), "operation timed out", "message")
    check.eq(weft.WEFT_OK, 0, "WEFT_OK")
  end,

  call_soon_and_call_later_with_status_callbacks = function()
    local calls = {}
    weft.run(function()
      local loop = weft.loop()
      weft.loop_call_soon(loop, function(status, message) calls[#calls + 1] = { "soon", status, message } end)
      local timer = weft.loop_call_later(loop, 1000000000, function(status, message)
        calls[#calls + 1] = { "later", status, message }
      end)
      weft.future_cancel(timer) -- its callback runs inside, with CANCELLED
      weft.sleep(0.001)
    end)
    check.eq(#calls, 2, "two calls")
    check.eq(calls[1][1], "later", "the cancelled timer's call came first (inside cancel)")
    check.eq(calls[1][2], weft.WEFT_ERR_CANCELLED, "its status")
    check.truthy(type(calls[1][3]) == "string", "a message says why")
    check.eq(calls[2][2], weft.WEFT_OK, "soon: OK")
    check.eq(calls[2][3], nil, "no message with OK")
  end,

  future_then_gets_status_value_message = function()
    local got = {}
    weft.run(function()
      local f = weft.future()
      weft.future_then(f, weft.loop(), function(status, value, message) got = { status, value, message } end)
      f:resolve("v")
      weft.sleep(0.001)
    end)
    check.eq(got[1], weft.WEFT_OK, "status")
    check.eq(got[2], "v", "value")
  end,

  failed_registration_drops_the_reference = function()
    weft.run(function()
      collectgarbage()
      local before = registry_functions()
      local f = weft.future()
      local err = check.raises(weft.WEFT_ERR_INVALID_ARGUMENT, weft.loop_call_later, weft.loop(), 0, nil)
      check.truthy(err.message:find("callback must be a function"), "says what is wrong")
      -- a cancelled scope refuses new work: the held reference is dropped
      weft.scope_cancel(weft.loop_scope(weft.loop()))
      check.raises(weft.WEFT_ERR_CLOSED, weft.loop_call_soon, weft.loop(), function() end)
      check.raises(weft.WEFT_ERR_CLOSED, weft.future_then, f, weft.loop(), function() end)
      check.raises(weft.WEFT_ERR_CLOSED, weft.call_soon, function() end)
      check.eq(registry_functions(), before, "no function left in the registry")
      f:release()
    end)
  end,

  callbacks_drop_their_references = function()
    local before
    weft.run(function()
      collectgarbage()
      before = registry_functions()
      for _ = 1, 1000 do
        weft.loop_call_soon(weft.loop(), function() end)
        weft.call_soon(function() end)
        weft.call_later(10, function() end):cancel()
      end
      weft.sleep(0.001)
      collectgarbage()
      check.eq(registry_functions(), before, "references dropped after the calls")
    end)
  end,

  call_later_timer_handles = function()
    local fired = {}
    weft.run(function()
      local a = weft.call_later(0.001, function() fired[#fired + 1] = "a" end)
      local b = weft.call_later(0.001, function() fired[#fired + 1] = "b" end)
      weft.call_later(0.002, function() fired[#fired + 1] = "dropped" end) -- nobody holds it
      collectgarbage(); collectgarbage()
      check.eq(b:active(), true, "armed")
      check.eq(b:cancel(), true, "cancelled")
      check.eq(b:active(), false, "no longer armed")
      check.eq(b:cancel(), false, "second cancel")
      weft.sleep(0.01)
      check.eq(a:active(), false, "fired")
      check.eq(a:cancel(), false, "cancel after firing")
      local stats = weft.runtime_stats(weft.runtime())
      check.eq(stats.timers_pending, 0, "no timer left")
    end)
    check.eq(table.concat(fired, ","), "a,dropped", "what fired")
  end,

  runtime_stats_and_loop_clock = function()
    weft.run(function()
      local stats = weft.runtime_stats(weft.runtime())
      check.truthy(stats.callbacks_run >= 0, "callbacks_run")
      check.eq(stats.scopes, 1, "one scope")
      local now = weft.loop_now(weft.loop())
      check.truthy(now > 0, "loop clock in ns")
      if math.type then check.eq(math.type(now), "integer", "an integer") end
    end)
  end,

  combinator_functions = function()
    weft.run(function()
      local a, b = weft.future(), weft.future()
      local all = weft.future_all(weft.loop(), { a, b })
      a:resolve(1); b:resolve(2)
      weft.await(all)
      local status, value = a:result()
      check.eq(status, weft.WEFT_OK, "status")
      check.eq(value, 1, "value")
      check.raises(nil, weft.future_all, weft.loop(), { a, "not a future" })
    end)
  end,
}
