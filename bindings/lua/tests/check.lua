-- check.lua: the assertions and the runner of the Lua tests. A test file
-- returns check.run{ name = function() ... end, ... }: each case runs in
-- order (sorted by name), failures are printed with their traceback, and the
-- process exits non-zero if any failed. Prints "N passed, M failed".
local check = {}

function check.eq(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what or "value", tostring(expected), tostring(actual)), 2)
  end
end

function check.truthy(value, what)
  if not value then error((what or "condition") .. " is false", 2) end
end

-- Calls fn(...) and checks that it raises a weft.Error with `status` (or any
-- error when status is nil); returns the error.
function check.raises(status, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then error("expected an error, got none", 2) end
  if status ~= nil then
    if type(err) ~= "table" or err.status ~= status then
      error(string.format("expected status %s, got %s", tostring(status), tostring(err)), 2)
    end
  end
  return err
end

function check.run(cases)
  local names = {}
  for name in pairs(cases) do names[#names + 1] = name end
  table.sort(names)
  local passed, failed = 0, 0
  for _, name in ipairs(names) do
    local ok, err = xpcall(cases[name], function(e) return debug.traceback(tostring(e), 2) end)
    if ok then
      passed = passed + 1
      print("ok   " .. name)
    else
      failed = failed + 1
      print("FAIL " .. name .. ": " .. tostring(err))
    end
  end
  print(string.format("%d passed, %d failed", passed, failed))
  os.exit(failed == 0 and 0 or 1)
end

return check
