"""weft.events: the Python half of weft.Loop's handles and error reports.

Handles are C objects (weft._capi.Handle, weft._capi.TimerHandle); their
repr, their creation stack in debug mode, and the messages the loop logs
for failing or slow callbacks are formatted here, in asyncio's words.
Runs on the loop thread (repr: any thread).
"""
import reprlib
import sys
import traceback

from asyncio import format_helpers
from asyncio.log import logger

from . import _capi

Handle = _capi.Handle
TimerHandle = _capi.TimerHandle


def _callback_text(handle):
    callback = handle._callback
    if callback is None:
        return None
    return format_helpers._format_callback_source(callback, handle._args)


def handle_repr(handle):
    """asyncio's repr for a handle: '<Handle cb(args) at file:line>'."""
    parts = [type(handle).__name__]
    if handle._cancelled:
        parts.append("cancelled")
    if isinstance(handle, TimerHandle):
        parts.append(f"when={handle.when()}")
    text = _callback_text(handle)
    if text is not None:
        parts.append(text)
    tb = handle._source_traceback
    if tb:
        frame = tb[-1]
        parts.append(f"created at {frame[0]}:{frame[1]}")
    return "<{}>".format(" ".join(parts))


def capture_stack():
    """The stack of whoever called call_soon/call_later (debug mode)."""
    return format_helpers.extract_stack(sys._getframe(1))


def callback_error_context(handle, exc):
    """The exception handler's context for an exception in a callback."""
    context = {
        "message": f"Exception in callback {_callback_text(handle) or repr(handle)}",
        "exception": exc,
        "handle": handle,
    }
    if handle._source_traceback:
        context["source_traceback"] = handle._source_traceback
    return context


def log_slow_callback(handle, seconds):
    logger.warning("Executing %s took %.3f seconds", repr(handle), seconds)


def default_exception_report(context, current_handle=None):
    """Logs an exception handler context as asyncio's default handler does:
    the message, then each other key sorted, tracebacks expanded."""
    message = context.get("message") or "Unhandled exception in event loop"
    exception = context.get("exception")
    exc_info = (type(exception), exception, exception.__traceback__) if exception is not None else False
    if ("source_traceback" not in context and current_handle is not None
            and current_handle._source_traceback):
        context["handle_traceback"] = current_handle._source_traceback
    lines = [message]
    for key in sorted(context):
        if key in ("message", "exception"):
            continue
        value = context[key]
        if key == "source_traceback":
            value = "Object created at (most recent call last):\n" + "".join(
                traceback.format_list(value)).rstrip()
        elif key == "handle_traceback":
            value = "Handle created at (most recent call last):\n" + "".join(
                traceback.format_list(value)).rstrip()
        else:
            value = repr(value)
        lines.append(f"{key}: {value}")
    logger.error("\n".join(lines), exc_info=exc_info)


__all__ = ["Handle", "TimerHandle"]
