"""weft's statuses as Python exceptions.

Every weft function returns a ``weft_status``; through ``weft.capi`` any status
but ``WEFT_OK`` raises an instance of ``Error``'s subclass for that status,
carrying ``status`` (the int), ``name`` (``"WEFT_ERR_TIMED_OUT"``) and
``message`` (what went wrong: the C call's own message where weft gives one,
otherwise the status's text). ``args`` is ``(status, name, message)``.

Where a builtin exception means the same thing, the class also derives from
it, so ``except TimeoutError`` or ``except ConnectionRefusedError`` catch
weft's failures too; the OS-level ones carry the matching ``errno``.
``WEFT_ERR_CANCELLED`` is ``CancelledError``, a plain ``Error``: weft's
futures turn it into ``asyncio.CancelledError`` where a coroutine awaits
them (see weft.futures).

This module is plain Python with no import of the extension: the extension
looks the classes up here (``class_for_name``) when it raises. Any thread.
"""
import errno as _errno

__all__ = ["Error", "ApplicationError", "class_for_name", "from_status"]


class Error(Exception):
    """A weft status other than WEFT_OK: ``status``, ``name``, ``message``."""

    status = None  # the class's status; instances carry their own

    def __init__(self, status, name=None, message=None):
        if name is None or message is None:
            name_found, text = _describe(status)
            name = name if name is not None else name_found
            message = message if message is not None else text
        super().__init__(status, name, message)
        self.args = (status, name, message)
        self.status = status
        self.name = name
        self.message = message
        if isinstance(self, OSError):  # OSError read (status, name, message) as errno, strerror, filename
            self.errno = self.errno_value
            self.strerror = message
            self.filename = None

    errno_value = None

    def __str__(self):
        return "%s (%s)" % (self.message, self.name)

    def __reduce__(self):
        return (type(self), self.args)


class ApplicationError(Error):
    """An application-defined status (WEFT_STATUS_USER or below)."""


def _status_class(class_name, status_name, bases, doc, errno_value=None):
    cls = type(class_name, (Error,) + bases, {"__doc__": doc, "__module__": __name__,
                                             "errno_value": errno_value})
    globals()[class_name] = cls
    __all__.append(class_name)
    _BY_NAME[status_name] = cls
    return cls


_BY_NAME = {}

