// weft's C++ API in one include.
#pragma once

#include "core/clock/clock.h"
#include "core/error.h"
#include "core/executor/executor.h"
#include "core/executor/inline_executor.h"
#include "core/executor/loop_executor.h"
#include "core/executor/run_in_executor.h"
#include "core/executor/strand.h"
#include "core/executor/thread_pool.h"
#include "core/future/future.h"
#include "core/io/io.h"
#include "core/loop/loop.h"
#include "core/result.h"
