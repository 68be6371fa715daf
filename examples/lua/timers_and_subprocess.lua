-- timers_and_subprocess.lua: a script that waits on timers and a
-- subprocess at the same time — a ticker task, a child process whose output
-- is read line by line, and a deadline over the whole thing.
--
--   lua5.4 timers_and_subprocess.lua
local weft = require "weft"

weft.run(function()
  local ticks = 0
  local ticker = weft.spawn(function()
    while true do
      weft.sleep(0.01)
      ticks = ticks + 1
    end
  end)

  local child = weft.spawn_process("/bin/sh",
    { "sh", "-c", "for i in 1 2 3; do echo step $i; sleep 0.03; done; exit 5" },
    { stdout = "pipe" })
  local out = child:stdout()
  local reader = weft.spawn(function()
    local lines = {}
    while true do
      local line = out:read_until("\n")
      if line == nil then return lines end
      lines[#lines + 1] = line:gsub("\n$", "")
      print("child says: " .. lines[#lines])
    end
  end)

  local code = weft.with_timeout(weft.spawn(child.wait, child), 10)
  local lines = weft.with_timeout(reader, 10)
  ticker:cancel()
  print(string.format("child exited with %d after %d lines; the ticker ticked %d times meanwhile",
    code, #lines, ticks))

  -- A deadline that expires: sleeping 10 s within 50 ms.
  local ok, err = pcall(weft.with_timeout, weft.spawn(weft.sleep, 10), 0.05)
  print("deadline: " .. (ok and "met" or tostring(err)))
  out:close()
  child:close()
end)
