"""Which of CPython 3.11's asyncio tests (Debian's libpython3.11-testsuite,
test.test_asyncio) the conformance runner runs, and which it leaves out and why.

Scope: the loop's scheduling core (callbacks, timers, threads, executors,
signals, readers/writers) and everything built on it (futures, tasks, locks,
queues, task groups, timeouts, runners), subprocesses, pipes and datagrams.
Sockets, servers and TLS are listed here as out of scope.
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
)

# The mixin's other tests: connections, servers, TLS.
EVENT_LOOP_MIXIN_OUT_OF_SCOPE = {
    "test_create_connection": "sockets",
    "test_create_unix_connection": "sockets",
    "test_create_ssl_connection": "TLS",
    "test_create_ssl_unix_connection": "TLS",
    "test_create_connection_local_addr": "sockets",
    "test_create_connection_local_addr_skip_different_family": "sockets",
    "test_create_connection_local_addr_nomatch_family": "sockets",
    "test_create_connection_local_addr_in_use": "sockets",
    "test_connect_accepted_socket": "sockets",
    "test_ssl_connect_accepted_socket": "TLS",
    "test_connect_accepted_socket_ssl_timeout_for_plain_socket": "TLS",
    "test_create_server_multiple_hosts_ipv4": "servers",
    "test_create_server_multiple_hosts_ipv6": "servers",
    "test_create_server": "servers",
    "test_create_server_reuse_port": "servers",
    "test_create_unix_server": "servers",
    "test_create_unix_server_path_socket_error": "servers",
    "test_create_server_ssl": "TLS",
    "test_create_unix_server_ssl": "TLS",
    "test_create_server_ssl_verify_failed": "TLS",
    "test_create_unix_server_ssl_verify_failed": "TLS",
    "test_create_server_ssl_match_failed": "TLS",
    "test_create_unix_server_ssl_verified": "TLS",
    "test_create_server_ssl_verified": "TLS",
    "test_create_server_sock": "servers",
    "test_create_server_addr_in_use": "servers",
    "test_create_server_dual_stack": "servers",
    "test_server_close": "servers",
    "test_prompt_cancellation": "sockets (sock_recv, sock_accept)",
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
}

# Single tests of in-scope classes that are not run.
EXCLUDED_TESTS = {
    "test_events.TestServer.test_get_loop": "servers (create_server)",
}

# Whole modules left out, with why.
OUT_OF_SCOPE_MODULES = {
    "test_base_events": "white-box tests of asyncio.BaseEventLoop's internals (mocked selectors, "
                        "_run_once, sockets); the scheduling parts it checks are covered through "
                        "test_events on the loop under test",
    "test_buffered_proto": "sockets (BufferedProtocol over a server)",
    "test_proactor_events": "Windows proactor loop",
    "test_protocols": "abstract protocol classes, no loop",
    "test_selector_events": "white-box tests of asyncio's selector loop and its socket transports",
    "test_sendfile": "sockets (sendfile)",
    "test_server": "servers",
    "test_sock_lowlevel": "sockets (sock_* methods)",
    "test_ssl": "TLS",
    "test_sslproto": "TLS",
    "test_streams": "sockets and pipes (streams)",
    "test_transports": "abstract transport classes, no loop",
    "test_unix_events": "asyncio's Unix selector loop: pipes, subprocess child watchers, unix "
                        "sockets, and its signal handling mocked at the selector level",
    "test_windows_events": "Windows",
    "test_windows_utils": "Windows",
}
