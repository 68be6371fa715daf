"""Which of CPython 3.11's asyncio tests (Debian's libpython3.11-testsuite,
test.test_asyncio) the conformance runner runs, and which it leaves out and why.

Scope: the loop's scheduling core (callbacks, timers, threads, executors,
signals, readers/writers) and everything built on it (futures, tasks, locks,
queues, task groups, timeouts, runners), subprocesses, pipes and datagrams,
and its stream sockets: connections, servers, the sock_* functions, streams,
TLS over them, sendfile.
Pure data, read by the runner's parent and child processes.
"""

# Modules run whole (less the classes in EXCLUDED_CLASSES), with the loop under
# test installed as asyncio's default policy.
MODULES = (
    "test_events",
    "test_futures",
    "test_futures2",
    "test_tasks",
    "test_locks",
    "test_queues",
    "test_taskgroups",
    "test_timeouts",
    "test_waitfor",
    "test_runners",
    "test_pep492",
    "test_context",
    "test_threads",
    "test_subprocess",
    "test_sock_lowlevel",
    "test_server",
    "test_buffered_proto",
    "test_streams",
    "test_ssl",
    "test_sslproto",
    "test_sendfile",
)

# test_events.EventLoopTestsMixin: the tests of the scheduling core, run in a
# subclass whose create_event_loop() makes the loop under test.
EVENT_LOOP_MIXIN_TESTS = (
    "test_run_until_complete_nesting",
    "test_run_until_complete",
    "test_run_until_complete_stopped",
    "test_call_later",
    "test_call_soon",
    "test_call_soon_threadsafe",
    "test_call_soon_threadsafe_same_thread",
    "test_run_in_executor",
    "test_run_in_executor_cancel",
    "test_reader_callback",
    "test_writer_callback",
    "test_add_signal_handler",
    "test_signal_handling_while_selecting",
    "test_signal_handling_args",
    "test_timeout_rounding",
    "test_remove_fds_after_closing",
    "test_add_fds_after_closing",
    "test_close_running_event_loop",
    "test_close",
    "test_create_datagram_endpoint",
    "test_create_datagram_endpoint_ipv6",
    "test_create_datagram_endpoint_sock",
    "test_read_pipe",
    "test_unclosed_pipe_transport",
    "test_read_pty_output",
    "test_write_pipe",
    "test_write_pipe_disconnect_on_close",
    "test_write_pty",
    "test_bidirectional_pty",
    # Connections, servers and TLS (asyncio's TLS protocol over weft's
    # transports) and the sock_* functions.
    "test_create_connection",
    "test_create_unix_connection",
    "test_create_ssl_connection",
    "test_create_ssl_unix_connection",
    "test_create_connection_local_addr",
    "test_create_connection_local_addr_skip_different_family",
    "test_create_connection_local_addr_nomatch_family",
    "test_create_connection_local_addr_in_use",
    "test_connect_accepted_socket",
    "test_ssl_connect_accepted_socket",
    "test_connect_accepted_socket_ssl_timeout_for_plain_socket",
    "test_create_server_multiple_hosts_ipv4",
    "test_create_server_multiple_hosts_ipv6",
    "test_create_server",
    "test_create_server_reuse_port",
    "test_create_unix_server",
    "test_create_unix_server_path_socket_error",
    "test_create_server_ssl",
    "test_create_unix_server_ssl",
    "test_create_server_ssl_verify_failed",
    "test_create_unix_server_ssl_verify_failed",
    "test_create_server_ssl_match_failed",
    "test_create_unix_server_ssl_verified",
    "test_create_server_ssl_verified",
    "test_create_server_sock",
    "test_create_server_addr_in_use",
    "test_create_server_dual_stack",
    "test_server_close",
    "test_prompt_cancellation",
)

# The mixin's other tests.
EVENT_LOOP_MIXIN_OUT_OF_SCOPE = {
    "test_internal_fds": "selector loop internals (_internal_fds)",
}

