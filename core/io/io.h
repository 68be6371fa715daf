// weft's async I/O in one include: TCP, UDP, DNS, pipes and Unix domain
// sockets, files, signals, subprocesses. Every operation returns a
// weft::Future; see each header for its semantics.
#pragma once

#include "core/io/io_error.h"
#include "core/io/socket_address.h"
#include "core/io/stream.h"
#include "core/io/tcp_listener.h"
#include "core/io/tcp_stream.h"
