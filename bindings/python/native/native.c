/* native/native.c: registers the hand-written parts of weft._capi (see
 * native.h). Each part has its own file and its own init function. */
#include "native/native.h"

#include "native/loop.h"
#include "native/streams.h"

int weft_py_native_init(PyObject* module) {
  /* The ABI of the library this extension was built against, for
   * diagnostics. */
  if (PyModule_AddStringConstant(module, "_native_parts", "") != 0) return -1;
  if (weft_py_loop_init(module) != 0) return -1;
  if (weft_py_fdwatch_init(module) != 0) return -1;
  if (weft_py_pool_init(module) != 0) return -1;
  if (weft_py_stream_transport_init(module) != 0) return -1;
  if (weft_py_streams_op_init(module) != 0) return -1;
  if (weft_py_streams_reader_init(module) != 0) return -1;
  if (weft_py_streams_writer_init(module) != 0) return -1;
  return 0;
}
