/* mixed_host.c: one weft runtime, three languages. A C host runs a game
 * loop at 60 frames a second and gives weft weft_loop_run_for(2 ms) each
 * frame; a C plugin (c_plugin.c), a Lua script (mixed_script.lua, Lua 5.4
 * embedded) and a Python script (mixed_python.py, CPython embedded) share
 * that runtime, each with its own scope, and hand each other futures
 * through the host's exchange (exchange.h):
 *
 *   C plugin "c.go" --> Lua task "compute" ("lua.result") --> Python
 *   coroutine answer() ("python.answer") --> C plugin
 *   Lua task "forever" ("lua.forever") --> Python, cancelled by the unload
 *
 * Half-way the host unloads the Lua script: its tasks are cancelled (they
 * clean up at their pending waits) while the plugin and Python go on.
 * At the end it prints each cross-language await's outcome, a summary line
 * and the frame budget's overshoot (how far each run_for ran past 2 ms:
 * p50, p99, max), and exits 1 if any await did not complete as it should.
 *
 *   mixed_host --lua mixed_script.lua [--frames 600] [--withhold-go]
 *
 * --withhold-go: the plugin never resolves "c.go", so the chain never
 * completes: the host reports the failed awaits and exits 1.
 *   (mixed_python.py and the package weft must be importable: run_mixed.sh)
 *
 * Thread: everything runs on the main thread, the runtime's loop thread.
 * The host holds the GIL only while it calls into Python itself; weft takes
 * it for each Python callback inside the frames.
 * Ownership: the host owns the runtime, the exchange, the plugin, the
 * lua_State and the interpreter; the Python part owns its attached loop.
 * Teardown order: Python's tasks stopped, the plugin unloaded, Python's
 * loop closed, the exchange destroyed (its references dropped), the
 * runtime destroyed, Python finalized.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bindings/lua/weft_lua_host.h"
#include "bindings/lua/weft_lua_host_futures.h"
#include "examples/mixed/c_plugin.h"
#include "examples/mixed/exchange.h"

#define FRAME_NS 16666667ull
#define BUDGET_NS WEFT_MS(2)
#define GO_AFTER_NS WEFT_MS(200)
#define DRAIN_NS WEFT_MS(200)

static void die_weft(const char* what, weft_status status) {
  fprintf(stderr, "mixed_host: %s failed: %s\n", what, weft_status_name(status));
  exit(1);
}

#define CHECK(call)                                   \
  do {                                                \
    weft_status status_ = (call);                     \
    if (status_ != WEFT_OK) die_weft(#call, status_); \
  } while (0)

static void die_python(const char* what) {
  fprintf(stderr, "mixed_host: %s failed:\n", what);
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

/* ---- the exchange, as Python sees it: module mixed_host ---- */

static exchange* python_exchange; /* set before Py_Initialize, cleared before finalizing */

/* mixed_host.put(name, address): publishes the weft_future_t at `address`
 * (weft.Future.address); the exchange takes a reference of its own. */
static PyObject* py_put(PyObject* self, PyObject* args) {
  (void)self;
  const char* name;
  unsigned long long address;
  if (!PyArg_ParseTuple(args, "sK", &name, &address)) return NULL;
  if (python_exchange == NULL)
    return PyErr_Format(PyExc_RuntimeError, "mixed_host: the exchange is gone");
  weft_status status = exchange_put(python_exchange, name, (weft_future_t*)(uintptr_t)address);
  if (status != WEFT_OK)
    return PyErr_Format(PyExc_ValueError, "mixed_host.put(%s): %s", name, weft_status_name(status));
  Py_RETURN_NONE;
}

/* mixed_host.address(name): the address of the future published under
 * `name`, borrowed from the exchange (weft.Future.from_address takes a
 * reference of Python's own). LookupError if nothing is published there. */
static PyObject* py_address(PyObject* self, PyObject* args) {
  (void)self;
  const char* name;
  if (!PyArg_ParseTuple(args, "s", &name)) return NULL;
  if (python_exchange == NULL)
    return PyErr_Format(PyExc_RuntimeError, "mixed_host: the exchange is gone");
  weft_future_t* future = NULL;
  weft_status status = exchange_get(&future, python_exchange, name);
  if (status == WEFT_ERR_NOT_FOUND)
    return PyErr_Format(PyExc_LookupError, "mixed_host: nothing published as %s", name);
  if (status != WEFT_OK)
    return PyErr_Format(PyExc_ValueError, "mixed_host.address(%s): %s", name,
                        weft_status_name(status));
  return PyLong_FromUnsignedLongLong((unsigned long long)(uintptr_t)future);
}

