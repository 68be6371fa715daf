/* A plugin host: one weft runtime shared by plugins loaded with dlopen.
 *
 *   host PLUGIN_A.so PLUGIN_B.so
 *
 * Each plugin gets the runtime and a loop handle of its own scope. Plugin B
 * awaits plugin A's futures. Unloading B cancels and drains B's scope — its
 * callbacks waiting on A's futures, its timers, its pool work — before
 * dlclose(), so none of B's code can run after it is gone; A carries on
 * untouched. The host then checks that nothing of B is left. */
#include <dlfcn.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples/plugins/plugin.h"

#define CHECK(call)                                                                          \
  do {                                                                                       \
    weft_status status_ = (call);                                                            \
    if (status_ != WEFT_OK) {                                                                \
      fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, weft_status_str(status_)); \
      exit(1);                                                                               \
    }                                                                                        \
  } while (0)

/* ---- the service directory ------------------------------------------------ */

typedef struct service {
  char name[64];
  void (*function)(void);
} service;

static service services[16];
static int service_count;

static void publish(const char* name, void (*function)(void)) {
  if (service_count == 16) return;
  snprintf(services[service_count].name, sizeof(services[0].name), "%s", name);
  services[service_count++].function = function;
}

static void (*find(const char* name))(void) {
  for (int i = 0; i < service_count; ++i) {
    if (strcmp(services[i].name, name) == 0) return services[i].function;
  }
  return NULL;
}

static void forget_services_of(void* library) {
  /* A service whose code lives in `library` must go before dlclose. */
  for (int i = 0; i < service_count;) {
    Dl_info where;
    if (dladdr((void*)services[i].function, &where) != 0 && where.dli_fbase != NULL) {
      void* same = dlopen(where.dli_fname, RTLD_NOW | RTLD_NOLOAD);
      int is_it = same == library;
      if (same != NULL) dlclose(same);
      if (is_it) {
        services[i] = services[--service_count];
        continue;
      }
    }
    ++i;
  }
}

static void log_line(const char* plugin, const char* line) { printf("  [%s] %s\n", plugin, line); }

/* ---- loading and unloading --------------------------------------------------- */

typedef struct loaded {
  void* library;
  const plugin_info* info;
  weft_scope_t* scope;
} loaded;

static plugin_host host;

static int load(loaded* out, const char* path) {
  out->library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (out->library == NULL) {
    fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
    return -1;
  }
  plugin_entry entry = (plugin_entry)dlsym(out->library, PLUGIN_ENTRY);
  if (entry == NULL || (out->info = entry()) == NULL || out->info->abi != PLUGIN_ABI ||
      weft_version_check(WEFT_ABI_VERSION, out->info->weft_version) != WEFT_OK) {
    fprintf(stderr, "%s is not a plugin for this host and this libweft\n", path);
    dlclose(out->library);
    return -1;
  }
  CHECK(weft_scope_create(&out->scope, host.runtime, out->info->name));
  weft_loop_t* loop;
  CHECK(weft_scope_loop(&loop, out->scope));
  printf("loaded %s\n", out->info->name);
  if (out->info->init(&host, loop) != 0) {
    fprintf(stderr, "%s failed to start\n", out->info->name);
    return -1;
  }
  return 0;
}

typedef struct leftovers {
  const char* scope;
  int count;
} leftovers;

static void count_leftovers(void* user, const weft_object_info* info) {
  leftovers* l = user;
  if (strcmp(info->scope, l->scope) == 0) {
    l->count++;
    printf("    left behind: %d \"%s\" %s\n", (int)info->kind, info->name, info->state);
  }
}

static void print_straggler(void* user, const weft_object_info* info) {
  (void)user;
  printf("    straggler: kind %d \"%s\" %s (x%zu)\n", (int)info->kind, info->name, info->state, info->count);
}

static int unload(loaded* p) {
  char name[64]; /* the plugin's own string goes away with dlclose */
  snprintf(name, sizeof(name), "%s", p->info->name);
  printf("unloading %s\n", name);
  if (p->info->fini != NULL) p->info->fini();
  CHECK(weft_scope_cancel(p->scope)); /* its pending callbacks are called, cancelled */
  size_t stragglers = 0;
  weft_status drained = weft_scope_drain(&stragglers, p->scope, WEFT_MS(2000));
  if (drained != WEFT_OK) {
    printf("  %s did not drain: %zu stragglers\n", name, stragglers);
    weft_scope_list(p->scope, print_straggler, NULL);
    return -1; /* its code may still be called: keep it loaded */
  }
  CHECK(weft_scope_destroy(p->scope));
  forget_services_of(p->library);
  dlclose(p->library);
  leftovers l = {name, 0};
  CHECK(weft_runtime_dump(host.runtime, count_leftovers, &l));
  printf("%s unloaded: drained with %zu stragglers; %s\n", name, stragglers,
         l.count == 0 ? "nothing left behind" : "SOMETHING LEFT BEHIND");
  return l.count == 0 ? 0 : -1;
}

/* Runs the loop for `ms` of wall time, sleeping on the backend fd when idle. */
static void run_for_ms(weft_loop_t* loop, uint64_t ms) {
  uint64_t start, now;
  weft_loop_now(&start, loop);
  int fd;
  weft_loop_backend_fd(&fd, loop);
  for (;;) {
    CHECK(weft_loop_run(loop, WEFT_RUN_NOWAIT));
    weft_loop_now(&now, loop);
    if (now - start >= WEFT_MS(ms)) return;
    int64_t timeout_ns = -1;
    weft_loop_backend_timeout(&timeout_ns, loop);
    int left = (int)((WEFT_MS(ms) - (now - start)) / WEFT_MS(1)) + 1;
    /* -1: no timer pending; otherwise nanoseconds, rounded up to poll's ms. */
    int timeout = timeout_ns < 0 ? -1 : (int)((timeout_ns + 999999) / 1000000);
    if (timeout < 0 || timeout > left) timeout = left;
    struct pollfd p = {fd, POLLIN, 0};
    poll(&p, 1, timeout);
  }
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s ORACLE_PLUGIN.so CLIENT_PLUGIN.so\n", argv[0]);
    return 2;
  }
  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.threads = 2;
  options.name = "host";
  CHECK(weft_runtime_create(&host.runtime, &options));
  host.publish = publish;
  host.find = find;
  host.log = log_line;
  weft_loop_t* loop;
  CHECK(weft_runtime_loop(&loop, host.runtime));

  loaded oracle, client;
  if (load(&oracle, argv[1]) != 0 || load(&client, argv[2]) != 0) return 1;

  printf("running 100 ms\n");
  run_for_ms(loop, 100);

  char dump[2048];
  CHECK(weft_runtime_dump_text(dump, sizeof(dump), NULL, host.runtime));
  printf("what is alive now:\n%s", dump);

  if (unload(&client) != 0) return 1;
  /* The oracle carries on: its slow answer is still pending, nobody waits. */
  CHECK(weft_runtime_dump_text(dump, sizeof(dump), NULL, host.runtime));
  printf("what is alive now:\n%s", dump);
  if (unload(&oracle) != 0) return 1;

  weft_stats stats = WEFT_STATS_INIT;
  CHECK(weft_runtime_stats(&stats, host.runtime));
  printf("runtime: %zu scopes, %zu futures alive, %zu timers, %zu work pending\n", stats.scopes,
         stats.futures_alive, stats.timers_pending, stats.work_pending);
  CHECK(weft_runtime_destroy(host.runtime));
  printf("host done\n");
  return 0;
}
