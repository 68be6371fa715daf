-- echo_server.lua: a TCP echo server written as coroutines — one task per
-- connection, each reading lines and writing them back.
--
--   lua5.4 echo_server.lua [port] [connections]
--
-- Listens on 127.0.0.1 (port 0: any free port), prints "listening on PORT",
-- and, if `connections` is given, stops after serving that many.
local weft = require "weft"

local port = tonumber(arg[1] or "0")
local limit = tonumber(arg[2] or "0")

local function serve(stream, id)
  local lines = 0
  while true do
    local line = stream:read_until("\n", 65536)
    if line == nil then break end -- the client ended the stream
    stream:write(line)
    lines = lines + 1
  end
  stream:close()
  print(string.format("connection %d: echoed %d lines", id, lines))
end

weft.run(function()
  local listener = weft.tcp.listen("127.0.0.1", port)
  print("listening on " .. listener:port())
  io.stdout:flush()
  local connections = {}
  local served = 0
  while limit == 0 or served < limit do
    local stream = listener:accept()
    served = served + 1
    connections[#connections + 1] = weft.spawn(serve, stream, served)
  end
  listener:close()
  weft.all(connections) -- every connection finished
  print("served " .. served .. " connections")
end)
