/* script_host.c: a C host (a game's frame loop) that loads two Lua scripts
 * into one weft runtime — each with its own lua_State and its own scope —
 * steps the runtime with weft_loop_run_for(2 ms) at 60 frames a second, and
 * unloads one script half-way while the other goes on.
 *
 *   script_host PATROL.lua SPINNER.lua [frames]
 *
 * The host offers the scripts a C work function ("path_length") that runs
 * on the runtime's pool (weft.offload). Unloading the spinner cancels its
 * tasks (each cleans up at its pending wait), drains its scope and lists
 * anything that would not finish. Exits 1 if something did not happen.
 * Thread: everything but path_length runs on the main (loop) thread.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, clock_nanosleep under -std=c11 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "bindings/lua/weft_lua_host.h"

#define FRAME_NS 16666667ull

static uint64_t wall_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void sleep_until(uint64_t deadline) {
  struct timespec t = {(time_t)(deadline / 1000000000ull), (long)(deadline % 1000000000ull)};
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
}

/* On a pool worker: the "path" from a to b (encoded a*100+b) is |a-b|+1 steps. */
static weft_status path_length(void* user, const weft_value* argument, weft_value* result) {
  (void)user;
  int64_t encoded = 0;
  if (weft_value_get_int64(&encoded, argument) != WEFT_OK) return WEFT_ERR_INVALID_ARGUMENT;
  int64_t from = encoded / 100, to = encoded % 100;
  *result = weft_value_int64((from > to ? from - to : to - from) + 1);
  return WEFT_OK;
}

static lua_State* load_script(weft_runtime_t* runtime, const char* path, const char* scope_name) {
  lua_State* L = luaL_newstate();
  luaL_openlibs(L);
  weft_status status = weft_lua_host_open(L, runtime, scope_name);
  if (status != WEFT_OK) {
    fprintf(stderr, "cannot bind %s: %s\n", path, weft_status_str(status));
    exit(1);
  }
  weft_lua_host_register_work(L, "path_length", path_length, NULL);
  if (luaL_dofile(L, path) != LUA_OK) {
    fprintf(stderr, "%s: %s\n", path, lua_tostring(L, -1));
    exit(1);
  }
  return L;
}

static lua_Integer global_int(lua_State* L, const char* name) {
  lua_getglobal(L, name);
  lua_Integer v = lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

static void print_straggler(void* user, const weft_object_info* info) {
  (void)user;
  printf("straggler: scope %s, %s '%s' (%s)\n", info->scope, info->kind == WEFT_OBJECT_TIMER ? "timer" : "object",
         info->name, info->state);
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s PATROL.lua SPINNER.lua [frames]\n", argv[0]);
    return 2;
  }
  int frames = argc > 3 ? atoi(argv[3]) : 90;
  weft_runtime_t* runtime = NULL;
  weft_loop_t* loop = NULL;
  if (weft_runtime_create(&runtime, NULL) != WEFT_OK) return 1;
  weft_runtime_loop(&loop, runtime);

  lua_State* patrol = load_script(runtime, argv[1], "patrol");
  lua_State* spinner = load_script(runtime, argv[2], "spinner");
  int patrol_top = lua_gettop(patrol);

  lua_Integer steps_at_unload = -1;
  size_t budget_overruns = 0;
  uint64_t next_frame = wall_ns();
  for (int frame = 0; frame < frames; frame++) {
    weft_run_report report = WEFT_RUN_REPORT_INIT;
    uint64_t start = wall_ns();
    weft_loop_run_for(&report, loop, WEFT_MS(2));
    if (wall_ns() - start > WEFT_MS(2) + WEFT_US(500)) budget_overruns++;
    if (frame == frames / 2 && spinner != NULL) {
      size_t left = 0;
      weft_status status = weft_lua_host_unload(spinner, WEFT_MS(100), print_straggler, NULL, &left);
      printf("frame %d: unloaded spinner (%s, %zu outstanding after the drain, %lld frames spun, %lld cleanups)\n",
             frame, weft_status_name(status), left, (long long)global_int(spinner, "spinner_frames"),
             (long long)global_int(spinner, "spinner_cleanups"));
      if (status != WEFT_OK || left != 0 || global_int(spinner, "spinner_cleanups") != 2) return 1;
      lua_close(spinner);
      spinner = NULL;
      steps_at_unload = global_int(patrol, "patrol_steps");
    }
    next_frame += FRAME_NS;
    sleep_until(next_frame);
  }
  lua_Integer steps = global_int(patrol, "patrol_steps");
  printf("patrol: %lld steps over %lld legs (%lld after the spinner left); %zu frames over budget by > 0.5 ms\n",
         (long long)steps, (long long)global_int(patrol, "patrol_legs"), (long long)(steps - steps_at_unload),
         budget_overruns);
  int ok = steps > steps_at_unload && steps_at_unload > 0 && lua_gettop(patrol) == patrol_top &&
           weft_lua_host_errors(patrol) == 0;
  size_t left = 0;
  weft_lua_host_unload(patrol, WEFT_MS(100), print_straggler, NULL, &left);
  lua_close(patrol);
  weft_status destroyed = weft_runtime_destroy(runtime);
  printf("%s\n", ok && left == 0 && destroyed == WEFT_OK ? "1 passed, 0 failed" : "0 passed, 1 failed");
  return ok && left == 0 && destroyed == WEFT_OK ? 0 : 1;
}
