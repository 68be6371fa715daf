-- spinner.lua: a game script for script_host.c that the host unloads while
-- it runs — a spinning animation task and a task waiting for a very long
-- timer. Both see the cancellation at their pending wait and clean up.
local weft = require "weft"

spinner_frames = 0  -- read by the host
spinner_cleanups = 0

weft.spawn(function()
  local ok, err = pcall(function()
    while true do
      weft.sleep(1 / 60)
      spinner_frames = spinner_frames + 1
    end
  end)
  assert(not ok and weft.is_cancelled(err), "only cancellation ends the spinner")
  spinner_cleanups = spinner_cleanups + 1
  print("spinner: cancelled, cleaning up")
end):name("spin")

weft.spawn(function()
  local ok, err = pcall(weft.sleep, 3600)
  if not ok and weft.is_cancelled(err) then spinner_cleanups = spinner_cleanups + 1 end
end):name("long-wait")
