// weft's coroutine tasks in one include: Task<T>, spawn, TaskHandle, co_await
// on futures and handles, sleep/yield, this_task, shield and time limits.
//
//   weft::Task<int> answer() {
//     co_await weft::sleep(10ms);
//     co_return 42;
//   }
//   weft::Loop loop;
//   auto h = weft::spawn(loop, answer(), "answer");
//   loop.run();
//   int v = h.get();
//
// See promise.h (Task, children, stack depth), task_state.h (cancellation
// protocol), task_handle.h (handles), spawn.h, sleep.h, this_task.h,
// shield.h and timeout.h.
#pragma once

#include "core/task/promise.h"
#include "core/task/task_state.h"
#include "core/task/future_awaiter.h"
#include "core/task/task_handle.h"
#include "core/task/spawn.h"
#include "core/task/sleep.h"
#include "core/task/this_task.h"
#include "core/task/shield.h"
#include "core/task/timeout.h"
