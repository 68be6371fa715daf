// weft::capi TCP: the record behind weft_tcp_listener_t (weft_tcp_stream_t
// is a StreamRec over a TcpStream, stream.h). Loop thread only; see io.h for
// how handles and pending operations live and end.
#pragma once

#include "capi/src/io.h"
#include "core/io/tcp_listener.h"

namespace weft::capi {

struct TcpListenerRec final : IoRec {
  TcpListener core;
  void close_core() noexcept override { core.close(); }
  void destroy() noexcept override { allocator_of(*runtime).destroy(this); }
};

}  // namespace weft::capi