static PyMethodDef python_methods[] = {
    {"put", py_put, METH_VARARGS,
     "put(name, address): publish a weft future (the exchange retains it)"},
    {"address", py_address, METH_VARARGS,
     "address(name): a published weft future's address (borrowed)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef python_module = {
    PyModuleDef_HEAD_INIT,
    "mixed_host",
    "The mixed example host's exchange of weft futures.",
    -1,
    python_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

static PyObject* init_python_module(void) { return PyModule_Create(&python_module); }

/* ---- the exchange, as Lua sees it: table host ---- */

/* host.get(name): a weft.Future with the script's own reference. */
static int lua_host_get(lua_State* L) {
  exchange* x = (exchange*)lua_touserdata(L, lua_upvalueindex(1));
  const char* name = luaL_checkstring(L, 1);
  weft_future_t* future = NULL;
  weft_status status = exchange_get(&future, x, name);
  if (status == WEFT_OK) status = weft_lua_host_push_future(L, future);
  if (status != WEFT_OK) return luaL_error(L, "host.get(%s): %s", name, weft_status_name(status));
  return 1;
}

/* host.put(name, future): the exchange takes a reference of its own. */
static int lua_host_put(lua_State* L) {
  exchange* x = (exchange*)lua_touserdata(L, lua_upvalueindex(1));
  const char* name = luaL_checkstring(L, 1);
  weft_future_t* future = NULL;
  weft_status status = weft_lua_host_to_future(&future, L, 2);
  if (status == WEFT_OK) {
    status = exchange_put(x, name, future);
    weft_future_release(future); /* the exchange has its own now, or nothing */
  }
  if (status != WEFT_OK) return luaL_error(L, "host.put(%s): %s", name, weft_status_name(status));
  return 0;
}

static lua_State* load_lua(weft_runtime_t* runtime, exchange* x, const char* path) {
  lua_State* L = luaL_newstate();
  if (L == NULL) die_weft("luaL_newstate", WEFT_ERR_NO_MEMORY);
  luaL_openlibs(L);
  CHECK(weft_lua_host_open(L, runtime, "lua-script"));
  lua_newtable(L);
  lua_pushlightuserdata(L, x);
  lua_pushcclosure(L, lua_host_get, 1);
  lua_setfield(L, -2, "get");
  lua_pushlightuserdata(L, x);
  lua_pushcclosure(L, lua_host_put, 1);
  lua_setfield(L, -2, "put");
  lua_setglobal(L, "host");
  if (luaL_dofile(L, path) != LUA_OK) {
    fprintf(stderr, "mixed_host: %s: %s\n", path, lua_tostring(L, -1));
    exit(1);
  }
  return L;
}

static lua_Integer lua_global(lua_State* L, const char* name) {
  lua_getglobal(L, name);
  lua_Integer v = lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

static void print_straggler(void* user, const weft_object_info* info) {
  (void)user;
  printf("straggler: scope %s, '%s' (%s)\n", info->scope, info->name, info->state);
}

/* ---- Python calls (each takes the GIL and gives it back) ---- */

typedef struct python_counts {
  long lua_result;
  int lua_cancel_seen;
  long ticks;
} python_counts;

static PyThreadState* host_thread; /* the host's thread state while the GIL is released */

static python_counts python_read(PyObject* part) {
  PyEval_RestoreThread(host_thread);
  python_counts c = {0};
  PyObject* t = PyObject_CallMethod(part, "counts", NULL);
  int cancel_seen = 0;
  if (t == NULL || !PyArg_ParseTuple(t, "lpl", &c.lua_result, &cancel_seen, &c.ticks))
    die_python("counts()");
  c.lua_cancel_seen = cancel_seen;
  Py_DECREF(t);
  host_thread = PyEval_SaveThread();
  return c;
}

static int python_call_bool(PyObject* part, const char* method) {
  PyEval_RestoreThread(host_thread);
  PyObject* r = PyObject_CallMethod(part, method, NULL);
  if (r == NULL) die_python(method);
  int truth = PyObject_IsTrue(r);
  Py_DECREF(r);
  host_thread = PyEval_SaveThread();
  return truth;
}

/* ---- frames ---- */

static uint64_t thread_cpu_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

typedef struct step_time {
  uint64_t wall; /* how long run_for took */
  uint64_t cpu;  /* how much of that this thread ran (the rest: the OS ran something else) */
} step_time;

/* Waits for the next frame, then gives weft its budget. */
static step_time frame(weft_loop_t* loop, uint64_t* next_frame) {
  *next_frame += FRAME_NS;
  struct timespec t = {(time_t)(*next_frame / 1000000000ull), (long)(*next_frame % 1000000000ull)};
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
  weft_run_report report = WEFT_RUN_REPORT_INIT;
  uint64_t cpu = thread_cpu_ns();
  uint64_t start = wall_ns();
  CHECK(weft_loop_run_for(&report, loop, BUDGET_NS));
  step_time spent = {wall_ns() - start, 0};
  spent.cpu = thread_cpu_ns() - cpu;
  return spent;
}

static uint64_t past_budget(uint64_t ns) { return ns > BUDGET_NS ? ns - BUDGET_NS : 0; }

/* Sorts `values` (ns) and prints p50, p99 and max in microseconds. */
static void print_overshoot(const char* what, uint64_t* values, int n) {
  qsort(values, (size_t)n, sizeof(uint64_t), compare_u64);
  printf("%s (%d frames, past %llu us): p50 %.1f us, p99 %.1f us, max %.1f us\n", what, n,
         (unsigned long long)(BUDGET_NS / WEFT_US(1)), (double)values[n / 2] / 1e3,
         (double)values[(size_t)(n - 1) * 99 / 100] / 1e3, (double)values[n - 1] / 1e3);
}

static int report_await(const char* what, int ok, const char* outcome) {
  printf("await %-46s %s (%s)\n", what, ok ? "completed" : "FAILED", outcome);
  return ok;
}

int main(int argc, char** argv) {
  int frames = 600;
  const char* lua_path = NULL;
  int withhold_go = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc) {
      frames = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--lua") == 0 && i + 1 < argc) {
      lua_path = argv[++i];
    } else if (strcmp(argv[i], "--withhold-go") == 0) {
      withhold_go = 1;
    } else {
      lua_path = NULL; /* anything else: the usage */
      break;
    }
  }
  if (frames < 60 || lua_path == NULL) {
    fprintf(
        stderr,
        "usage: mixed_host --lua mixed_script.lua [--frames N (at least 60)] [--withhold-go]\n");
    return 2;
  }

  weft_runtime_t* runtime = NULL;
  weft_loop_t* loop = NULL;
  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.threads = 1;
  options.name = "mixed";
  CHECK(weft_runtime_create(&runtime, &options));
  CHECK(weft_runtime_loop(&loop, runtime));
  exchange* x = NULL;
  CHECK(exchange_create(&x));

  /* Load order follows who awaits what: each part finds what it looks up at
   * load time already published. */
  c_plugin* plugin = NULL;
  CHECK(c_plugin_load(&plugin, runtime, x, withhold_go ? C_PLUGIN_GO_NEVER : GO_AFTER_NS));
  lua_State* L = load_lua(runtime, x, lua_path);

  python_exchange = x;
  if (PyImport_AppendInittab("mixed_host", init_python_module) != 0)
    die_python("PyImport_AppendInittab");
  Py_Initialize();
  PyObject* module = PyImport_ImportModule("mixed_python");
  if (module == NULL) die_python("import mixed_python");
  PyObject* part =
      PyObject_CallMethod(module, "PythonPart", "K", (unsigned long long)(uintptr_t)runtime);
  if (part == NULL) die_python("mixed_python.PythonPart(runtime)");
  host_thread = PyEval_SaveThread();
  CHECK(c_plugin_await(plugin, "python.answer"));

  uint64_t* overshoot = calloc((size_t)frames, sizeof(uint64_t));     /* wall clock */
  uint64_t* overshoot_cpu = calloc((size_t)frames, sizeof(uint64_t)); /* the thread's own time */
  if (overshoot == NULL || overshoot_cpu == NULL) return 1;
  uint64_t descheduled = 0; /* wall time inside run_for this thread did not run */
  int descheduled_frames = 0;
  printf(
      "mixed: %d frames at 60 fps, weft_loop_run_for(%llu us) each; a C plugin, a Lua script and a "
      "Python "
      "script share the runtime\n",
      frames, (unsigned long long)(BUDGET_NS / WEFT_US(1)));

  int unloaded_ok = 0;
  long lua_got = -1, lua_cleanups = -1;
  uint64_t heartbeats_at_unload = 0;
  python_counts at_unload = {0};
  uint64_t next_frame = wall_ns();
  for (int i = 0; i < frames; ++i) {
    step_time spent = frame(loop, &next_frame);
    overshoot[i] = past_budget(spent.wall);
    overshoot_cpu[i] = past_budget(spent.cpu);
    if (spent.wall > spent.cpu + WEFT_US(100)) {
      descheduled += spent.wall - spent.cpu;
      descheduled_frames++;
    }
    if (i == frames / 2) {
      /* Between frames: unloading runs the loop to drain the script's scope. */
      size_t left = 0;
      weft_status status = weft_lua_host_unload(L, DRAIN_NS, print_straggler, NULL, &left);
      lua_got = (long)lua_global(L, "lua_got");
      lua_cleanups = (long)lua_global(L, "lua_cleanups");
      printf(
          "frame %d: unloaded the Lua script (%s, %zu outstanding after the drain, %ld steps, %ld "
          "tasks "
          "cleaned up, %zu errors)\n",
          i, weft_status_name(status), left, (long)lua_global(L, "lua_steps"), lua_cleanups,
          weft_lua_host_errors(L));
      unloaded_ok =
          status == WEFT_OK && left == 0 && lua_cleanups == 2 && weft_lua_host_errors(L) == 0;
      lua_close(L);
      L = NULL;
      heartbeats_at_unload = c_plugin_heartbeats(plugin);
      at_unload = python_read(part);
      next_frame = wall_ns(); /* the drain took its time: no catching up */
    }
  }

  /* What happened, read before anything is torn down. */
  python_counts end = python_read(part);
  weft_status answer_status = WEFT_ERR_NOT_READY;
  int64_t answer = -1;
  int answered = c_plugin_awaited(plugin, &answer_status, &answer);
  uint64_t heartbeats = c_plugin_heartbeats(plugin);
  uint64_t chunks = c_plugin_chunks(plugin);

  /* Teardown: Python's tasks, the plugin, Python's loop, the exchange, the runtime. */
  python_call_bool(part, "stop");
  int stopped = 0;
  for (int i = 0; i < 60 && !stopped; ++i) {
    frame(loop, &next_frame);
    stopped = python_call_bool(part, "done");
  }
  size_t plugin_left = 0;
  weft_status plugin_unloaded = c_plugin_unload(plugin, DRAIN_NS, &plugin_left);
  PyEval_RestoreThread(host_thread);
  PyObject* closed = PyObject_CallMethod(part, "close", NULL);
  if (closed == NULL) die_python("close()");
  Py_DECREF(closed);
  Py_DECREF(part);
  Py_DECREF(module);
  host_thread = PyEval_SaveThread();
  python_exchange = NULL; /* mixed_host's functions raise from now on */
  exchange_destroy(x);
  /* The runtime goes while Python is alive: callbacks it still holds get
   * their cancelled call (taking the GIL) and drop their references. */
  weft_status destroyed = weft_runtime_destroy(runtime);
  PyEval_RestoreThread(host_thread);
  int finalized = Py_FinalizeEx() == 0;

  char text[128];
  int completed = 0;
  snprintf(text, sizeof text, "got %ld", lua_got);
  completed +=
      report_await("Lua task <- C plugin future (c.go)", lua_got == C_PLUGIN_GO_VALUE, text);
  snprintf(text, sizeof text, "got %ld", end.lua_result);
  completed += report_await("Python coroutine <- Lua task (lua.result)",
                            end.lua_result == 3 * C_PLUGIN_GO_VALUE, text);
  snprintf(text, sizeof text, "%s, %lld", answered ? weft_status_name(answer_status) : "pending",
           (long long)answer);
  completed += report_await(
      "C plugin <- Python coroutine (python.answer)",
      answered && answer_status == WEFT_OK && answer == 3 * C_PLUGIN_GO_VALUE + 1, text);
  completed += report_await("Python coroutine <- Lua task (lua.forever)", end.lua_cancel_seen,
                            end.lua_cancel_seen ? "cancelled by the unload" : "not cancelled");
  int went_on = heartbeats > heartbeats_at_unload && end.ticks > at_unload.ticks;
  printf("after the unload: C plugin heartbeats %llu -> %llu, Python ticks %ld -> %ld\n",
         (unsigned long long)heartbeats_at_unload, (unsigned long long)heartbeats, at_unload.ticks,
         end.ticks);
  printf("teardown: Python tasks %s, C plugin %s (%zu left), runtime %s, Python %s\n",
         stopped ? "stopped" : "NOT stopped", weft_status_name(plugin_unloaded), plugin_left,
         weft_status_name(destroyed), finalized ? "finalized" : "NOT finalized");

  printf("C plugin background work: %llu chunks of 10 us (%.1f ms in all)\n",
         (unsigned long long)chunks, (double)chunks * 0.01);
  printf("descheduled by the OS inside run_for: %d frames, %.1f ms in all\n", descheduled_frames,
         (double)descheduled / 1e6);
  print_overshoot("frame budget overshoot, wall clock", overshoot, frames);
  print_overshoot("frame budget overshoot, the loop thread's own time", overshoot_cpu, frames);
  free(overshoot);
  free(overshoot_cpu);

  int ok = completed == 4 && unloaded_ok && went_on && stopped && plugin_unloaded == WEFT_OK &&
           destroyed == WEFT_OK && finalized;
  printf("mixed: %d of 4 cross-language awaits completed; Lua unload %s; the others %s; %s\n",
         completed, unloaded_ok ? "clean" : "NOT clean", went_on ? "went on" : "did NOT go on",
         ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}
