/* exchange.h: the host's table of named weft futures, through which the C
 * plugin, the Lua script and the Python script of the mixed example hand
 * each other futures ("c.go", "lua.result", ...). Each part publishes the
 * futures it makes and looks up the ones it awaits; the host exposes the
 * table to Lua (host.put/host.get) and Python (mixed_host.put/address).
 *
 * Thread: the runtime's loop thread only (the host's main thread), like
 * every Lua call and every Python call into it.
 *
 * Ownership: exchange_put retains a reference of the exchange's own (the
 * caller keeps its reference); the exchange drops all of them in
 * exchange_destroy, which the host calls before destroying the runtime.
 * exchange_get returns the future borrowed: valid until exchange_destroy;
 * a part that keeps it past that takes a reference of its own
 * (weft_future_retain, weft_lua_host_push_future, weft.Future.from_address).
 */
#ifndef EXAMPLES_MIXED_EXCHANGE_H
#define EXAMPLES_MIXED_EXCHANGE_H

#include <weft/weft.h>

#define EXCHANGE_CAPACITY 16
#define EXCHANGE_NAME_MAX 32 /* including the terminating NUL */

typedef struct exchange exchange;

/* A new, empty exchange. Errors: WEFT_ERR_INVALID_ARGUMENT, WEFT_ERR_NO_MEMORY. */
weft_status exchange_create(exchange** out);

/* Publishes `future` under `name` (copied), with the exchange's own
 * reference. Errors: WEFT_ERR_INVALID_ARGUMENT (NULL, empty or too long a
 * name), WEFT_ERR_ALREADY_EXISTS (the name is taken), WEFT_ERR_NO_MEMORY
 * (the table is full), the handle's error from weft_future_retain
 * (WEFT_ERR_INVALID_HANDLE, WEFT_ERR_STALE_HANDLE). Nothing is kept on an
 * error. */
weft_status exchange_put(exchange* exchange, const char* name, weft_future_t* future);

/* *out receives the future published under `name`, borrowed (see above).
 * Errors: WEFT_ERR_INVALID_ARGUMENT, WEFT_ERR_NOT_FOUND (nothing published
 * under that name yet). */
weft_status exchange_get(weft_future_t** out, const exchange* exchange, const char* name);

/* Drops every reference the exchange holds and frees it. NULL is accepted. */
void exchange_destroy(exchange* exchange);

#endif /* EXAMPLES_MIXED_EXCHANGE_H */
