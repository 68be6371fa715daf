-- weft.lua: the Lua-written part of the `weft` module, compiled into weft.so
-- and run once by luaopen_weft with the module table (already holding the
-- SWIG-generated C API and the C glue) as its argument.
--
-- It gives the waits on weft operations their Lua shape: the C side
-- registers a wait for the running task (tasks.lua's weft._await_c) and
-- this side yields; the loop resumes the task with (true, results...) or
-- (false, error), turned into return values or a raised error. Also
-- weft.run, the combinators (all, any, with_timeout), Luau's task helpers,
-- and the I/O methods.
--
-- Thread: the loop thread, inside tasks (the waiting functions) or anywhere
-- in the script (the rest).
local weft = ...

local getmetatable, error, type, select, ipairs = getmetatable, error, type, select, ipairs
local unpack = table.unpack or unpack
local pack = table.pack or function(...) return { n = select("#", ...), ... } end

local FutureMT, TaskMT = weft.Future, weft.Task
local Future, Task = FutureMT.__index, TaskMT.__index

local function raise(status, message)
  error(weft.error(status, message), 2)
end

-- The outcome of a finished task (task:result()).
local function outcome(ok, ...)
  if ok then return ... end
  error((...), 0)
end

local await_c, wait_future = weft._await_c, weft._wait_future
weft._await_c = nil

--- weft.await(future or task): the value (a task's results), or raises the
--- error. A cancelled task's await raises an error whose status is
--- weft.WEFT_ERR_CANCELLED (see weft.is_cancelled).
function weft.await(x)
  local mt = getmetatable(x)
  if mt == FutureMT then return await_c("weft.await", wait_future, x) end
  if mt == TaskMT then return Task.await(x) end
  raise(weft.WEFT_ERR_INVALID_ARGUMENT, "weft.await: expected a weft.Future or a weft.Task, got a " .. type(x))
end

-- An operation's future: cancelled with the task; `eof_nil` makes the end of
-- a stream read as nil.
local function await_op(future, eof_nil)
  return await_c("weft.await", wait_future, future, true, eof_nil)
end

function weft.is_cancelled(err)
  return type(err) == "table" and err.status == weft.WEFT_ERR_CANCELLED
end

function weft.is_error(err, status)
  return getmetatable(err) == weft.Error and (status == nil or err.status == status)
end

-- ---- weft.run ----

local run_begin, run_loop, run_end, main_task = weft._run_begin, weft._run_loop, weft._run_end, weft._run_main
weft._run_main = nil

local function finish_run(status, t)
  if status ~= weft.WEFT_OK then
    run_end()
    error(weft.error(status, "weft.run: the loop failed"), 0)
  end
  local function finish(kind, ...)
    if kind == "pending" then
      run_end()
      error(weft.error(weft.WEFT_ERR_INVALID_STATE, "weft.run: the loop stopped before main finished"), 0)
    end
    if kind == "failed" then
      local err = ...
      run_end()
      error(err, 0)
    end
    local results = pack(...)
    run_end()
    return unpack(results, 1, results.n)
  end
  return finish(main_task.outcome(t))
end

--- weft.run(main, ...): runs main(...) as a task on a runtime of its own and
--- returns its results (or raises its error) once it and everything it
--- spawned is done; the runtime is destroyed before returning.
function weft.run(main, ...)
  if type(main) ~= "function" then
    raise(weft.WEFT_ERR_INVALID_ARGUMENT, "weft.run: expected a function, got a " .. type(main))
  end
  run_begin() -- raises if this state has a runtime already
  local ok, t = pcall(main_task.spawn, main, ...)
  if not ok then
    run_end()
    error(t, 0)
  end
  local ran, status = pcall(run_loop)
  if not ran then
    run_end()
    error(status, 0)
  end
  return finish_run(status, t)
end

-- ---- futures (over the SWIG-generated weft.future_* functions) ----

--- weft.future(): a pending future in the script's scope.
function weft.future() return weft.future_create(weft.loop()) end
function Future.resolve(self, value) return weft.future_resolve(self, value) end
function Future.reject(self, message, status)
  return weft.future_reject(self, status or weft.WEFT_STATUS_USER, message)
end
function Future.cancel(self) return weft.future_cancel(self) end
function Future.result(self) return weft.future_result(self) end
function Future.name(self, name) return weft.future_set_name(self, name) end
function Future.done(self) return (pcall(weft.future_result, self)) end
function Future.await(self) return await_c("weft.await", wait_future, self) end

-- ---- combinators ----

local function as_future(x, what)
  local mt = getmetatable(x)
  if mt == FutureMT then return x end
  if mt == TaskMT then return x:future() end
  raise(weft.WEFT_ERR_INVALID_ARGUMENT, what .. ": expected futures and tasks, got a " .. type(x))
end

-- A finished input's value: a task's first result, a future's value.
local function value_of(x)
  if getmetatable(x) == TaskMT then return select(2, x:result()) end
  local _, value = weft.future_result(x)
  return value
end

--- weft.all({futures and tasks}): their values in order, once all have
--- succeeded; raises the first failure.
function weft.all(list)
  if type(list) ~= "table" then raise(weft.WEFT_ERR_INVALID_ARGUMENT, "weft.all: expected a list") end
  local futures = {}
  for i, x in ipairs(list) do futures[i] = as_future(x, "weft.all") end
  await_op(weft.future_all(weft.loop(), futures))
  local values = {}
  for i, x in ipairs(list) do values[i] = value_of(x) end
  return values
end

--- weft.any({futures and tasks}): the index of the first to complete and
--- its value; raises its error if it failed.
function weft.any(list)
  if type(list) ~= "table" or #list == 0 then
    raise(weft.WEFT_ERR_INVALID_ARGUMENT, "weft.any: expected a non-empty list")
  end
  local futures = {}
  for i, x in ipairs(list) do futures[i] = as_future(x, "weft.any") end
  local index = await_op(weft.future_any(weft.loop(), futures)) + 1
  local x = list[index]
  if getmetatable(x) == TaskMT then return index, outcome(x:result()) end
  local status, value, message = weft.future_result(x)
  if status ~= weft.WEFT_OK then error(weft.error(status, message), 0) end
  return index, value
end

--- weft.with_timeout(future or task, seconds): its value if it completes in
--- time; otherwise cancels it and raises WEFT_ERR_TIMED_OUT.
function weft.with_timeout(x, seconds)
  local future = as_future(x, "weft.with_timeout")
  if type(seconds) ~= "number" or not (seconds >= 0) then
    raise(weft.WEFT_ERR_INVALID_ARGUMENT, "weft.with_timeout: seconds must be a number >= 0")
  end
  local ok, err = pcall(function()
    return await_op(weft.future_with_timeout(weft.loop(), future, math.floor(seconds * 1e9)))
  end)
  if not ok then
    if getmetatable(x) == TaskMT and weft.is_error(err, weft.WEFT_ERR_TIMED_OUT) then x:cancel() end
    error(err, 0)
  end
  if getmetatable(x) == TaskMT then return outcome(x:result()) end
  return value_of(x)
end

-- ---- Luau's task library, over the above ----

weft.task = {
  --- Runs fn(...) at once, until its first wait.
  spawn = function(fn, ...) return weft.spawn_now(fn, ...) end,
  --- Runs fn(...) on the loop's next turn.
  defer = function(fn, ...) return weft.spawn(fn, ...) end,
  --- Runs fn(...) after `seconds`.
  delay = function(seconds, fn, ...)
    local args = pack(...)
    return weft.spawn(function()
      weft.sleep(seconds)
      return fn(unpack(args, 1, args.n))
    end)
  end,
  --- Waits `seconds` (default 0: the next turn); returns the time waited.
  wait = function(seconds)
    local started = weft.now()
    if seconds == nil or seconds <= 0 then weft.yield() else weft.sleep(seconds) end
    return weft.now() - started
  end,
  cancel = function(task) return task:cancel() end,
}

-- ---- I/O ----

local Stream, Listener, UnixListener, Process, Signal =
  weft.Stream, weft.Listener, weft.UnixListener, weft.Process, weft.Signal

--- stream:read([max]): 1..max bytes (default 65536), nil at the end.
function Stream.read(self, max) return await_op(self:_read(max), true) end
--- stream:read_exactly(n): n bytes; raises WEFT_ERR_END_OF_FILE if fewer come.
function Stream.read_exactly(self, n) return await_op(self:_read_exactly(n)) end
--- stream:read_until(delimiter[, max]): bytes up to and including the
--- delimiter; nil at the end.
function Stream.read_until(self, delimiter, max) return await_op(self:_read_until(delimiter, max), true) end
--- stream:write(bytes): returns once the kernel has them.
function Stream.write(self, bytes) return await_op(self:_write(bytes)) end
--- stream:shutdown(): end-of-stream to the peer once queued bytes are out.
function Stream.shutdown(self) return await_op(self:_shutdown()) end

function Listener.accept(self) return await_c("listener:accept", self._wait_accept, self) end
function UnixListener.accept(self) return await_c("listener:accept", self._wait_accept, self) end

weft.tcp = {
  --- weft.tcp.listen(host, port[, backlog]): a listener (port 0: any free).
  listen = function(host, port, backlog) return weft._tcp_listen(host, port, backlog) end,
  --- weft.tcp.connect(host, port[, timeout_seconds]): a stream.
  connect = function(host, port, timeout) return await_c("tcp.connect", weft._wait_tcp_connect, host, port, timeout) end,
}
weft.unix = {
  listen = function(path) return weft._unix_listen(path) end,
  connect = function(path, timeout) return await_c("unix.connect", weft._wait_unix_connect, path, timeout) end,
}

--- weft.resolve(host[, port]): a list of {host=, port=, family=4|6}.
function weft.resolve(host, port)
  local text = await_c("weft.resolve", weft._wait_resolve, host, port)
  local list = {}
  for h, p, f in text:gmatch("(%S+) (%d+) (%d+)\n") do
    list[#list + 1] = { host = h, port = tonumber(p), family = tonumber(f) }
  end
  return list
end

--- weft.read_file(path): the file's contents (read on the pool).
function weft.read_file(path) return await_op(weft._read_file(path)) end
--- weft.write_file(path, bytes): creates or truncates it and writes.
function weft.write_file(path, bytes) return await_op(weft._write_file(path, bytes)) end

--- process:wait(): the exit code, or minus the signal that ended it.
function Process.wait(self) return await_op(self:_wait()) end

--- weft.watch_signal(signum): a watch; watch:wait() returns the signal.
function weft.watch_signal(signum) return weft._watch_signal(signum) end
function Signal.wait(self) return await_op(self:_wait()) end

--- weft.offload(name, argument): runs the C work function the host
--- registered as `name` on the runtime's pool; returns its result.
function weft.offload(name, argument) return await_op(weft._offload(name, argument)) end

return weft
