"""Start-up: the listener, and a log of one line per event (eventlet's messages included)."""
from __future__ import annotations

import logging
import socket
import sys

from pilot.drive.serve import EventletLog, OneLineFormatter, open_listener, with_error_stream

TRACEBACK = """Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/eventlet/wsgi.py", line 620, in handle_one_response
    result = self.application(self.environ, start_response)
ValueError: invalid literal for int() with base 10: 'x'
"""








class FakeClock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


def records(caplog) -> list[tuple[str, str]]:
    return [(record.levelname, record.getMessage()) for record in caplog.records]


def test_eventlet_messages_about_a_client_that_went_away_stay_at_debug(caplog):
    caplog.set_level(logging.DEBUG, logger="test.eventlet")
    log = EventletLog(logging.getLogger("test.eventlet"), clock=FakeClock())
    # what eventlet's WebSocket writes to wsgi.errors: no newline, glued to the next line before
    log.write("server=127.0.0.1:4567//socket.io/ client=127.0.0.1:5000 socket shutdown error: "
              "[Errno 9] Bad file descriptor")
    log.info('127.0.0.1 - - [01/Jan/2026 10:00:00] "GET /socket.io/ HTTP/1.1" 200 0 0.5')  # access log
    log.debug("(123) accepted ('127.0.0.1', 5000)")
    assert [level for level, _ in records(caplog)] == ["DEBUG"] * 3
    assert all("\n" not in message for _, message in records(caplog))


def test_a_failed_connection_is_one_error_line_and_a_flood_is_held_back(caplog):
    caplog.set_level(logging.DEBUG, logger="test.eventlet")
    clock = FakeClock()
    log = EventletLog(logging.getLogger("test.eventlet"), interval_s=5.0, clock=clock)
    log.info(TRACEBACK)
    log.info(TRACEBACK)                                   # 1 s later: held back, kept at debug
    clock.now_s += 1.0
    log.error("I/O error while discarding request body.")
    clock.now_s += 5.0
    log.write("something eventlet did not expect\n")
    shown = [(level, message) for level, message in records(caplog) if level != "DEBUG"]
    assert shown == [
        ("ERROR", "eventlet: a connection failed: ValueError: invalid literal for int() with base 10: 'x'"),
        ("WARNING", "eventlet: something eventlet did not expect (and 2 more since the last such line)"),
    ]


def test_every_record_is_one_line_with_the_exception_and_where_it_was_raised():
    try:
        int("not a number")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("pilot", logging.ERROR, __file__, 1, "telemetry handler failed\nsecond line",
                               None, exc_info)
    line = OneLineFormatter("drive: ").format(record)
    assert line.startswith("drive: telemetry handler failed | second line (ValueError: invalid literal")
    assert "raised at test_serve.py:" in line and "\n" not in line


def test_requests_get_the_error_stream_given():
    stream = EventletLog()
    seen = {}
    app = with_error_stream(lambda environ, start_response: seen.update(environ) or [], stream)
    app({"wsgi.errors": sys.stderr}, lambda *args: None)
    assert seen["wsgi.errors"] is stream


def test_accepted_sockets_send_small_frames_at_once():
    """TCP_NODELAY: an answer and a pong in a row must not wait for the client's delayed ACK."""
    listener = open_listener("127.0.0.1", 0)
    client = socket.create_connection(listener.getsockname()[:2])
    accepted, _ = listener.accept()
    assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    for open_socket in (accepted, client, listener):
        open_socket.close()