# (status name, class name, builtin bases, errno, what it means)
_TABLE = [
    ("WEFT_ERR_CANCELLED", "CancelledError", (), None, "The operation was cancelled."),
    ("WEFT_ERR_TIMED_OUT", "TimedOutError", (TimeoutError,), _errno.ETIMEDOUT,
     "The operation timed out."),
    ("WEFT_ERR_BROKEN_PROMISE", "BrokenPromiseError", (), None,
     "A future's last producer let go of it without a result."),
    ("WEFT_ERR_INVALID_ARGUMENT", "InvalidArgumentError", (ValueError,), None,
     "An argument was invalid."),
    ("WEFT_ERR_INVALID_STATE", "InvalidStateError", (RuntimeError,), None,
     "The operation is not valid in the object's current state."),
    ("WEFT_ERR_WRONG_THREAD", "WrongThreadError", (RuntimeError,), None,
     "Called from a thread that does not own the loop."),
    ("WEFT_ERR_CLOSED", "ClosedError", (RuntimeError,), None,
     "The loop, scope or executor is closed."),
    ("WEFT_ERR_ALREADY_COMPLETED", "AlreadyCompletedError", (RuntimeError,), None,
     "The future already has a result."),
    ("WEFT_ERR_NO_MEMORY", "NoMemoryError", (MemoryError,), None, "Out of memory."),
    ("WEFT_ERR_EXCEPTION", "CallbackExceptionError", (), None,
     "An exception escaped user code."),
    ("WEFT_ERR_REENTRANT_RUN", "ReentrantRunError", (RuntimeError,), None,
     "The loop is already running on this thread."),
    ("WEFT_ERR_UNKNOWN", "UnknownError", (), None, "An unknown error."),
    ("WEFT_ERR_INVALID_HANDLE", "InvalidHandleError", (ValueError,), None,
     "Not a weft handle of the expected kind (or NULL)."),
    ("WEFT_ERR_STALE_HANDLE", "StaleHandleError", (ValueError,), None,
     "The handle was destroyed or released."),
    ("WEFT_ERR_NOT_READY", "NotReadyError", (RuntimeError,), None,
     "The future has not completed yet."),
    ("WEFT_ERR_VERSION_MISMATCH", "VersionMismatchError", (RuntimeError,), None,
     "An incompatible weft library version."),
    ("WEFT_ERR_MULTIPLE_ERRORS", "MultipleErrorsError", (), None,
     "Several operations failed."),
    ("WEFT_ERR_CONNECTION_REFUSED", "ConnectionRefusedError", (ConnectionRefusedError,),
     _errno.ECONNREFUSED, "Connection refused."),
    ("WEFT_ERR_CONNECTION_RESET", "ConnectionResetError", (ConnectionResetError,),
     _errno.ECONNRESET, "Connection reset by peer."),
    ("WEFT_ERR_BROKEN_PIPE", "BrokenPipeError", (BrokenPipeError,), _errno.EPIPE,
     "Broken pipe: the peer is gone."),
    ("WEFT_ERR_ADDRESS_IN_USE", "AddressInUseError", (OSError,), _errno.EADDRINUSE,
     "Address already in use."),
    ("WEFT_ERR_TOO_MANY_OPEN_FILES", "TooManyOpenFilesError", (OSError,), _errno.EMFILE,
     "Too many open files."),
    ("WEFT_ERR_NOT_FOUND", "NotFoundError", (FileNotFoundError,), _errno.ENOENT,
     "No such file or directory."),
    ("WEFT_ERR_HOST_UNREACHABLE", "HostUnreachableError", (OSError,), _errno.EHOSTUNREACH,
     "Host unreachable."),
    ("WEFT_ERR_NETWORK_UNREACHABLE", "NetworkUnreachableError", (OSError,),
     _errno.ENETUNREACH, "Network unreachable."),
    ("WEFT_ERR_END_OF_FILE", "EndOfFileError", (EOFError,), None, "End of stream."),
    ("WEFT_ERR_PERMISSION_DENIED", "PermissionDeniedError", (PermissionError,),
     _errno.EACCES, "Permission denied."),
    ("WEFT_ERR_ADDRESS_NOT_AVAILABLE", "AddressNotAvailableError", (OSError,),
     _errno.EADDRNOTAVAIL, "Address not available."),
    ("WEFT_ERR_CONNECTION_ABORTED", "ConnectionAbortedError", (ConnectionAbortedError,),
     _errno.ECONNABORTED, "Connection aborted."),
    ("WEFT_ERR_NOT_CONNECTED", "NotConnectedError", (OSError,), _errno.ENOTCONN,
     "Socket is not connected."),
    ("WEFT_ERR_ALREADY_EXISTS", "AlreadyExistsError", (FileExistsError,), _errno.EEXIST,
     "Already exists."),
    ("WEFT_ERR_HOST_NOT_FOUND", "HostNotFoundError", (OSError,), None,
     "Host name not found."),
    ("WEFT_ERR_NO_SPACE", "NoSpaceError", (OSError,), _errno.ENOSPC,
     "No space left on device."),
    ("WEFT_ERR_MESSAGE_TOO_LONG", "MessageTooLongError", (OSError,), _errno.EMSGSIZE,
     "Message too long."),
    ("WEFT_ERR_IO_ERROR", "InputOutputError", (OSError,), _errno.EIO, "Input/output error."),
    ("WEFT_ERR_TLS_HANDSHAKE_FAILED", "TlsHandshakeError", (ConnectionError,), None,
     "TLS handshake failed."),
    ("WEFT_ERR_TLS_CERTIFICATE_UNTRUSTED", "TlsCertificateUntrustedError", (ConnectionError,), None,
     "TLS certificate not trusted."),
    ("WEFT_ERR_TLS_HOST_MISMATCH", "TlsHostMismatchError", (ConnectionError,), None,
     "TLS certificate does not match the host name."),
    ("WEFT_ERR_TLS_PROTOCOL_ERROR", "TlsProtocolError", (ConnectionError,), None,
     "TLS protocol error."),
]

for _status_name, _class_name, _bases, _errno_value, _doc in _TABLE:
    _status_class(_class_name, _status_name, _bases, _doc, _errno_value)
del _status_name, _class_name, _bases, _errno_value, _doc

_BY_NAME["WEFT_STATUS_USER"] = ApplicationError


def class_for_name(status_name):
    """The exception class for a status name (weft_status_name's); Error for
    a name this table does not know (a status newer than this module)."""
    return _BY_NAME.get(status_name, Error)


def _describe(status):
    from . import capi  # late: the extension imports this module first
    return capi.weft_status_name(status), capi.weft_status_str(status)


def from_status(status, message=None):
    """The exception for a failure status (and its message, if known)."""
    name, text = _describe(status)
    return class_for_name(name)(status, name, message if message is not None else text)
