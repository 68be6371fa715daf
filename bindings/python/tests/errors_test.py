"""Statuses through weft.capi raise weft.errors classes: the right subclass
(and builtin), the status, its name and the C call's own message."""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pytest  # noqa: E402
import weft  # noqa: E402
from weft import capi, errors  # noqa: E402
from helpers.runtime import Runtime  # noqa: E402


def test_the_hierarchy_matches_builtins_where_they_mean_the_same():
    assert issubclass(errors.InvalidArgumentError, ValueError)
    assert issubclass(errors.TimedOutError, TimeoutError)
    assert issubclass(errors.NoMemoryError, MemoryError)
    assert issubclass(errors.ConnectionRefusedError, ConnectionRefusedError)
    assert issubclass(errors.NotFoundError, FileNotFoundError)
    assert issubclass(errors.EndOfFileError, EOFError)
    assert issubclass(errors.WrongThreadError, RuntimeError)
    for cls in (errors.InvalidArgumentError, errors.CancelledError, errors.ConnectionResetError):
        assert issubclass(cls, weft.Error) and issubclass(cls, Exception)
    assert weft.Error is errors.Error is capi.Error


def test_an_os_level_error_carries_errno_and_pickles():
    import errno
    import pickle
    error = errors.from_status(capi.WEFT_ERR_CONNECTION_REFUSED, "connect 127.0.0.1:1: refused")
    assert isinstance(error, ConnectionRefusedError) and error.errno == errno.ECONNREFUSED
    assert error.args == (capi.WEFT_ERR_CONNECTION_REFUSED, "WEFT_ERR_CONNECTION_REFUSED",
                          "connect 127.0.0.1:1: refused")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and again.args == error.args
    assert str(error) == "connect 127.0.0.1:1: refused (WEFT_ERR_CONNECTION_REFUSED)"
    assert error.strerror == "connect 127.0.0.1:1: refused" and error.filename is None
    unresolved = errors.from_status(capi.WEFT_ERR_HOST_NOT_FOUND, "no such host")
    assert isinstance(unresolved, OSError) and unresolved.errno is None


def test_bad_arguments_raise_the_subclass_with_the_c_message():
    with Runtime(threads=1, manual_clock=True) as rt:
        with pytest.raises(errors.InvalidArgumentError) as failure:
            capi.weft_loop_call_soon(rt.loop, None)
        e = failure.value
        assert isinstance(e, ValueError)
        assert e.status == capi.WEFT_ERR_INVALID_ARGUMENT and e.name == "WEFT_ERR_INVALID_ARGUMENT"
        # The message is weft's own for this call (from the misuse report),
        # naming the function, not only the status's generic text.
        assert "weft_loop_call_soon" in e.message, e.message
        with pytest.raises(errors.InvalidArgumentError) as failure:
            capi.weft_loop_run(rt.loop, 77)
        assert "weft_loop_run" in failure.value.message
        future = capi.weft_future_create(rt.loop)
        capi.weft_future_resolve(future, 1)
        with pytest.raises(errors.AlreadyCompletedError) as failure:
            capi.weft_future_resolve(future, 2)
        assert failure.value.status == capi.WEFT_ERR_ALREADY_COMPLETED
        with pytest.raises(errors.NotReadyError):
            pending = capi.weft_future_create(rt.loop)
            try:
                capi.weft_future_result(pending)
            finally:
                capi.weft_future_release(pending)
        capi.weft_future_release(future)
        with pytest.raises(errors.StaleHandleError) as failure:
            capi.weft_future_release(future)
        assert "weft_future_release" in failure.value.message
        loop = rt.loop
    with pytest.raises(errors.StaleHandleError):
        capi.weft_loop_run(loop, capi.WEFT_RUN_NOWAIT)


def test_a_message_from_one_call_never_leaks_into_the_next():
    with Runtime(threads=1, manual_clock=True) as rt:
        with pytest.raises(errors.InvalidArgumentError):
            capi.weft_loop_call_soon(rt.loop, None)
        future = capi.weft_future_create(rt.loop)
        capi.weft_future_cancel(future)
        with pytest.raises(errors.AlreadyCompletedError) as failure:
            capi.weft_future_cancel(future)  # not a misuse: the status's own text
        assert "weft_loop_call_soon" not in failure.value.message
        capi.weft_future_release(future)


def test_the_wrong_thread_raises_wrong_thread_error():
    with Runtime(threads=1, manual_clock=True) as rt:
        caught = []

        def other():
            try:
                capi.weft_loop_run(rt.loop, capi.WEFT_RUN_NOWAIT)
            except weft.Error as e:
                caught.append(e)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(10)
        assert len(caught) == 1 and type(caught[0]) is errors.WrongThreadError
        assert "weft_loop_run" in caught[0].message


def test_type_errors_for_what_is_not_a_weft_value_at_all():
    with Runtime(threads=1, manual_clock=True) as rt:
        with pytest.raises(TypeError):
            capi.weft_loop_call_soon(rt.loop, 42)  # not callable
        with pytest.raises(TypeError):
            capi.weft_future_all(rt.loop, [1, 2])


def test_the_misuse_handler_sees_each_misuse_and_can_be_removed():
    seen = []
    capi.weft_set_misuse_handler(lambda function, status, message: seen.append((function, status)))
    try:
        with Runtime(threads=1, manual_clock=True) as rt:
            with pytest.raises(errors.InvalidArgumentError):
                capi.weft_loop_call_soon(rt.loop, None)
    finally:
        capi.weft_set_misuse_handler(None)
    assert seen == [("weft_loop_call_soon", capi.WEFT_ERR_INVALID_ARGUMENT)]
    with pytest.raises(TypeError):
        capi.weft_set_misuse_handler(3)
    with Runtime(threads=1, manual_clock=True) as rt:  # removed: the message still arrives
        with pytest.raises(errors.InvalidArgumentError) as failure:
            capi.weft_loop_call_soon(rt.loop, None)
        assert "weft_loop_call_soon" in failure.value.message
    assert len(seen) == 1
