"""weft.capi scopes and diagnostics: a scope's cancel/drain/list/destroy,
the runtime's dump (visitor and text), stats, and the error handler."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pytest  # noqa: E402
from weft import capi, errors  # noqa: E402
from helpers.runtime import MS, Runtime  # noqa: E402


@pytest.fixture
def rt():
    with Runtime(threads=1, manual_clock=True) as runtime:
        yield runtime


def test_a_scope_owns_what_its_loop_handle_creates(rt):
    scope = capi.weft_scope_create(rt.runtime, "plugin")
    loop = capi.weft_scope_loop(scope)
    assert capi.address_of(capi.weft_loop_scope(loop)) == capi.address_of(scope)
    got = []
    timer = capi.weft_loop_call_later(loop, 50 * MS, lambda s, m: got.append(("timer", s)))
    future = capi.weft_future_create(loop)
    capi.weft_future_set_name(future, "pending-result")
    capi.weft_loop_call_soon(loop, lambda s, m: got.append(("soon", s)))
    listed = []
    capi.weft_scope_list(scope, listed.append)
    kinds = sorted(item["kind"] for item in listed)
    assert capi.WEFT_OBJECT_TIMER in kinds and capi.WEFT_OBJECT_FUTURE in kinds
    assert any(item["name"] == "pending-result" and item["scope"] == "plugin" for item in listed)

    capi.weft_scope_cancel(scope)
    assert ("timer", capi.WEFT_ERR_CANCELLED) in got  # inside the cancel
    with pytest.raises(errors.ClosedError):
        capi.weft_loop_call_soon(loop, lambda s, m: None)
    assert capi.weft_scope_drain(scope, 1000 * MS) == 0
    assert ("soon", capi.WEFT_ERR_CANCELLED) in got
    assert capi.weft_future_result(future)[0] == capi.WEFT_ERR_CANCELLED
    capi.weft_future_release(future)
    capi.weft_future_release(timer)
    capi.weft_scope_destroy(scope)
    with pytest.raises(errors.StaleHandleError):
        capi.weft_scope_cancel(scope)
    with pytest.raises(errors.InvalidArgumentError):
        capi.weft_scope_destroy(capi.weft_loop_scope(rt.loop))  # the root scope


def test_drain_times_out_and_names_what_is_left(rt):
    scope = capi.weft_scope_create(rt.runtime, "slow")
    loop = capi.weft_scope_loop(scope)
    future = capi.weft_future_create(loop)  # nobody completes it
    with pytest.raises(errors.TimedOutError):
        capi.weft_scope_drain(scope, 1 * MS)
    listed = []
    capi.weft_scope_list(scope, listed.append)
    assert [i["state"] for i in listed if i["kind"] == capi.WEFT_OBJECT_FUTURE] == ["pending"]
    capi.weft_future_release(future)
    capi.weft_scope_destroy(scope)


def test_dump_stats_and_dump_text(rt):
    timer = capi.weft_loop_call_later(rt.loop, 10 * MS, None)
    stats = capi.weft_runtime_stats(rt.runtime)
    assert stats.timers_armed == 1 and stats.timers_pending == 1 and stats.scopes == 1
    assert stats.executors >= 1 and stats.struct_size > 0
    items = []
    capi.weft_runtime_dump(rt.runtime, items.append)
    assert any(i["kind"] == capi.WEFT_OBJECT_TIMER for i in items)
    assert any(i["kind"] == capi.WEFT_OBJECT_EXECUTOR for i in items)
    text = capi.weft_runtime_dump_text(rt.runtime)
    assert isinstance(text, str) and text.count("\n") >= len(items) - 1 and "timer" in text
    capi.weft_future_cancel(timer)
    capi.weft_future_release(timer)
    assert capi.weft_runtime_stats(rt.runtime).timers_cancelled == 1
    with pytest.raises(TypeError):
        capi.weft_runtime_dump(rt.runtime, None)


def test_the_error_handler_gets_unobserved_failures(rt):
    events = []
    capi.weft_runtime_set_error_handler(rt.runtime, events.append)
    future = capi.weft_future_create(rt.loop)
    capi.weft_future_reject(future, capi.WEFT_ERR_IO_ERROR, "disk on fire")
    capi.weft_future_release(future)  # nobody looked at the failure
    capi.weft_loop_run(rt.loop, capi.WEFT_RUN_NOWAIT)
    assert len(events) == 1
    event = events[0]
    assert event["kind"] == capi.WEFT_EVENT_UNOBSERVED_FAILURE
    assert event["status"] == capi.WEFT_ERR_IO_ERROR and "disk on fire" in event["message"]
    capi.weft_runtime_set_error_handler(rt.runtime, None)  # the default again
    with pytest.raises(TypeError):
        capi.weft_runtime_set_error_handler(rt.runtime, 5)


def test_the_error_handler_is_released_with_its_runtime():
    def handler(event):
        pass

    before = sys.getrefcount(handler)
    rt = Runtime(threads=1, manual_clock=True)
    capi.weft_runtime_set_error_handler(rt.runtime, handler)
    assert sys.getrefcount(handler) == before + 1
    rt.close()
    assert sys.getrefcount(handler) == before


def test_slow_callbacks_are_reported():
    options = capi.weft_runtime_options_init()
    options.threads = 1
    options.slow_callback_ns = 1 * MS
    options.name = "slowpoke"
    runtime = capi.weft_runtime_create(options)
    loop = capi.weft_runtime_loop(runtime)
    events = []
    capi.weft_runtime_set_error_handler(runtime, events.append)
    import time
    capi.weft_loop_call_soon(loop, lambda s, m: time.sleep(0.01))
    capi.weft_loop_run(loop, capi.WEFT_RUN_DEFAULT)
    assert [e["kind"] for e in events] == [capi.WEFT_EVENT_SLOW_CALLBACK]
    assert events[0]["duration_ns"] >= 10 * MS
    capi.weft_runtime_destroy(runtime)


def test_runtime_options_reject_bad_values():
    options = capi.weft_runtime_options()
    options.clock = 99
    with pytest.raises(errors.InvalidArgumentError) as failure:
        capi.weft_runtime_create(options)
    assert "weft_runtime_create" in failure.value.message
