/* Plugin B, "client": asks the oracle (plugin A) three questions and awaits
 * the answers — callbacks registered through the client's own loop handle,
 * so they belong to the client's scope — and indexes what it learns on the
 * runtime's pool. */
#define _POSIX_C_SOURCE 200809L  // nanosleep

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "examples/plugins/plugin.h"

static const plugin_host* host;
static weft_loop_t* loop; /* the client's scope */

static void on_answer(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                      const char* message) {
  (void)future;
  const char* question = user;
  char line[200];
  if (status == WEFT_OK) {
    snprintf(line, sizeof(line), "answer to \"%s\": %s", question, (const char*)value->as.bytes.data);
  } else {
    snprintf(line, sizeof(line), "no answer to \"%s\": %s (%s)", question, message, weft_status_name(status));
  }
  host->log("client", line);
}

/* Pool work: runs on a worker; the drain at unload waits for it. */
static weft_status index_answers(void* user, weft_value* result) {
  (void)user;
  (void)result;
  struct timespec t = {0, 30 * 1000000L};
  nanosleep(&t, NULL);
  return WEFT_OK;
}

static void indexed(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                    const char* message) {
  (void)user;
  (void)future;
  (void)value;
  char line[128];
  snprintf(line, sizeof(line), "indexing: %s", status == WEFT_OK ? "done" : message);
  host->log("client", line);
}

static int init(const plugin_host* h, weft_loop_t* l) {
  host = h;
  loop = l;
  oracle_ask_fn ask = (oracle_ask_fn)host->find("oracle.ask");
  if (ask == NULL) return -1;
  static const char* questions[3] = {"life", "the universe", "everything, slowly"};
  static const uint64_t delays_ms[3] = {10, 40, 60000};
  for (int i = 0; i < 3; ++i) {
    weft_future_t* answer = ask(questions[i], delays_ms[i]);
    if (answer == NULL) return -1;
    /* Registered through the client's loop: the client's scope owns it. */
    weft_future_then(answer, loop, on_answer, (void*)questions[i]);
    weft_future_release(answer); /* the oracle completes it; we only listen */
  }
  host->log("client", "asked three questions; the last answer takes a minute");
  return 0;
}

/* Called just before unloading: start one last piece of work, so the drain
 * has something running to wait for. */
static void fini(void) {
  weft_executor_t* pool;
  weft_runtime_pool(&pool, host->runtime);
  weft_executor_submit(NULL, pool, loop, index_answers, indexed, NULL);
  host->log("client", "unloading (indexing still running on the pool)");
}

static const plugin_info info = {PLUGIN_ABI, WEFT_VERSION_HEX, "client", init, fini};

const plugin_info* weft_example_plugin(void) { return &info; }
