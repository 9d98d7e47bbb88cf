"""python -m pilot.review data/raw/NAME: serve a page to scrub through a recording and exclude ranges."""
from __future__ import annotations

import argparse
import errno
import logging
import socket
import sys
import time

from werkzeug.serving import make_server

from pilot.review.app import create_app, load_recording
from pilot.stage_io import stop_on_ctrl_c
from pilot.udacity.exclusions import read_exclusions
from pilot.udacity.log_reader import RecordingError

DEFAULT_PORT = 5600


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on host:port (OSError if it cannot be had)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=64)


def listen_problem(host: str, port: int, error: OSError) -> str:
    """One sentence for a socket that could not listen."""
    if error.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is in use: stop what uses it or pick another with --port (0 picks a free one)."
    if error.errno == errno.EACCES:
        return f"port {port} needs administrator rights: pick one above 1023 with --port."
    reason = error.strerror or str(error)
    return f"cannot listen on {host}:{port} ({reason}): check --host and --port."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pilot.review", description=__doc__)
    parser.add_argument("folder", help="a recording folder (driving_log.csv + IMG/)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0 picks a free port")
    args = parser.parse_args(argv)

    started_s = time.perf_counter()
    try:
        recording = load_recording(args.folder)
    except RecordingError as error:
        print(f"review: {error}", file=sys.stderr)
        return 2
    read_s = time.perf_counter() - started_s
    try:
        listener = listening_socket(args.host, args.port)
    except OSError as error:
        print(f"review: {listen_problem(args.host, args.port, error)}", file=sys.stderr)
        return 2
    server = make_server(args.host, args.port, create_app(recording), threaded=True, fd=listener.fileno())
    listener.close()                           # the server holds its own duplicate of the socket

    logging.getLogger("werkzeug").setLevel(logging.WARNING)    # no line per image request
    for problem in read_exclusions(recording.folder).problems:
        print(f"review: {problem}")
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    stop_on_ctrl_c()                       # else the server would never stop when started in the background
    print(f"review: {recording.name}: {len(recording.stamps)} frames read in {read_s:.2f} s; "
          f"open http://{shown_host}:{server.port}/ (Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()             # returns on Ctrl+C (werkzeug catches it)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("review: stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
