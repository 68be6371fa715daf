/* The contract between examples/plugins/host.c and its plugins.
 *
 * A plugin is a shared object exporting `weft_example_plugin`, which returns
 * its plugin_info. The host gives each plugin, at init, the host's one
 * runtime and a loop handle of a scope made for that plugin: everything the
 * plugin schedules through that loop (callbacks, timers, futures, callbacks
 * on other plugins' futures, pool work) belongs to its scope, so the host
 * can cancel and drain all of it before dlclose()ing the plugin's code.
 * Plugins offer each other functions through the host's service directory.
 * Host and plugins share one libweft.so.1. */
#ifndef WEFT_EXAMPLE_PLUGIN_H
#define WEFT_EXAMPLE_PLUGIN_H

#include <stdint.h>

#include <weft/weft.h>

#define PLUGIN_ABI 1
#define PLUGIN_ENTRY "weft_example_plugin"

typedef struct plugin_host {
  weft_runtime_t* runtime;
  /* A directory of functions plugins publish for each other. */
  void (*publish)(const char* name, void (*function)(void));
  void (*(*find)(const char* name))(void);
  void (*log)(const char* plugin, const char* line);
} plugin_host;

typedef struct plugin_info {
  uint32_t abi;          /* PLUGIN_ABI */
  uint32_t weft_version; /* WEFT_VERSION_HEX the plugin was built against */
  const char* name;
  /* On the loop thread, once after loading. 0 on success. */
  int (*init)(const plugin_host* host, weft_loop_t* loop);
  /* On the loop thread, before the host cancels the plugin's scope. */
  void (*fini)(void);
} plugin_info;

typedef const plugin_info* (*plugin_entry)(void);

/* The oracle plugin's service "oracle.ask": a future answer to `question`,
 * resolved `delay_ms` later (a string). The caller owns one reference. */
typedef weft_future_t* (*oracle_ask_fn)(const char* question, uint64_t delay_ms);

#endif
