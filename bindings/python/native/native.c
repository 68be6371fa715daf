/* native/native.c: registers the hand-written parts of weft._capi (see
 * native.h). Each part has its own file and its own init function. */
#include "native/native.h"

int weft_py_native_init(PyObject* module) {
  /* The ABI of the library this extension was built against, for
   * diagnostics. */
  if (PyModule_AddStringConstant(module, "_native_parts", "") != 0) return -1;
  return 0;
}
