/* http_routes: what the example servers answer (an http_handler for
 * http_session):
 *
 *   GET  /          200 "hello" (the W12 benchmark's response)
 *   POST /echo      200 with the request's body (and its Content-Type)
 *   GET  /chunked   200 in chunked transfer coding (Content-Length for an
 *                   HTTP/1.0 client)
 *   HEAD of the GETs: their headers; other methods on these paths: 405;
 *   any other path: 404.
 *
 * Stateless; any thread. */
#ifndef WEFT_EXAMPLES_HTTP_ROUTES_H
#define WEFT_EXAMPLES_HTTP_ROUTES_H

#include "examples/http/http_session.h"

#ifdef __cplusplus
extern "C" {
#endif

/* `user` is unused (NULL). */
void http_routes_handle(void* user, const http_request* request, const http_reply* reply);

/* The pieces /chunked sends, one chunk each, and how many there are. */
extern const char* const http_routes_chunks[];
extern const unsigned http_routes_chunk_count;

#ifdef __cplusplus
}
#endif

#endif /* WEFT_EXAMPLES_HTTP_ROUTES_H */
