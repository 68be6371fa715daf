"""The echo servers W11's bulk variants measure, by the name bulk_echo gives
each (--server IMPL=PATH): weft's C++ and C API example servers, raw libuv's
(the baseline) and a minimal epoll server (the reference). Loaded by
tests/bench/bulk/BUILD.bazel and the report's (tests/bench/report)."""

BULK_ECHO_SERVERS = {
    "weft": "//examples:echo_server",
    "weft-c": "//examples/c:echo_server",
    "libuv": "//tests/bench/bulk:libuv_echo_server",
    "epoll": "//tests/bench/bulk:epoll_echo_server",
}
