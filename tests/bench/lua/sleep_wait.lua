-- sleep_wait.lua: the cost of a task's wait on a timer — N rounds of one
-- weft.sleep(1e-9) in the main task plus one spawned task that sleeps as
-- long and is awaited — the rarer path of tasks (a wait on something
-- other than the ready queue), counted per round by instructions.sh:
--
--   tests/bench/lua/instructions.sh lua54 MODULE 2000 6000 tests/bench/lua/sleep_wait.lua @N@
--
-- Prints the rounds run.
local weft = require "weft"
local n = tonumber(arg and arg[1]) or 1000
local rounds = 0
weft.run(function()
  local function sleeper() weft.sleep(1e-9) end
  for _ = 1, n do
    weft.sleep(1e-9)
    weft.spawn(sleeper):await()
    rounds = rounds + 1
  end
end)
assert(rounds == n, "wrong count")
print(rounds)
