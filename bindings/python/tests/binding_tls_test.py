"""weft.capi TLS (weft/tls.h) with Python callbacks: contexts from
weft_tls_context_options (files, PEM text, ALPN), a handshake over a stream
pair with host-name verification, weft_tls_get_info, data both ways and
close_notify; a host that does not match, PEM that does not parse and bad
option values. Certificates are made at test time with openssl; every wait
is bounded."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pytest  # noqa: E402
from weft import capi, errors  # noqa: E402
from helpers.certificates import localhost_certificate  # noqa: E402
from helpers.runtime import Runtime, wait_outcome  # noqa: E402


@pytest.fixture(scope="module")
def certificate():
    with localhost_certificate() as paths:
        yield paths


@pytest.fixture
def rt():
    with Runtime(threads=1) as runtime:
        yield runtime


def release(*futures):
    for f in futures:
        if f is not None:
            capi.weft_future_release(f)


def contexts(rt, certificate, server_alpn=None, client_alpn=None):
    cert, key = certificate
    server_options = capi.weft_tls_context_options_init()
    server_options.cert_file = cert
    server_options.key_file = key
    server_options.set_alpn(server_alpn)
    client_options = capi.weft_tls_context_options()
    with open(cert, encoding="ascii") as f:
        client_options.ca_pem = f.read()
    client_options.set_alpn(client_alpn)
    server = capi.weft_tls_context_create(rt.loop, capi.WEFT_TLS_SERVER, server_options)
    client = capi.weft_tls_context_create(rt.loop, capi.WEFT_TLS_CLIENT, client_options)
    return server, client


def handshake(rt, server_context, client_context, server_name):
    """Both sides of a handshake over a stream pair: {side: (status, message, stream)}."""
    a, b = capi.weft_pipe_pair(rt.loop)
    outcome = {}
    accept = capi.weft_tls_accept(b, server_context, lambda *o: outcome.update(server=o))
    connect = capi.weft_tls_connect(a, client_context, server_name,
                                    lambda *o: outcome.update(client=o))
    rt.run_until(lambda: len(outcome) == 2)
    release(accept, connect)
    return outcome


def test_a_verified_handshake_alpn_info_and_data(rt, certificate):
    server_context, client_context = contexts(rt, certificate, ["h2", "http/1.1"], ["http/1.1"])
    outcome = handshake(rt, server_context, client_context, "localhost")
    assert outcome["server"][:2] == (capi.WEFT_OK, None)
    assert outcome["client"][:2] == (capi.WEFT_OK, None)
    server, client = outcome["server"][2], outcome["client"][2]

    info = capi.weft_tls_get_info(client)
    assert info.peer_verified == 1
    assert info.alpn == "http/1.1" and info.server_name == "localhost"
    assert info.version.startswith("TLSv1.") and info.cipher
    with pytest.raises(AttributeError):
        info.alpn = "h2"  # read-only
    server_info = capi.weft_tls_get_info(server)
    assert server_info.alpn == "http/1.1" and server_info.server_name == "localhost"
    assert server_info.peer_verified == 0  # no client certificate was asked for

    payload = bytes(range(256)) * 64  # 16 KiB: more than one TLS record
    release(capi.weft_stream_write(client, payload, None))
    got = capi.weft_stream_read_exactly(server, len(payload), None)
    assert wait_outcome(rt, got) == (capi.WEFT_OK, payload, None)
    release(capi.weft_stream_write(server, b"pong\n", None))
    line = capi.weft_stream_read_until(client, b"\n", 64, None)
    assert wait_outcome(rt, line) == (capi.WEFT_OK, b"pong\n", None)
    shut = capi.weft_stream_shutdown(client, None)  # close_notify
    assert wait_outcome(rt, shut)[0] == capi.WEFT_OK
    eof = capi.weft_stream_read(server, 16, None)
    assert wait_outcome(rt, eof)[0] == capi.WEFT_ERR_END_OF_FILE
    release(got, line, shut, eof)

    # A plain stream is not a TLS stream.
    a, b = capi.weft_pipe_pair(rt.loop)
    with pytest.raises(errors.Error) as failure:
        capi.weft_tls_get_info(a)
    assert failure.value.status == capi.WEFT_ERR_INVALID_HANDLE
    for stream in (client, server, a, b):
        capi.weft_stream_close(stream)
    capi.weft_tls_context_destroy(client_context)
    capi.weft_tls_context_destroy(server_context)


def test_a_host_that_does_not_match_is_refused(rt, certificate):
    server_context, client_context = contexts(rt, certificate)
    outcome = handshake(rt, server_context, client_context, "weft.invalid")
    status, message, stream = outcome["client"]
    assert status == capi.WEFT_ERR_TLS_HOST_MISMATCH and stream is None
    assert message and isinstance(errors.from_status(status, message), errors.Error)
    assert outcome["server"][0] != capi.WEFT_OK and outcome["server"][2] is None
    capi.weft_tls_context_destroy(client_context)
    capi.weft_tls_context_destroy(server_context)


def test_bad_options_raise_and_create_nothing(rt, certificate):
    options = capi.weft_tls_context_options()
    options.cert_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"
    options.key_file = certificate[1]
    with pytest.raises(errors.InvalidArgumentError) as failure:
        capi.weft_tls_context_create(rt.loop, capi.WEFT_TLS_SERVER, options)
    assert failure.value.message
    options = capi.weft_tls_context_options()
    options.ca_file = "/nonexistent/ca.pem"
    with pytest.raises(errors.InvalidArgumentError):
        capi.weft_tls_context_create(rt.loop, capi.WEFT_TLS_CLIENT, options)
    with pytest.raises(errors.InvalidArgumentError):  # a server needs a certificate
        capi.weft_tls_context_create(rt.loop, capi.WEFT_TLS_SERVER, None)
    options = capi.weft_tls_context_options()
    options.set_alpn([""])  # ALPN names are 1..255 bytes
    with pytest.raises(errors.InvalidArgumentError):
        capi.weft_tls_context_create(rt.loop, capi.WEFT_TLS_CLIENT, options)


def test_option_strings_and_alpn_are_owned_copies():
    options = capi.weft_tls_context_options()
    assert options.struct_size > 0 and options.ca_file is None and options.alpn_count == 0
    path = "".join(["/tmp/", "ca.pem"])  # a str the struct must copy, not borrow
    options.ca_file = path
    del path
    options.ca_file = "/tmp/other.pem"  # replacing frees the first copy
    assert options.ca_file == "/tmp/other.pem"
    options.ca_file = None
    assert options.ca_file is None
    options.set_alpn(["h2", "http/1.1"])
    assert options.alpn_count == 2
    options.set_alpn(None)
    assert options.alpn_count == 0
    with pytest.raises(TypeError):
        options.set_alpn([b"h2"])
    assert options.alpn_count == 0  # a failed set changes nothing
    with pytest.raises(AttributeError):
        options.alpn_count = 3
