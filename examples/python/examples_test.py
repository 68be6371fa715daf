"""Runs each Python example of this directory on weft's loop, as a user would
(`python3 example.py`), and checks what it printed. The timings the examples
print are checked loosely (this machine is shared). Each example runs in its
own process; the test owns them.
"""
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def run(example):
    done = subprocess.run([sys.executable, os.path.join(HERE, example)], cwd=HERE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr  # no warning, no "never awaited", no traceback
    return done.stdout.splitlines()


def test_say_after_sequential_takes_the_sum_and_concurrent_the_longest():
    lines = run("say_after.py")
    assert lines[0] == "loop: weft.loop"
    assert lines[1:3] == ["hello", "world"] and lines[4:6] == ["hello", "world"]
    sequential = float(re.fullmatch(r"sequential took (\d+\.\d) s", lines[3]).group(1))
    concurrent = float(re.fullmatch(r"concurrent took (\d+\.\d) s", lines[6]).group(1))
    assert sequential >= 0.5 and concurrent >= 0.3
    assert concurrent < sequential


def test_gather_interleaves_the_tasks_and_keeps_the_argument_order():
    lines = run("gather.py")
    assert lines[-1] == "results: [2, 6, 24]"
    # The three tasks start together: the first step of each comes first.
    assert [l.split(":")[0] for l in lines[:3]] == ["Task A", "Task B", "Task C"]
    assert "Task A: factorial(2) = 2" in lines and "Task C: factorial(4) = 24" in lines
    assert lines.index("Task A: factorial(2) = 2") < lines.index("Task C: factorial(4) = 24")


def test_run_in_executor_with_weft_pool_threads_and_processes():
    lines = run("executors.py")
    assert lines[:4] == [
        "default executor: ran off the loop thread: True",
        "thread pool: 4 calls, all off the loop thread: True",
        "process pool: ran in another process: True",
    ] + [lines[3]]
    assert re.fullmatch(r"process pool: same digest from both calls: True [0-9a-f]{16}", lines[3])
    assert lines[4] == "the loop kept running meanwhile: True"


def test_async_iterator_class_and_generator():
    assert run("async_iterator.py") == [
        "tick 0", "tick 1", "tick 2", "squares: [0, 1, 4, 9, 16]"]


def test_async_context_managers_close_also_after_an_error():
    assert run("async_context_manager.py") == [
        "first: opened",
        "first: using it, open=True",
        "first: closed (cleanly)",
        "first: done in under a second: True",
        "second: opened",
        "second: closed (after ValueError)",
        "second: the error came through: the body failed",
    ]


def test_subprocess_pipeline():
    assert run("subprocess_pipeline.py") == [
        "loop: weft.loop",
        "bytes through the pipes: 150000 then 150000",
        "apple: 10000",
        "fig: 10000",
        "pear: 10000",
        "exit statuses: [0, 0, 0]",
        "a failing child: status 3, stderr 'no such file'",
    ]


def test_signal_handlers_with_subprocesses():
    assert run("signal_with_subprocess.py") == [
        "loop: weft.loop",
        "SIGUSR1 received: stopping the worker",
        "worker: stopping",
        "progress reports: 2, the worker progressed between them: True",
        "worker exit status: 0, operator exit status: 0",
    ]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
