"""`python -m pilot.sim`: drive against a server from a terminal; one sentence when there is none."""
from __future__ import annotations

import csv
import json
import socket
import subprocess
import sys
from pathlib import Path

from .conftest import steer_packet


def run_cli(tmp_path: Path, port: int, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pilot.sim", "--port", str(port), "--laps", "0.03",
                           "--out-dir", str(tmp_path / "run"), "--params", str(tmp_path / "none.yaml"), *extra],
                          capture_output=True, text=True, timeout=120)


def test_cli_drives_and_writes_metrics_trajectory_and_frames(protocol_server, tmp_path: Path) -> None:
    server = protocol_server(lambda data: [steer_packet("-0,05", "0,6")])
    done = run_cli(tmp_path, server.port, "--decimal-comma", "--frames")
    assert done.returncode == 0, done.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    rows = list(csv.DictReader((tmp_path / "run" / "trajectory.csv").open()))
    assert metrics["steps"] == len(rows) > 10 and metrics["track_seed"] == 7
    assert len(list((tmp_path / "run" / "frames").glob("*.jpg"))) == len(rows)   # one frame per telemetry sent
    # the server's reply acts one latency after its frame: the first frame still drives on 0
    assert float(rows[0]["steering"]) == 0.0 and all(float(row["steering"]) == -0.05 for row in rows[1:])


def test_cli_without_a_server_says_so_in_one_sentence(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = run_cli(tmp_path, port)
    assert done.returncode != 0 and "Is a drive server running" in done.stderr and "Traceback" not in done.stderr
