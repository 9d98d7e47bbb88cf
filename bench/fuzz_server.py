"""Fuzz the drive server on the simulator's raw wire: hostile messages, each followed by a valid telemetry.

Targets (issue 14): >= 5,000 hostile messages, 0 valid telemetries unanswered, 0 server exits.
The server is `stages/drive.py` as a child process (pilot.server_process, as road_test starts it)
with a small real PilotNet; the fuzzer (pilot.testing.hostile) speaks raw WebSocket. Every valid
telemetry must get a well-formed `steer` (two numeric strings); a socket the server closes is
counted and reopened. The server's own log is checked too: every line whole and its own.

    .venv/bin/python bench/fuzz_server.py [--cases 6600] [--seed 0]
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

from bench_support import DriveServerProcess, camera_frames, save_pilotnet
from pilot.sim.wire import telemetry_packet
from pilot.testing.hostile import FuzzReport, hostile_messages, iter_categories, run_fuzz

CASES_TARGET = 5_000
SERVER_LINE = re.compile(r"^drive: ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=6_600, help="hostile messages to send")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    packet = telemetry_packet(-1.25, 0.3, 5.0, camera_frames(1)[0])    # 5 mph: the PI accelerates
    messages = hostile_messages(args.cases, args.seed, packet)
    with tempfile.TemporaryDirectory() as scratch:
        _, model_path = save_pilotnet(Path(scratch))
        server = DriveServerProcess(model_path, keep_lines=100_000)
        server.start()
        started_s = time.perf_counter()

        def progress(index: int, report: FuzzReport) -> None:
            if (index + 1) % 500 == 0:
                print(f"  {index + 1} cases, {time.perf_counter() - started_s:.0f} s, "
                      f"unanswered {report.unanswered}", flush=True)
        try:
            report = run_fuzz(server.host, server.port, messages, packet, on_case=progress)
            exited = server.process.poll() is not None
        except ConnectionError as error:
            report, exited = None, True
            print(f"the server stopped answering: {error}")
        elapsed_s = time.perf_counter() - started_s
        exit_code = server.stop()
        log_lines = list(server.output)
    if report is None:
        sys.exit(1)

    print(f"\nfuzz: {sum(report.tried.values())} hostile messages in {elapsed_s:.0f} s, "
          f"each followed by a valid telemetry")
    print(f"  {'category':26s} {'tried':>6s} {'closed':>7s} {'stalled':>8s} {'dropped':>8s} {'ms/case':>8s}")
    for category, tried, closed, stalled, dropped, ms_per_case in iter_categories(report):
        print(f"  {category:26s} {tried:6d} {closed:7d} {stalled:8d} {dropped:8d} {ms_per_case:8.1f}")
    print("  (closed: sockets the server closed; stalled: no answer to the next engine ping, dropped by the\n"
          "   fuzzer; dropped: the client died mid-message on purpose)")
    print(f"  valid telemetries: {report.valid_sent} sent, {report.unanswered} unanswered, "
          f"{report.malformed_replies} answered with something not a well-formed steer, "
          f"{report.safe_answers} answered with the safe command")
    print(f"  sockets closed by the server: {sum(report.closed_by_server.values())}")
    print(f"  server exits: {int(exited)} (stopped with exit code {exit_code} on SIGINT)")
    listening = next((i for i, line in enumerate(log_lines) if "listening on" in line), 0)
    foreign = [line for line in log_lines[listening:] if not SERVER_LINE.match(line)]
    print(f"  server log after start-up: {len(log_lines) - listening} lines kept, "
          f"{len(foreign)} not its own")
    for line in foreign[:5]:
        print(f"    {line[:160]!r}")
    for failure in report.failures[:10]:
        print(f"  ! {failure}")
    met = (sum(report.tried.values()) >= CASES_TARGET and report.unanswered == 0
           and report.malformed_replies == 0 and not exited)
    print(f"  targets (>= {CASES_TARGET} messages, 0 unanswered, 0 server exits): {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
