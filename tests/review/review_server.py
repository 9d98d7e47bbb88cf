"""Start `python -m pilot.review` for real on a free port of 127.0.0.1 and stop it as Ctrl+C does."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tests.stage_runner import PROJECT_ROOT, project_env

STOP_TIMEOUT_S = 20


def run_review(args: list[str], cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess:
    """Run the command to completion (the error cases)."""
    return subprocess.run([sys.executable, "-m", "pilot.review", *args], cwd=cwd, env=project_env(cwd),
                          capture_output=True, text=True, timeout=120)


@contextmanager
def review_server(folder: Path, cwd: Path = PROJECT_ROOT) -> Iterator[tuple[str, list[str]]]:
    """Yields (page URL, lines printed before it); on exit stops it with SIGINT and checks it said so."""
    process = subprocess.Popen([sys.executable, "-m", "pilot.review", str(folder), "--port", "0"], cwd=cwd,
                               env=project_env(cwd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    printed: list[str] = []
    try:
        for line in process.stdout:
            printed.append(line.rstrip("\n"))
            match = re.search(r"open (http://127\.0\.0\.1:\d+/)", line)
            if match:
                break
        else:
            raise AssertionError(f"review did not start:\n{''.join(printed)}\n{process.stderr.read()}")
        yield match.group(1), printed
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        out, err = process.stdout.read(), process.stderr.read()
        process.stdout.close()
        process.stderr.close()
    assert "Traceback" not in err, err
    assert process.returncode == 0 and "review: stopped." in out, (process.returncode, out, err)
