/* A C program that embeds CPython and owns a weft runtime: it runs 60 frames
 * a second and gives weft weft_loop_run_for(2 ms) each frame, and an asyncio
 * task (ticker.py) on a weft.Loop attached to that runtime ticks inside those
 * steps, with asyncio's running loop set while it runs.
 *
 * The host's main thread is the runtime's loop thread; it holds the GIL only
 * while it calls into Python itself, and releases it while it runs frames
 * (weft takes it for each Python callback). It owns the runtime and the
 * interpreter; ticker.py's Ticker owns the attached loop.
 *
 * It prints what the task did and the frame statistics: how long run_for
 * took and how far past its 2 ms budget it went (mean, p50, p99, max).
 *   bazel run -c opt //examples/python:host_driven -- --frames 600
 * (ticker.py must be importable: the target's wrapper sets PYTHONPATH.)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <weft/weft.h>

#define FRAME_NS 16666667ull
#define BUDGET_NS WEFT_MS(2)
#define TICK_PERIOD_S 0.005

static void die_weft(const char* what, weft_status status) {
  fprintf(stderr, "host_driven: %s failed: %s\n", what, weft_status_str(status));
  exit(1);
}

#define CHECK(call)                                   \
  do {                                                \
    weft_status status_ = (call);                     \
    if (status_ != WEFT_OK) die_weft(#call, status_); \
  } while (0)

static void die_python(const char* what) {
  fprintf(stderr, "host_driven: %s failed:\n", what);
  PyErr_Print();
  exit(1);
}

static uint64_t wall_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int compare_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

/* Sorts `values` and prints mean, p50, p99 and max in microseconds. */
static void print_stats(const char* what, uint64_t* values, int n) {
  uint64_t sum = 0;
  for (int i = 0; i < n; ++i) sum += values[i];
  qsort(values, (size_t)n, sizeof(uint64_t), compare_u64);
  printf("%s (%d frames): mean %.1f us, p50 %.1f us, p99 %.1f us, max %.1f us\n", what, n,
         (double)sum / n / 1e3, (double)values[n / 2] / 1e3,
         (double)values[(size_t)((n - 1) * 99 / 100)] / 1e3, (double)values[n - 1] / 1e3);
}

/* Calls a method of `object` that takes no arguments; exits on an error. */
static PyObject* call(PyObject* object, const char* method) {
  PyObject* result = PyObject_CallMethod(object, method, NULL);
  if (result == NULL) die_python(method);
  return result;
}

/* One frame: wait for the next vsync, then give weft its budget. Returns the
 * time run_for took. */
static uint64_t frame(weft_loop_t* loop, struct timespec* next, size_t* ran) {
  next->tv_nsec += (long)FRAME_NS;
  while (next->tv_nsec >= 1000000000L) {
    next->tv_nsec -= 1000000000L;
    next->tv_sec++;
  }
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL);
  weft_run_report report = WEFT_RUN_REPORT_INIT;
  uint64_t start = wall_ns();
  CHECK(weft_loop_run_for(&report, loop, BUDGET_NS));
  *ran += report.ran;
  return wall_ns() - start;
}

int main(int argc, char** argv) {
  int frames = 600;
  for (int i = 1; i + 1 < argc; ++i) {
    if (strcmp(argv[i], "--frames") == 0) frames = atoi(argv[i + 1]);
  }
  if (frames < 10) {
    fprintf(stderr, "host_driven: --frames must be at least 10\n");
    return 2;
  }

  weft_runtime_t* runtime;
  weft_loop_t* loop;
  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.threads = 1;
  options.name = "host";
  CHECK(weft_runtime_create(&runtime, &options));
  CHECK(weft_runtime_loop(&loop, runtime));

  Py_Initialize();
  PyObject* module = PyImport_ImportModule("ticker");
  if (module == NULL) die_python("import ticker");
  PyObject* ticker = PyObject_CallMethod(module, "Ticker", "Kd",
                                         (unsigned long long)(uintptr_t)runtime, TICK_PERIOD_S);
  if (ticker == NULL) die_python("ticker.Ticker(runtime)");
  PyThreadState* host_thread = PyEval_SaveThread(); /* weft takes the GIL per callback */

  uint64_t* spent = calloc((size_t)frames, sizeof(uint64_t));
  uint64_t* overshoot = calloc((size_t)frames, sizeof(uint64_t));
  if (spent == NULL || overshoot == NULL) return 1;
  size_t ran = 0;
  printf("host: %d frames at 60 fps, weft_loop_run_for(%llu us) each, an asyncio task ticking every %.0f ms\n",
         frames, (unsigned long long)(BUDGET_NS / WEFT_US(1)), TICK_PERIOD_S * 1e3);
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (int i = 0; i < frames; ++i) {
    spent[i] = frame(loop, &next, &ran);
    overshoot[i] = spent[i] > BUDGET_NS ? spent[i] - BUDGET_NS : 0;
  }

  /* Stop the task: it is cancelled inside the next steps. */
  PyEval_RestoreThread(host_thread);
  Py_DECREF(call(ticker, "stop"));
  int stopped = 0;
  for (int i = 0; i < 60 && !stopped; ++i) {
    host_thread = PyEval_SaveThread();
    size_t unused = 0;
    frame(loop, &next, &unused);
    PyEval_RestoreThread(host_thread);
    PyObject* done = call(ticker, "done");
    stopped = PyObject_IsTrue(done);
    Py_DECREF(done);
  }
  PyObject* report = call(ticker, "report");
  printf("python: %s\n", PyUnicode_AsUTF8(report));
  Py_DECREF(report);
  Py_DECREF(call(ticker, "close"));
  Py_DECREF(ticker);
  Py_DECREF(module);

  printf("weft: %.1f callbacks per frame\n", (double)ran / frames);
  print_stats("run_for time, all frames", spent, frames);
  print_stats("overshoot past the 2 ms budget, all frames", overshoot, frames);
  free(spent);
  free(overshoot);
  /* The runtime goes first, while Python is alive: callbacks it still holds
   * get their cancelled call (taking the GIL) and drop their references. */
  host_thread = PyEval_SaveThread();
  CHECK(weft_runtime_destroy(runtime));
  PyEval_RestoreThread(host_thread);
  if (Py_FinalizeEx() != 0) return 1;
  return stopped ? 0 : 1;
}
