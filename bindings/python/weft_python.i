/* Python glue for bindings/weft.i: the whole C API as weft.capi.
 * Built with `swig -python -threads`: every C call releases the GIL, and the
 * trampolines take it back, whichever thread weft calls them on.
 *
 *   swig/errors.i     statuses -> weft.errors exceptions, with the C call's message
 *   swig/values.i     weft_value <-> Python values
 *   swig/callbacks.i  Python callables as the operations' callbacks
 *   swig/outputs.i    out parameters as results, buffers, arrays, addresses
 *   swig/handlers.i   work functions, error/misuse handlers, visitors
 *   swig/read_into.i  weft_stream_read_into into a writable buffer
 *   swig/options.i    option structs with their defaults
 * See docs/python-capi.md. */

%{
#include "native/native.h"
%}

%include "python/swig/errors.i"
%include "python/swig/values.i"
%include "python/swig/callbacks.i"
%include "python/swig/outputs.i"
%include "python/swig/handlers.i"
%include "python/swig/read_into.i"
%include "python/swig/options.i"

%init %{
  /* The hand-written parts of the extension (native/): the loop's hot paths. */
  if (weft_py_native_init(m) != 0) return NULL;
%}

%pythoncode %{
# weft.Error(status, name, message) and its subclasses: see weft.errors.
from .errors import Error  # noqa: E402,F401
%}
