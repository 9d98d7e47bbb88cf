"""Run the drive server as a separate process (`python -m pilot.drive`, what `python stages/drive.py` runs), and stop it
cleanly."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

LISTENING = re.compile(r"listening on http://(?P<host>[^:\s]+):(?P<port>\d+)")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVER_MODULE = "pilot.drive"         # pilot/drive/__main__.py


class ServerStartError(RuntimeError):
    """The drive server did not come up; the message says why in one sentence."""


class DriveServerProcess:
    """A drive server child process; `port` is where it listens once `start()` returns."""

    def __init__(self, model_path: str | Path, host: str = "127.0.0.1", port: int = 0,
                 extra_args: tuple[str, ...] = (), keep_lines: int = 200) -> None:
        self.command = [sys.executable, "-m", SERVER_MODULE, str(model_path), "--host", host,
                        "--port", str(port), *extra_args]
        self.host = host
        self.port: int | None = None
        self.output: deque[str] = deque(maxlen=keep_lines)   # the server's last lines, for error messages
        self.process: subprocess.Popen | None = None
        self._listening = threading.Event()
        self._new_line = threading.Condition()
        self._pump_thread: threading.Thread | None = None

    def _pump(self) -> None:
        """Read the server's output for as long as it runs (a full pipe would block it)."""
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            with self._new_line:
                self.output.append(line.rstrip())
                self._new_line.notify_all()
            match = LISTENING.search(line)
            if match and not self._listening.is_set():
                self.port = int(match.group("port"))
                self._listening.set()

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def start(self, timeout_s: float = 180.0) -> None:
        # the server imports this copy's pilot package, whatever an installed one points at
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT),
                                                                       os.environ.get("PYTHONPATH")])))
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, bufsize=1, env=env)
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._listening.wait(0.1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                last = self.output[-1] if self.output else "no output"
                raise ServerStartError(f"the drive server did not start ({last}).")

    def wait_for_output(self, text: str, timeout_s: float = 120.0) -> bool:
        """Block until a line of the server's output contains `text` (False if it never does)."""
        with self._new_line:
            return self._new_line.wait_for(lambda: any(text in line for line in self.output)
                                           or (self.process is not None and self.process.poll() is not None),
                                           timeout_s) and any(text in line for line in self.output)

    def stop(self, timeout_s: float = 15.0) -> int | None:
        """SIGINT (as Ctrl+C), then SIGKILL if it does not go; returns the exit code.

        When it returns, `output` holds the server's last lines (its goodbye included).
        """
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._pump_thread is not None:
            self._pump_thread.join(timeout_s)
        return self.process.returncode


@contextmanager
def drive_server(model_path: str | Path, **kwargs) -> Iterator[DriveServerProcess]:
    """Start a drive server on a free loopback port for the `with` block; always stop it."""
    server = DriveServerProcess(model_path, **kwargs)
    try:
        server.start()
        yield server
    finally:
        server.stop()
