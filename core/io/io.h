// weft's async I/O in one include: TCP, UDP, DNS, pipes and Unix domain
// sockets, files, signals, subprocesses, readiness of the program's own file
// descriptors. Every operation returns a
// weft::Future (coroutine tasks co_await it); see each header for its
// semantics, and core/io/detail/io_object.h for lifetime, closing and
// cancellation, which all I/O objects share.
#pragma once

#include "core/io/fd_watch.h"
#include "core/io/file.h"
#include "core/io/io_error.h"
#include "core/io/io_handle.h"
#include "core/io/pipe_stream.h"
#include "core/io/resolver.h"
#include "core/io/signal.h"
#include "core/io/socket_address.h"
#include "core/io/stream.h"
#include "core/io/subprocess.h"
#include "core/io/tcp_listener.h"
#include "core/io/tcp_stream.h"
#include "core/io/udp_socket.h"
