-- patrol.lua: a game script for script_host.c — an enemy that patrols
-- between waypoints, asking the host's C path finder (run on the pool with
-- weft.offload) for each leg, and walking it one step per 20 ms.
local weft = require "weft"

local waypoints = { 1, 5, 9, 3 }
patrol_steps = 0  -- read by the host
patrol_legs = 0

weft.spawn(function()
  local at = 0
  while true do
    for _, target in ipairs(waypoints) do
      local steps = weft.offload("path_length", at * 100 + target) -- C, on a worker
      for _ = 1, steps do
        weft.sleep(0.02)
        patrol_steps = patrol_steps + 1
      end
      at = target
      patrol_legs = patrol_legs + 1
    end
  end
end):name("patrol")
