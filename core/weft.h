// weft's C++ API in one include.
#pragma once

#include "core/clock/clock.h"
#include "core/error.h"
#include "core/future/future.h"
#include "core/loop/loop.h"
#include "core/result.h"
