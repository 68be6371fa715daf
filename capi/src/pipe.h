// weft::capi pipes: the record behind weft_pipe_listener_t (pipe streams are
// StreamRecs over a PipeStream, stream.h, of Kind::pipe_stream). Loop thread
// only; see io.h for how handles and pending operations live and end.
#pragma once

#include "capi/src/io.h"
#include "core/io/pipe_stream.h"

namespace weft::capi {

struct PipeListenerRec final : IoRec {
  PipeListener core;
  void close_core() noexcept override { core.close(); }
  void destroy() noexcept override { allocator_of(*runtime).destroy(this); }
};

}  // namespace weft::capi
