/* native/native.h: the hand-written C half of the extension weft._capi.
 *
 * SWIG generates weft._capi from bindings/weft.i (every C API function, as
 * weft.capi); what SWIG cannot express, and the asyncio loop's hot paths
 * (call_soon, timers, handle dispatch), are written by hand in native/ and
 * added to the same module by weft_py_native_init, which the SWIG module's
 * init calls once, with the GIL held.
 */
#ifndef WEFT_PY_NATIVE_H
#define WEFT_PY_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Adds the native types and functions to `module`. Returns 0, or -1 with a
 * Python error set. */
int weft_py_native_init(PyObject* module);

/* native/stream_transport.c: weft._capi.StreamCore (socket transports). */
int weft_py_stream_transport_init(PyObject* module);

#endif /* WEFT_PY_NATIVE_H */
