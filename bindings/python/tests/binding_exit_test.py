"""Interpreter exit with weft still busy neither crashes nor hangs: pending
timers and future callbacks holding Python callables, Python work running on
pool threads and more queued, a runtime never destroyed. Each case runs in a
child interpreter (with this test's environment: the package's path and,
under sanitizers, the preloaded runtime), bounded in time."""
import os
import subprocess
import sys
import textwrap

import pytest

PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SETUP = """
import threading, time
from weft import capi
runtime = capi.weft_runtime_create(None)
loop = capi.weft_runtime_loop(runtime)
pool = capi.weft_runtime_pool(runtime)
"""

CASES = {
    "pending_callbacks": """
        timer = capi.weft_loop_call_later(loop, 10**12, lambda s, m: print("timer", s))
        future = capi.weft_future_create(loop)
        capi.weft_future_then(future, loop, lambda *o: None)
        capi.weft_loop_call_soon(loop, lambda s, m: None)
    """,
    "python_work_running": """
        started = threading.Event()
        def slow():
            started.set()
            time.sleep(0.3)
            return b"late"
        capi.weft_executor_submit(pool, loop, slow, lambda *o: print("done", o))
        for _ in range(16):
            capi.weft_executor_submit(pool, loop, lambda: sum(range(100000)))
        assert started.wait(10)
    """,
    "destroyed_with_work_queued": """
        for _ in range(16):
            capi.weft_executor_submit(pool, loop, lambda: sum(range(100000)))
        capi.weft_runtime_destroy(runtime)
    """,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_interpreter_exits_cleanly(case):
    script = SETUP + textwrap.dedent(CASES[case]) + "print('exiting', flush=True)\n"
    env = dict(os.environ, PYTHONPATH=PACKAGE)
    child = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                           text=True, timeout=60)
    assert child.returncode == 0, child.stderr
    assert child.stdout.endswith("exiting\n"), child.stdout
    assert "Fatal Python error" not in child.stderr and "Segmentation" not in child.stderr
