"""asyncio.create_subprocess_exec/_shell on weft's loop and asyncio's: pipes,
pipelines, several MiB through pipes, stdin closed early, signals, exit
status, cancellation of communicate, cwd/env, file descriptors, errors, and
no descriptor left open. Every wait is bounded (wait_for)."""
import asyncio
import os
import signal
import subprocess
import sys

import pytest

from loop_twins import AsyncioLoop, LoopCase, WeftLoop

PIPE = subprocess.PIPE
MiB = 1 << 20
LIMIT = 30  # seconds, for any one wait


def open_fds():
    """{fd: what it is} (the listing's own descriptor, closed by now, left out)."""
    fds = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            fds[name] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            pass
    return fds


class SubprocessCases(LoopCase):
    def run(self, coro):
        return self.loop.run_until_complete(asyncio.wait_for(coro, LIMIT))

    def test_cat_echoes_through_its_pipes(self):
        async def main():
            proc = await asyncio.create_subprocess_exec("cat", stdin=PIPE, stdout=PIPE)
            out, err = await proc.communicate(b"hello\nworld\n")
            return out, err, proc.returncode

        assert self.run(main()) == (b"hello\nworld\n", None, 0)

    def test_transport_classes(self):
        async def main():
            proc = await asyncio.create_subprocess_exec("cat", stdin=PIPE, stdout=PIPE,
                                                        stderr=PIPE)
            transport = proc._transport
            assert isinstance(transport, asyncio.SubprocessTransport)
            assert transport.get_pid() == proc.pid > 0
            assert transport.get_returncode() is None
            assert isinstance(transport.get_pipe_transport(0), asyncio.WriteTransport)
            assert isinstance(transport.get_pipe_transport(1), asyncio.ReadTransport)
            assert isinstance(transport.get_pipe_transport(2), asyncio.ReadTransport)
            assert transport.get_pipe_transport(3) is None
            await proc.communicate(b"")
            assert transport.get_returncode() == 0

        self.run(main())

    def test_shell_exit_status_and_both_pipes(self):
        async def main():
            proc = await asyncio.create_subprocess_shell(
                "echo out; echo err >&2; exit 7", stdout=PIPE, stderr=PIPE)
            out, err = await proc.communicate()
            return out, err, proc.returncode, await proc.wait()

        assert self.run(main()) == (b"out\n", b"err\n", 7, 7)

    def test_pipeline_of_two_children(self):
        async def main():
            first = await asyncio.create_subprocess_shell("printf 'c\\nb\\na\\n'", stdout=PIPE)
            second = await asyncio.create_subprocess_exec("sort", stdin=PIPE, stdout=PIPE)
            while True:
                chunk = await first.stdout.read(4096)
                if not chunk:
                    break
                second.stdin.write(chunk)
                await second.stdin.drain()
            second.stdin.close()
            out = await second.stdout.read()
            return out, await first.wait(), await second.wait()

        assert self.run(main()) == (b"a\nb\nc\n", 0, 0)

    def test_pipeline_through_a_descriptor(self):
        async def main():
            read_end, write_end = os.pipe()
            try:
                first = await asyncio.create_subprocess_exec("sh", "-c", "printf 'y\\nx\\n'",
                                                             stdout=write_end)
                second = await asyncio.create_subprocess_exec("sort", stdin=read_end,
                                                              stdout=PIPE)
            finally:
                os.close(read_end)
                os.close(write_end)
            out, _ = await second.communicate()
            return out, await first.wait(), second.returncode

        assert self.run(main()) == (b"x\ny\n", 0, 0)

    def test_several_mib_both_ways(self):
        data = bytes(range(256)) * (6 * MiB // 256)

        async def main():
            proc = await asyncio.create_subprocess_exec("cat", stdin=PIPE, stdout=PIPE)
            out, _ = await proc.communicate(data)
            return out, proc.returncode

        out, code = self.run(main())
        assert code == 0
        assert len(out) == len(data) and out == data

    def test_large_output_read_in_chunks(self):
        async def main():
            proc = await asyncio.create_subprocess_exec("head", "-c", str(8 * MiB), "/dev/zero",
                                                        stdout=PIPE)
            total = 0
            while True:
                chunk = await proc.stdout.read(100000)
                if not chunk:
                    break
                assert chunk.count(0) == len(chunk)
                total += len(chunk)
            return total, await proc.wait()

        assert self.run(main()) == (8 * MiB, 0)

    def test_stdin_closed_early_by_the_child(self):
        async def main():
            # The child reads 10 bytes and exits; the rest of the input meets
            # a closed pipe, which communicate() ignores.
            proc = await asyncio.create_subprocess_exec("head", "-c", "10", stdin=PIPE,
                                                        stdout=PIPE)
            out, _ = await proc.communicate(b"z" * (4 * MiB))
            return out, proc.returncode

        assert self.run(main()) == (b"z" * 10, 0)

    def test_stdin_closed_early_by_us(self):
        async def main():
            proc = await asyncio.create_subprocess_exec("cat", stdin=PIPE, stdout=PIPE)
            proc.stdin.write(b"part")
            proc.stdin.close()
            await proc.stdin.wait_closed()
            return await proc.stdout.read(), await proc.wait()

        assert self.run(main()) == (b"part", 0)

    def test_terminate_kill_and_send_signal(self):
        async def main():
            codes = []
            for action in ("terminate", "kill", "send_signal"):
                proc = await asyncio.create_subprocess_exec("sleep", "30")
                if action == "send_signal":
                    proc.send_signal(signal.SIGUSR1)
                else:
                    getattr(proc, action)()
                codes.append(await proc.wait())
                with pytest.raises(ProcessLookupError):  # once waited for, as asyncio
                    getattr(proc, action)(*([signal.SIGUSR1] if action == "send_signal" else []))
            return codes

        assert self.run(main()) == [-signal.SIGTERM, -signal.SIGKILL, -signal.SIGUSR1]

    def test_exit_before_its_pipes_close(self):
        async def main():
            # A grandchild keeps stdout open after the child exited.
            proc = await asyncio.create_subprocess_shell(
                "echo early; (sleep 0.3; echo late) & exit 3", stdout=PIPE)
            while proc.returncode is None:
                await asyncio.sleep(0.01)
            code = proc.returncode
            out = await proc.stdout.read()
            return code, out, await proc.wait()

        assert self.run(main()) == (3, b"early\nlate\n", 3)

    def test_stdin_transport_ends_when_the_child_exits(self):
        async def main():
            proc = await asyncio.create_subprocess_exec("sh", "-c", "exit 5", stdin=PIPE)
            code = await proc.wait()  # also waits for the stdin pipe to be lost
            return code, proc._transport.get_pipe_transport(0).is_closing()

        assert self.run(main()) == (5, True)

    def test_cancelled_communicate(self):
        async def main():
            proc = await asyncio.create_subprocess_exec("sleep", "30", stdin=PIPE, stdout=PIPE)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(proc.communicate(b"x"), 0.2)
            proc.kill()
            return await proc.wait()

        assert self.run(main()) == -signal.SIGKILL

    def test_cwd_and_env(self, tmp_path):
        async def main():
            proc = await asyncio.create_subprocess_exec(
                "/bin/sh", "-c", "pwd; echo \"$WEFT_TEST_VALUE\"", stdout=PIPE, cwd=tmp_path,
                env={"WEFT_TEST_VALUE": "from env", "PATH": os.environ.get("PATH", "")})
            out, _ = await proc.communicate()
            return out

        assert self.run(main()) == f"{os.path.realpath(tmp_path)}\nfrom env\n".encode()

    def test_devnull_and_stderr_to_stdout(self):
        async def main():
            quiet = await asyncio.create_subprocess_shell(
                "cat; echo gone >&2", stdin=subprocess.DEVNULL, stdout=PIPE,
                stderr=subprocess.DEVNULL)
            merged = await asyncio.create_subprocess_shell(
                "echo one; echo two >&2", stdout=PIPE, stderr=subprocess.STDOUT)
            return (await quiet.communicate(), quiet.returncode,
                    await merged.communicate(), merged.returncode)

        assert self.run(main()) == ((b"", None), 0, (b"one\ntwo\n", None), 0)

    def test_file_as_stdin_and_stdout(self, tmp_path):
        source = tmp_path / "in.txt"
        target = tmp_path / "out.txt"
        source.write_bytes(b"from a file\n")

        async def main():
            with open(source, "rb") as stdin, open(target, "wb") as stdout:
                proc = await asyncio.create_subprocess_exec("cat", stdin=stdin, stdout=stdout)
                return await proc.wait()

        assert self.run(main()) == 0
        assert target.read_bytes() == b"from a file\n"

    def test_missing_program(self):
        async def main():
            await asyncio.create_subprocess_exec("weft-no-such-program-here", stdout=PIPE)

        with pytest.raises(FileNotFoundError) as info:
            self.run(main())
        assert info.value.errno == 2
        assert info.value.filename == "weft-no-such-program-here"

    def test_missing_cwd(self, tmp_path):
        missing = str(tmp_path / "missing")

        async def main():
            await asyncio.create_subprocess_exec("true", cwd=missing)

        with pytest.raises(FileNotFoundError) as info:
            self.run(main())
        assert info.value.filename == missing

    def test_program_not_executable(self, tmp_path):
        script = tmp_path / "script.sh"
        script.write_text("#!/bin/sh\nexit 0\n")
        os.chmod(script, 0o644)

        async def main():
            await asyncio.create_subprocess_exec(str(script))

        with pytest.raises(PermissionError) as info:
            self.run(main())
        assert info.value.errno == 13

    def test_bad_arguments(self):
        async def exec_with(**kwargs):
            await asyncio.create_subprocess_exec("true", **kwargs)

        for kwargs in ({"universal_newlines": True}, {"bufsize": 1}, {"text": True},
                       {"encoding": "utf-8"}, {"errors": "strict"}, {"shell": True}):
            with pytest.raises(ValueError):
                self.run(exec_with(**kwargs))

        async def shell(cmd, **kwargs):
            await self.loop.subprocess_shell(asyncio.SubprocessProtocol, cmd, **kwargs)

        with pytest.raises(ValueError, match="cmd must be a string"):
            self.run(shell(["true"]))
        with pytest.raises(ValueError, match="shell must be True"):
            self.run(shell("true", shell=False))
        with pytest.raises(TypeError):
            self.run(asyncio.create_subprocess_exec("true", 1.5))

    def test_nothing_left_open(self):
        async def main():
            for _ in range(3):
                proc = await asyncio.create_subprocess_exec("cat", stdin=PIPE, stdout=PIPE,
                                                            stderr=PIPE)
                await proc.communicate(b"x" * 1000)
                proc = await asyncio.create_subprocess_shell("echo x >&2",
                                                             stderr=subprocess.STDOUT,
                                                             stdout=PIPE)
                await proc.communicate()
            with pytest.raises(FileNotFoundError):
                await asyncio.create_subprocess_exec("weft-no-such-program-here", stdin=PIPE,
                                                     stdout=PIPE, stderr=PIPE)

        # Descriptors a loop keeps for its life come with its first child
        # and first stream (libuv's EMFILE reserve, an open /dev/null, made
        # with a loop's first stream): count after one.
        async def first_child():
            proc = await asyncio.create_subprocess_exec("true", stdin=PIPE, stdout=PIPE,
                                                        stderr=PIPE)
            await proc.communicate()

        self.run(first_child())
        self.run(asyncio.sleep(0.05))
        before = open_fds()
        self.run(main())
        self.run(asyncio.sleep(0.05))
        after = open_fds()
        assert {fd: what for fd, what in after.items() if before.get(fd) != what} == {}

    def test_protocol_callbacks_in_order(self):
        events = []

        class Protocol(asyncio.SubprocessProtocol):
            def __init__(self, done):
                self.done = done

            def connection_made(self, transport):
                events.append("made")

            def pipe_data_received(self, fd, data):
                events.append(("data", fd, data))

            def pipe_connection_lost(self, fd, exc):
                events.append(("pipe lost", fd, exc))

            def process_exited(self):
                events.append("exited")

            def connection_lost(self, exc):
                events.append(("lost", exc))
                self.done.set_result(None)

        async def main():
            done = self.loop.create_future()
            transport, _ = await self.loop.subprocess_exec(lambda: Protocol(done), "echo", "hi",
                                                           stdin=None, stderr=None)
            await done
            code = transport.get_returncode()
            transport.close()
            return code

        assert self.run(main()) == 0
        assert events[0] == "made"
        assert ("data", 1, b"hi\n") in events
        assert events[-1] == ("lost", None)
        assert set(events[1:-1]) == {("data", 1, b"hi\n"), ("pipe lost", 1, None), "exited"}

    def test_close_kills_a_running_child(self):
        async def main():
            transport, _ = await self.loop.subprocess_exec(asyncio.SubprocessProtocol, "sleep",
                                                           "30", stdin=None, stdout=None,
                                                           stderr=None)
            transport.close()
            return await transport._wait()

        assert self.run(main()) == -signal.SIGKILL


class TestWeftSubprocess(SubprocessCases, WeftLoop):
    def test_weft_spawns_what_it_can_express(self):
        async def main():
            proc = await asyncio.create_subprocess_exec("true", stdout=PIPE)
            weft_kind = type(proc._transport._proc).__name__
            await proc.wait()
            proc = await asyncio.create_subprocess_exec("true", stdout=PIPE,
                                                        stderr=subprocess.STDOUT)
            popen_kind = type(proc._transport._proc).__name__
            await proc.wait()
            return weft_kind, popen_kind

        assert self.run(main()) == ("WeftChild", "PopenChild")


class TestAsyncioSubprocess(SubprocessCases, AsyncioLoop):
    pass


if __name__ == "__main__":
    sys.exit(pytest.main(["-q", sys.argv[0]]))