# Classes of in-scope modules that are not run: they test asyncio's own
# selector loops (their create_event_loop makes one), or subprocesses.
EXCLUDED_CLASSES = {
    "test_events.SelectEventLoopTests": "asyncio's select() loop, not the loop under test",
    "test_events.PollEventLoopTests": "asyncio's poll() loop, not the loop under test",
    "test_events.EPollEventLoopTests": "asyncio's epoll loop, not the loop under test",
    "test_events.KqueueEventLoopTests": "asyncio's kqueue loop, not the loop under test",
    # test_subprocess's per-watcher classes: hooks.subprocess_tests runs their
    # tests (SubprocessMixin) once on the loop under test instead.
    "test_subprocess.SubprocessThreadedWatcherTests": "asyncio's ThreadedChildWatcher",
    "test_subprocess.SubprocessMultiLoopWatcherTests": "asyncio's MultiLoopChildWatcher",
    "test_subprocess.SubprocessSafeWatcherTests": "asyncio's SafeChildWatcher",
    "test_subprocess.SubprocessFastWatcherTests": "asyncio's FastChildWatcher",
    "test_subprocess.SubprocessPidfdWatcherTests": "asyncio's PidfdChildWatcher",
    "test_sock_lowlevel.SelectEventLoopTests": "asyncio's select() loop (its tests run on the "
                                               "loop under test: LOOP_PARAMETRIC_CLASSES)",
    "test_sock_lowlevel.PollEventLoopTests": "asyncio's poll() loop, not the loop under test",
    "test_sock_lowlevel.EPollEventLoopTests": "asyncio's epoll loop, not the loop under test",
    "test_server.SelectorStartServerTests": "asyncio's selector loop (its tests run on the loop "
                                            "under test: LOOP_PARAMETRIC_CLASSES)",
    "test_sslproto.SelectorStartTLSTests": "asyncio's selector loop (its tests run on the loop "
                                           "under test: LOOP_PARAMETRIC_CLASSES)",
    "test_buffered_proto.BufferedProtocolSelectorTests": "asyncio's selector loop (its tests run "
                                                         "on the loop under test: "
                                                         "LOOP_PARAMETRIC_CLASSES)",
    "test_sendfile.SelectEventLoopTests": "asyncio's select() loop (its tests run on the loop "
                                          "under test: LOOP_PARAMETRIC_CLASSES)",
    "test_sendfile.PollEventLoopTests": "asyncio's poll() loop, not the loop under test",
    "test_sendfile.EPollEventLoopTests": "asyncio's epoll loop, not the loop under test",
}

# Classes that name their loop in a method: run again as a subclass whose
# method makes the loop under test (hooks.loop_parametric_tests).
LOOP_PARAMETRIC_CLASSES = {
    "test_sock_lowlevel": (("SelectEventLoopTests", "create_event_loop"),),
    "test_server": (("SelectorStartServerTests", "new_loop"),),
    "test_buffered_proto": (("BufferedProtocolSelectorTests", "new_loop"),),
    "test_sslproto": (("SelectorStartTLSTests", "new_loop"),),
    "test_sendfile": (("SelectEventLoopTests", "create_event_loop"),),
}

# Single tests of in-scope classes that are not run.
EXCLUDED_TESTS = {
}

# Whole modules left out, with why.
OUT_OF_SCOPE_MODULES = {
    "test_base_events": "white-box tests of asyncio.BaseEventLoop's internals (mocked selectors, "
                        "_run_once, sockets); the scheduling parts it checks are covered through "
                        "test_events on the loop under test",
    "test_proactor_events": "Windows proactor loop",
    "test_protocols": "abstract protocol classes, no loop",
    "test_selector_events": "white-box tests of asyncio's selector loop and its socket transports",
    "test_transports": "abstract transport classes, no loop",
    "test_unix_events": "asyncio's Unix selector loop: pipes, subprocess child watchers, unix "
                        "sockets, and its signal handling mocked at the selector level",
    "test_windows_events": "Windows",
    "test_windows_utils": "Windows",
}
