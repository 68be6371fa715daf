-- echo_client.lua: connects to the echo server, sends each argument as a
-- line with a few connections in parallel (one task each), and prints what
-- came back.
--
--   lua5.4 echo_client.lua PORT CONNECTIONS line...
local weft = require "weft"

local port = assert(tonumber(arg[1]), "usage: echo_client.lua PORT CONNECTIONS line...")
local connections = tonumber(arg[2] or "1")
local unpack = table.unpack or unpack
local lines = { unpack(arg, 3) }

local function client(id)
  local stream = weft.tcp.connect("127.0.0.1", port, 5)
  local echoed = 0
  for _, text in ipairs(lines) do
    stream:write(text .. "\n")
    local back = weft.with_timeout(weft.spawn(stream.read_until, stream, "\n"), 5)
    assert(back == text .. "\n", "echo mismatch: " .. tostring(back))
    echoed = echoed + 1
  end
  stream:shutdown()
  assert(stream:read() == nil, "the server closes after our end of stream")
  stream:close()
  return echoed
end

weft.run(function()
  local tasks = {}
  for i = 1, connections do tasks[i] = weft.spawn(client, i) end
  local total = 0
  for _, n in ipairs(weft.all(tasks)) do total = total + n end
  print(string.format("client: %d connections, %d lines echoed", connections, total))
end)
