"""CPython 3.11's own streams tests (test.test_asyncio.test_streams, from
Debian's libpython3.11-testsuite) run with weft.streams in place of
asyncio's streams: asyncio.StreamReader, StreamWriter, StreamReaderProtocol,
open_connection, start_server and the Unix variants are weft's while they
run, on weft's loop and on asyncio's. Every test must pass, and the tests
must really have made weft's readers."""
import asyncio
import asyncio.streams
import unittest

import pytest

import weft

NAMES = ("StreamReader", "StreamWriter", "StreamReaderProtocol", "open_connection",
         "start_server", "open_unix_connection", "start_unix_server")


@pytest.fixture
def weft_streams_in_asyncio(monkeypatch):
    made = []
    init = weft.streams.StreamReader.__init__

    def counting_init(self, *args, **kwargs):
        made.append(self)
        init(self, *args, **kwargs)

    monkeypatch.setattr(weft.streams.StreamReader, "__init__", counting_init)
    for name in NAMES:
        monkeypatch.setattr(asyncio, name, getattr(weft.streams, name))
        monkeypatch.setattr(asyncio.streams, name, getattr(weft.streams, name))
    return made


@pytest.mark.parametrize("loop", ["weft", "asyncio"])
def test_cpython_test_streams(loop, weft_streams_in_asyncio, monkeypatch):
    from test.test_asyncio import test_streams
    from test.test_asyncio import utils as test_utils

    if loop == "weft":
        cpython_new_test_loop = test_utils.TestCase.new_test_loop

        def new_test_loop(self, gen=None):
            if gen is not None:  # a virtual clock: CPython's TestLoop
                return cpython_new_test_loop(self, gen)
            made = weft.new_event_loop()
            self.set_event_loop(made)
            return made

        monkeypatch.setattr(test_utils.TestCase, "new_test_loop", new_test_loop)
        monkeypatch.setattr(asyncio, "new_event_loop", weft.new_event_loop)
    suite = unittest.defaultTestLoader.loadTestsFromModule(test_streams)
    result = unittest.TestResult()
    suite.run(result)
    problems = ["%s: %s" % (test.id(), text.strip().splitlines()[-1])
                for test, text in result.errors + result.failures]
    assert not problems, "\n".join(problems)
    assert result.testsRun >= 60
    assert len(result.skipped) <= 2, result.skipped
    assert len(weft_streams_in_asyncio) >= 60
