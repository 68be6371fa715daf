/* exchange.c: the host's table of named weft futures (see exchange.h): a
 * fixed array of (name, future) pairs, each future retained by the table.
 * Thread: the loop thread.
 */
#include "examples/mixed/exchange.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
  char name[EXCHANGE_NAME_MAX];
  weft_future_t* future; /* the exchange's reference; NULL: a free slot */
} entry;

struct exchange {
  entry entries[EXCHANGE_CAPACITY];
};

weft_status exchange_create(exchange** out) {
  if (out == NULL) return WEFT_ERR_INVALID_ARGUMENT;
  exchange* x = calloc(1, sizeof *x);
  if (x == NULL) return WEFT_ERR_NO_MEMORY;
  *out = x;
  return WEFT_OK;
}

static int valid_name(const char* name) {
  return name != NULL && name[0] != '\0' && strlen(name) < EXCHANGE_NAME_MAX;
}

static const entry* find(const exchange* x, const char* name) {
  for (size_t i = 0; i < EXCHANGE_CAPACITY; i++) {
    if (x->entries[i].future != NULL && strcmp(x->entries[i].name, name) == 0)
      return &x->entries[i];
  }
  return NULL;
}

weft_status exchange_put(exchange* x, const char* name, weft_future_t* future) {
  if (x == NULL || future == NULL || !valid_name(name)) return WEFT_ERR_INVALID_ARGUMENT;
  if (find(x, name) != NULL) return WEFT_ERR_ALREADY_EXISTS;
  entry* slot = NULL;
  for (size_t i = 0; i < EXCHANGE_CAPACITY && slot == NULL; i++) {
    if (x->entries[i].future == NULL) slot = &x->entries[i];
  }
  if (slot == NULL) return WEFT_ERR_NO_MEMORY;
  weft_status status = weft_future_retain(future); /* also checks the handle */
  if (status != WEFT_OK) return status;
  strcpy(slot->name, name);
  slot->future = future;
  return WEFT_OK;
}

weft_status exchange_get(weft_future_t** out, const exchange* x, const char* name) {
  if (out == NULL || x == NULL || !valid_name(name)) return WEFT_ERR_INVALID_ARGUMENT;
  const entry* e = find(x, name);
  if (e == NULL) return WEFT_ERR_NOT_FOUND;
  *out = e->future;
  return WEFT_OK;
}

void exchange_destroy(exchange* x) {
  if (x == NULL) return;
  for (size_t i = 0; i < EXCHANGE_CAPACITY; i++) weft_future_release(x->entries[i].future);
  free(x);
}
