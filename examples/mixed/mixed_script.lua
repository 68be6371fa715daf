-- mixed_script.lua: the Lua part of the mixed example (mixed_host.c), run in
-- the host's runtime with a scope of its own (weft_lua_host.h).
-- - "compute" awaits the C plugin's future "c.go" and returns three times
--   its value; its task future is published as "lua.result" (Python awaits it).
-- - "patrol" steps every 10 ms until the host unloads the script.
-- - "forever" sleeps for an hour; its task future is published as
--   "lua.forever" (Python awaits it): unloading cancels it.
-- host.get(name) returns a weft.Future with the script's own reference;
-- host.put(name, future) gives the host's exchange a reference of its own.
local weft = require "weft"

lua_got = -1      -- read by the host: what "c.go" gave
lua_steps = 0
lua_cleanups = 0  -- tasks that saw the cancellation at their pending wait

local compute = weft.spawn(function()
  local go = host.get("c.go")
  local seed = go:await()
  go:release()
  lua_got = seed
  weft.sleep(0.02)
  return seed * 3
end)
compute:name("compute")

weft.spawn(function()
  local ok, err = pcall(function()
    while true do
      weft.sleep(0.01)
      lua_steps = lua_steps + 1
    end
  end)
  assert(not ok and weft.is_cancelled(err), "only cancellation ends the patrol")
  lua_cleanups = lua_cleanups + 1
end):name("patrol")

local forever = weft.spawn(function()
  local ok, err = pcall(weft.sleep, 3600)
  if weft.is_cancelled(err) then lua_cleanups = lua_cleanups + 1 end
  error(err, 0) -- ends cancelled, as its future shows
end)
forever:name("forever")

for name, task in pairs({ ["lua.result"] = compute, ["lua.forever"] = forever }) do
  local future = task:future()
  host.put(name, future)
  future:release()
end
