"""Soak the drive server: 20,000 lock-step frames, 100 connect/disconnect cycles, two clients at once.

Targets (issue 14): resident memory growth <= 5 % over the run; round-trip p99 of the last
1,000 frames within 1.5x the first 1,000's. The server is `stages/drive.py` as a child process
(pilot.server_process) with a small real PilotNet; clients are `SimulatorWire` (the simulator's
wire, byte for byte). The first and last 1,000 frames run alone, so the two windows compare
like with like; in between, a second client drives at the same time and, every 20 of its
frames, opens, drives and drops one more connection (gracefully or abruptly, in turn) until
it has made 100 cycles. The server's resident memory (VmRSS) is read after the warm-up and
at the end; the machine's load average beside each timed window says how busy it was.

    .venv/bin/python bench/soak_server.py [--frames 20000] [--cycles 100] [--window 1000]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from bench_support import DriveServerProcess, camera_frames, resident_memory_kib, save_pilotnet
from pilot.sim.wire import SimulatorWire

MEMORY_GROWTH_TARGET = 0.05
P99_RATIO_TARGET = 1.5
WARMUP_FRAMES = 500
SECOND_CLIENT_BLOCK = 20       # frames the second client drives between two connect/disconnect cycles


def drive(wire: SimulatorWire, frames: list[bytes], count: int, start: int = 0) -> list[float]:
    """`count` lock-step round trips (telemetry out, steer in), in ms."""
    times_ms = []
    for index in range(start, start + count):
        started_s = time.perf_counter()
        wire.send_telemetry(-1.25, 0.3, 8.0 + index % 7, frames[index % len(frames)])
        name, _ = wire.receive_event()
        times_ms.append((time.perf_counter() - started_s) * 1000.0)
        if name != "steer":
            raise RuntimeError(f"expected steer, got {name}")
    return times_ms


class SecondClient(threading.Thread):
    """Drives beside the main client, with a connect/disconnect cycle every few frames."""

    def __init__(self, host: str, port: int, frames: list[bytes], cycles: int) -> None:
        super().__init__(daemon=True)
        self.host, self.port, self.frames, self.cycles = host, port, frames, cycles
        self.frames_driven = 0
        self.cycles_done = 0
        self.error: BaseException | None = None

    def cycle(self) -> None:
        wire = SimulatorWire(self.host, self.port, timeout_s=30.0)
        wire.connect()
        drive(wire, self.frames, 1, start=self.cycles_done)
        if self.cycles_done % 2:
            wire.drop()                      # the simulator killed: no close frame
        else:
            wire.close()
        self.cycles_done += 1

    def run(self) -> None:
        try:
            with SimulatorWire(self.host, self.port, timeout_s=30.0) as wire:
                wire.connect()
                while self.cycles_done < self.cycles:
                    drive(wire, self.frames, SECOND_CLIENT_BLOCK, start=self.frames_driven)
                    self.frames_driven += SECOND_CLIENT_BLOCK
                    self.cycle()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            self.error = error


def p50_p99(times_ms: list[float]) -> tuple[float, float]:
    p50, p99 = np.percentile(times_ms, [50, 99])
    return float(p50), float(p99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=20_000, help="lock-step frames of the main client")
    parser.add_argument("--cycles", type=int, default=100, help="connect/disconnect cycles")
    parser.add_argument("--window", type=int, default=1_000, help="frames timed at the start and at the end")
    args = parser.parse_args()
    frames = camera_frames(60)
    with tempfile.TemporaryDirectory() as scratch:
        _, model_path = save_pilotnet(Path(scratch))
        server = DriveServerProcess(model_path)
        server.start()
        try:
            started_s = time.perf_counter()
            with SimulatorWire(server.host, server.port, timeout_s=30.0) as wire:
                wire.connect()
                drive(wire, frames, WARMUP_FRAMES)
                rss_start_kib = resident_memory_kib(server.pid)
                first = drive(wire, frames, args.window)
                load_first = os.getloadavg()[0]
                second = SecondClient(server.host, server.port, frames, args.cycles)
                second.start()
                middle = drive(wire, frames, args.frames - 2 * args.window, start=args.window)
                second.join()
                if second.error:
                    raise RuntimeError(f"the second client failed: {second.error}")
                last = drive(wire, frames, args.window, start=args.frames - args.window)
                load_last = os.getloadavg()[0]
            rss_end_kib = resident_memory_kib(server.pid)
            elapsed_s = time.perf_counter() - started_s
            alive = server.process.poll() is None
        finally:
            exit_code = server.stop()

    growth = rss_end_kib / rss_start_kib - 1.0
    (p50_first, p99_first), (p50_last, p99_last) = p50_p99(first), p50_p99(last)
    p50_middle, p99_middle = p50_p99(middle)
    print(f"soak: {len(first) + len(middle) + len(last)} lock-step frames on one connection in {elapsed_s:.0f} s "
          f"(after {WARMUP_FRAMES} warm-up frames); a second client drove {second.frames_driven} frames "
          f"beside the main one and made {second.cycles_done} connect/disconnect cycles")
    print(f"  server resident memory: {rss_start_kib / 1024:.1f} MiB after warm-up, {rss_end_kib / 1024:.1f} MiB "
          f"at the end: {100 * growth:+.2f} % (target <= {100 * MEMORY_GROWTH_TARGET:.0f} %)")
    print(f"  round trip, first {args.window} frames: p50 {p50_first:.2f} ms  p99 {p99_first:.2f} ms  "
          f"(machine load average {load_first:.1f} on {os.cpu_count()} cores)")
    print(f"  round trip, the frames between:  p50 {p50_middle:.2f} ms  p99 {p99_middle:.2f} ms  "
          f"(two clients while the second one ran)")
    print(f"  round trip, last {args.window} frames:  p50 {p50_last:.2f} ms  p99 {p99_last:.2f} ms  "
          f"(machine load average {load_last:.1f})")
    print(f"  end / start: p50 {p50_last / p50_first:.2f}x, p99 {p99_last / p99_first:.2f}x "
          f"(target p99 <= {P99_RATIO_TARGET:g}x)")
    print(f"  server alive at the end: {'yes' if alive else 'NO'}; exit code on SIGINT {exit_code}")
    met = growth <= MEMORY_GROWTH_TARGET and p99_last <= P99_RATIO_TARGET * p99_first and alive
    print(f"  targets: {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
