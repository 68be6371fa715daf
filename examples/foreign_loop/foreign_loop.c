/* A host with its own poll() loop drives weft: weft is one more file
 * descriptor in the host's poll set.
 *
 * The host waits on its own sources (a 25 ms timerfd tick, a pipe fed by a
 * producer thread) and on weft_loop_backend_fd(), for at most
 * weft_loop_backend_timeout()'s nanoseconds (rounded up to poll's milliseconds); after every wake-up it gives weft
 * one non-blocking pass (weft_loop_run(NOWAIT)). weft's timers, work
 * finishing on its pool and callbacks posted from other threads all reach
 * the host this way. The host counts its wake-ups: a loop that spins would
 * wake thousands of times. */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <weft/weft.h>

#define CHECK(call)                                                                          \
  do {                                                                                       \
    weft_status status_ = (call);                                                            \
    if (status_ != WEFT_OK) {                                                                \
      fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, weft_status_str(status_)); \
      exit(1);                                                                               \
    }                                                                                        \
  } while (0)

typedef struct app {
  weft_loop_t* loop;
  weft_executor_t* pool;
  int weft_timers;
  int weft_posts;
  int weft_work;
  int host_ticks;
  int host_messages;
  int pipe_write;
} app;

/* weft side: a timer that re-arms itself five times. */
static void weft_timer(void* user, weft_status status, const char* message) {
  (void)message;
  app* a = user;
  if (status != WEFT_OK) return;
  if (++a->weft_timers < 5) CHECK(weft_loop_call_later(NULL, a->loop, WEFT_MS(40), weft_timer, a));
}

/* weft side: callbacks posted by the producer thread. */
static void weft_post(void* user, weft_status status, const char* message) {
  (void)message;
  app* a = user;
  if (status == WEFT_OK) a->weft_posts++;
}

/* weft side: work on the pool; its completion comes back to the loop. */
static weft_status work(void* user, weft_value* result) {
  (void)user;
  struct timespec t = {0, 15 * 1000000L};
  nanosleep(&t, NULL);
  *result = weft_value_int64(7);
  return WEFT_OK;
}

static void work_done(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                      const char* message) {
  (void)future;
  (void)value;
  (void)message;
  app* a = user;
  if (status == WEFT_OK) a->weft_work++;
}

/* Another thread: writes to the host's pipe and posts to weft, ten times. */
static void* producer(void* arg) {
  app* a = arg;
  for (int i = 0; i < 10; ++i) {
    struct timespec t = {0, 12 * 1000000L};
    nanosleep(&t, NULL);
    char byte = 'x';
    if (write(a->pipe_write, &byte, 1) != 1) break;
    CHECK(weft_loop_call_soon_threadsafe(a->loop, weft_post, a));
  }
  return NULL;
}

int main(void) {
  app a = {0};
  weft_runtime_t* rt;
  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.threads = 1;
  CHECK(weft_runtime_create(&rt, &options));
  CHECK(weft_runtime_loop(&a.loop, rt));
  CHECK(weft_runtime_pool(&a.pool, rt));

  /* The host's own sources. */
  int tick = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  struct itimerspec every_25ms = {{0, 25 * 1000000L}, {0, 25 * 1000000L}};
  timerfd_settime(tick, 0, &every_25ms, NULL);
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return 1;
  a.pipe_write = pipe_fds[1];

  /* weft's work. */
  CHECK(weft_loop_call_later(NULL, a.loop, WEFT_MS(40), weft_timer, &a));
  for (int i = 0; i < 3; ++i) CHECK(weft_executor_submit(NULL, a.pool, a.loop, work, work_done, &a));
  pthread_t thread;
  pthread_create(&thread, NULL, producer, &a);

  int weft_fd;
  CHECK(weft_loop_backend_fd(&weft_fd, a.loop));
  long wakeups = 0, weft_readable = 0;
  while (a.weft_timers < 5 || a.weft_posts < 10 || a.weft_work < 3 || a.host_messages < 10) {
    int64_t timeout_ns;
    CHECK(weft_loop_backend_timeout(&timeout_ns, a.loop));
    /* -1: no timer pending, wait for an event; otherwise round up to ms. */
    int timeout = timeout_ns < 0 ? -1 : (int)((timeout_ns + 999999) / 1000000);
    struct pollfd fds[3] = {{weft_fd, POLLIN, 0}, {tick, POLLIN, 0}, {pipe_fds[0], POLLIN, 0}};
    if (poll(fds, 3, timeout) < 0) return 1;
    ++wakeups;
    if (fds[0].revents & POLLIN) ++weft_readable;
    if (fds[1].revents & POLLIN) {
      uint64_t expirations;
      if (read(tick, &expirations, sizeof(expirations)) > 0) a.host_ticks += (int)expirations;
    }
    if (fds[2].revents & POLLIN) {
      char bytes[16];
      ssize_t n = read(pipe_fds[0], bytes, sizeof(bytes));
      if (n > 0) a.host_messages += (int)n;
    }
    CHECK(weft_loop_run(a.loop, WEFT_RUN_NOWAIT)); /* weft's turn: never blocks */
  }
  pthread_join(thread, NULL);

  const int events = a.weft_timers + a.weft_posts + a.weft_work + a.host_ticks + a.host_messages;
  printf("host: %d ticks of its own timer, %d messages on its own pipe\n", a.host_ticks, a.host_messages);
  printf("weft: %d timers, %d posts from another thread, %d pool results, all on the host's thread\n",
         a.weft_timers, a.weft_posts, a.weft_work);
  printf("the host woke %ld times for %d events (weft's fd readable %ld times): no spinning\n", wakeups, events,
         weft_readable);
  close(tick);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  CHECK(weft_runtime_destroy(rt));
  return wakeups <= 3L * events ? 0 : 1;
}
