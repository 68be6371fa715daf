/* Calls with enum arguments out of their range, as C callers may make them
 * (in C an enum is an int; in C++ such a value would be undefined). */
#include "weft/weft.h"

weft_status fuzz_loop_run_raw(weft_loop_t* loop, int mode) { return weft_loop_run(loop, (weft_run_mode)mode); }
