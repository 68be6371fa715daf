/* A program built outside Bazel against an installed weft: by install_test.sh
 * with `cc installed_hello.c $(pkg-config --cflags --libs weft)`. It checks
 * that the headers and the library agree, runs one call_soon callback and one
 * timer, and prints what happened. */
#include <stdio.h>

#include <weft/weft.h>

static void note(void* user, weft_status status, const char* message) {
  printf("%s: %s%s%s\n", (const char*)user, weft_status_name(status), message ? " " : "",
         message ? message : "");
}

int main(void) {
  if (WEFT_VERSION_CHECK() != WEFT_OK) {
    fprintf(stderr, "headers %s, library %s: mismatch\n", WEFT_VERSION_STRING, weft_version_string());
    return 1;
  }
  printf("weft %s, ABI %u\n", weft_version_string(), (unsigned)weft_abi_version());

  weft_runtime_t* runtime = NULL;
  weft_loop_t* loop = NULL;
  if (weft_runtime_create(&runtime, NULL) != WEFT_OK || weft_runtime_loop(&loop, runtime) != WEFT_OK) {
    fprintf(stderr, "cannot create a runtime\n");
    return 1;
  }
  weft_loop_call_later(NULL, loop, WEFT_MS(1), note, "timer");
  weft_loop_call_soon(loop, note, "call_soon");
  weft_status ran = weft_loop_run(loop, WEFT_RUN_DEFAULT);
  printf("run: %s\n", weft_status_name(ran));
  return weft_runtime_destroy(runtime) == WEFT_OK ? 0 : 1;
}
