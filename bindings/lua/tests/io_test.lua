-- io_test.lua: I/O in the task model — TCP and Unix stream sockets, name
-- resolution, files, subprocesses, signals, and cancelling a pending read.
local weft = require "weft"
local check = require "check"

local tmpdir = os.getenv("TEST_TMPDIR") or "/tmp"

-- Echoes lines until the peer ends the stream.
local function echo(stream)
  while true do
    local line = stream:read_until("\n")
    if line == nil then break end
    stream:write(line)
  end
  stream:close()
end

return check.run {
  tcp_echo = function()
    weft.run(function()
      local listener = weft.tcp.listen("127.0.0.1", 0)
      local server = weft.spawn(function() echo(listener:accept()) end)
      local client = weft.tcp.connect("127.0.0.1", listener:port(), 5)
      for i = 1, 5 do
        client:write("line " .. i .. "\n")
        check.eq(client:read_until("\n"), "line " .. i .. "\n", "echoed line")
      end
      client:write("partial")
      client:shutdown()
      check.eq(client:read(), nil, "end of stream") -- the server never echoes an unterminated line
      server:await()
      client:close()
      listener:close()
    end)
  end,

  read_exactly_and_read = function()
    weft.run(function()
      local listener = weft.tcp.listen("127.0.0.1", 0)
      weft.spawn(function()
        local s = listener:accept()
        s:write("abcdefgh")
        s:close()
      end)
      local c = weft.tcp.connect("127.0.0.1", listener:port())
      check.eq(c:read_exactly(3), "abc", "exactly 3")
      local rest = {}
      while true do
        local chunk = c:read(2)
        if chunk == nil then break end
        check.truthy(#chunk <= 2, "at most max bytes")
        rest[#rest + 1] = chunk
      end
      check.eq(table.concat(rest), "defgh", "the rest")
      check.raises(weft.WEFT_ERR_END_OF_FILE, c.read_exactly, c, 1)
      c:close()
      check.raises(weft.WEFT_ERR_CLOSED, c.read, c)
    end)
  end,

  connect_refused = function()
    weft.run(function()
      local l = weft.tcp.listen("127.0.0.1", 0)
      local port = l:port()
      l:close()
      check.raises(weft.WEFT_ERR_CONNECTION_REFUSED, weft.tcp.connect, "127.0.0.1", port)
    end)
  end,

  cancel_a_task_blocked_in_read = function()
    weft.run(function()
      local listener = weft.tcp.listen("127.0.0.1", 0)
      local accepted
      weft.spawn(function() accepted = listener:accept() end)
      local c = weft.tcp.connect("127.0.0.1", listener:port())
      local reader = weft.spawn(function() return c:read() end)
      weft.sleep(0.01)
      reader:cancel()
      check.raises(weft.WEFT_ERR_CANCELLED, reader.await, reader)
      -- the stream is usable again: the cancelled read was withdrawn
      accepted:write("after")
      check.eq(c:read(), "after", "a new read works")
      c:close(); accepted:close(); listener:close()
    end)
  end,

  unix_socket_echo = function()
    weft.run(function()
      local path = string.format("/tmp/weft-lua-%d-%d.sock", os.time(), math.random(1, 1e9))
      local listener = weft.unix.listen(path)
      weft.spawn(function() echo(listener:accept()) end)
      local c = weft.unix.connect(path, 5)
      c:write("over unix\n")
      check.eq(c:read_until("\n"), "over unix\n", "echoed")
      c:close()
      listener:close()
    end)
  end,

  resolve_numeric_and_localhost = function()
    weft.run(function()
      local list = weft.resolve("127.0.0.1", 80)
      check.eq(list[1].host, "127.0.0.1", "host")
      check.eq(list[1].port, 80, "port")
      check.eq(list[1].family, 4, "family")
      local local_list = weft.resolve("localhost")
      check.truthy(#local_list >= 1, "localhost resolves")
      check.raises(weft.WEFT_ERR_HOST_NOT_FOUND, weft.resolve, "no-such-host.invalid")
    end)
  end,

  files = function()
    weft.run(function()
      local path = string.format("%s/weft-lua-file-%d.txt", tmpdir, math.random(1, 1e9))
      weft.write_file(path, "hello\0file")
      check.eq(weft.read_file(path), "hello\0file", "contents")
      os.remove(path)
      check.raises(weft.WEFT_ERR_NOT_FOUND, weft.read_file, path)
    end)
  end,

  subprocess_output_and_exit_code = function()
    weft.run(function()
      local p = weft.spawn_process("/bin/sh", { "sh", "-c", "echo out; exit 3" }, { stdout = "pipe" })
      local out = p:stdout()
      check.eq(out:read_until("\n"), "out\n", "stdout")
      check.eq(p:wait(), 3, "exit code")
      check.truthy(p:pid() > 0, "pid")
      out:close(); p:close()
      check.raises(weft.WEFT_ERR_NOT_FOUND, weft.spawn_process, "/no/such/program", { "x" })
      check.raises(weft.WEFT_ERR_INVALID_ARGUMENT, weft.spawn_process, "/bin/true", {})
    end)
  end,

  subprocess_stdin_and_kill = function()
    weft.run(function()
      local p = weft.spawn_process("cat", { "cat" }, { stdin = "pipe", stdout = "pipe" })
      local stdin, stdout = p:stdin(), p:stdout()
      stdin:write("through cat\n")
      check.eq(stdout:read_until("\n"), "through cat\n", "cat echoed")
      p:kill(9)
      check.eq(p:wait(), -9, "killed by SIGKILL")
      stdin:close(); stdout:close(); p:close()
    end)
  end,

  signals = function()
    weft.run(function()
      local stat = weft.read_file("/proc/self/stat")
      local pid = stat:match("^(%d+)")
      local watch = weft.watch_signal(10) -- SIGUSR1
      local killer = weft.spawn_process("kill", { "kill", "-USR1", pid })
      check.eq(watch:wait(), 10, "SIGUSR1 arrived")
      killer:wait()
      watch:close(); killer:close()
    end)
  end,

  offload_without_registration_is_refused = function()
    weft.run(function()
      check.raises(weft.WEFT_ERR_NOT_FOUND, weft.offload, "nothing-registered", 1)
    end)
  end,
}
