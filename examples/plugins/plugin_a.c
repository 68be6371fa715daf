/* Plugin A, "oracle": answers questions later. Each answer is a future in
 * the oracle's scope, resolved by a timer in the oracle's scope. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples/plugins/plugin.h"

static const plugin_host* host;
static weft_loop_t* loop; /* the oracle's scope */

typedef struct pending_answer {
  weft_future_t* future;
  char text[96];
} pending_answer;

static void answer_now(void* user, weft_status status, const char* message) {
  (void)message;
  pending_answer* p = user;
  if (status == WEFT_OK) {
    weft_value v = weft_value_string(p->text);
    weft_future_resolve(p->future, &v);
  }
  /* Cancelled (the oracle is being unloaded): the future is cancelled with
   * the scope; only our reference and memory are left to free. */
  weft_future_release(p->future);
  free(p);
}

static weft_future_t* ask(const char* question, uint64_t delay_ms) {
  pending_answer* p = calloc(1, sizeof(*p));
  weft_future_t* future = NULL;
  if (p == NULL || weft_future_create(&future, loop) != WEFT_OK) {
    free(p);
    return NULL;
  }
  weft_future_set_name(future, question);
  snprintf(p->text, sizeof(p->text), "42 (to \"%s\")", question);
  p->future = future;
  weft_future_retain(future); /* the timer's reference; the caller gets the other */
  if (weft_loop_call_later(NULL, loop, WEFT_MS(delay_ms), answer_now, p) != WEFT_OK) {
    weft_future_release(future);
    free(p);
  }
  return future;
}

static int init(const plugin_host* h, weft_loop_t* l) {
  host = h;
  loop = l;
  host->publish("oracle.ask", (void (*)(void))ask);
  host->log("oracle", "ready: publishes oracle.ask");
  return 0;
}

static void fini(void) { host->log("oracle", "unloading"); }

static const plugin_info info = {PLUGIN_ABI, WEFT_VERSION_HEX, "oracle", init, fini};

const plugin_info* weft_example_plugin(void) { return &info; }
