"""Closed-loop driving against any drive server, as the real simulator would drive it.

Start-up emulates the simulator's double "open": one telemetry when the WebSocket opens,
one more after the server's `0{...}` packet, so two request chains are in flight. Then
lock-step: every `steer` (or `manual`) event received advances the physics by one fixed
step and sends exactly one new telemetry of the new state. The same replies give the same
trajectory, whatever the wall clock does; only the client's own engine pings (every 25 s
of wall time) depend on it. A wheel past the road's edge is an intervention: the car is
put back on the centre line (see episode.py) and the drive goes on.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pilot.sim.camera import Light, Renderer, encode_jpeg
from pilot.sim.episode import Episode, start_state
from pilot.sim.expert import Expert
from pilot.sim.metrics import StepRecord, summarise_drive
from pilot.sim.track import Track
from pilot.sim.vehicle import CarPhysics, Controls, VehicleState, clamp_controls
from pilot.sim.wire import SimulatorWire, WireError
from pilot.udacity.numbers import read_culture_number
from pilot.udacity.simulator import MAX_STEER_DEG, mph_to_mps

PING_INTERVAL_S = 25.0               # the simulator's own engine pings, in wall time
SLOWEST_EXPECTED_MPS = 2.5           # default time limit: laps at this average speed

@dataclass(frozen=True)
class ClosedLoopSettings:
    """How a closed-loop drive runs (the road test's params)."""

    host: str = "127.0.0.1"
    port: int = 4567
    latency_s: float | None = 0.1            # a frame's command acts this long after the frame; None: measured
    render_period_s: float = 1.0 / 30.0      # a reply is applied at the simulator's next rendered frame
    physics: CarPhysics = field(default_factory=CarPhysics)
    laps: float = 1.0                        # stop after this many laps ...
    max_time_s: float | None = None          # ... or this much simulated time (default: laps at 2.5 m/s)
    decimal_comma: bool = False              # telemetry as a comma-decimal culture writes it
    timeout_s: float = 10.0                  # a server silent this long ends the drive with an error
    manual_steps: int = 0                    # first steps in manual mode (`{}` telemetry, built-in driver)
    ping_interval_s: float = PING_INTERVAL_S  # the client's own engine pings, in wall time
    light: Light = field(default_factory=Light)
    start_s_m: float = 0.0                   # where on the track the car starts
    start_speed_mph: float = 0.0

@dataclass
class DriveResult:
    """Metrics and the trajectory of one drive."""

    metrics: dict[str, Any]
    records: list[StepRecord]

def read_steer(data: dict[str, Any] | None) -> Controls:
    """A `steer` event's controls, read as the simulator reads them (strings only), clamped."""
    if not data or "steering_angle" not in data or "throttle" not in data:
        raise WireError(f"a steer event needs steering_angle and throttle, got {data!r}")
    values = []
    for key in ("steering_angle", "throttle"):
        if not isinstance(data[key], str):
            raise WireError(f"steer.{key} is a JSON {type(data[key]).__name__}: the simulator reads only "
                            "strings (float.Parse) and would stop the car; send it as a string")
        try:
            values.append(read_culture_number(data[key])[0])
        except ValueError as exc:
            raise WireError(f"steer.{key} is not a number the simulator can read: {data[key]!r}") from exc
    return clamp_controls(values[0], values[1])

class ClosedLoopClient:
    """Drives one track against a drive server; `run()` returns the metrics and trajectory."""

    def __init__(self, track: Track, settings: ClosedLoopSettings = ClosedLoopSettings(),
                 renderer: Renderer | None = None, frames_dir: str | Path | None = None,
                 on_step: Callable[[Episode], None] | None = None) -> None:
        self.track = track
        self.settings = settings
        self.renderer = renderer or Renderer(track)
        self.frames_dir = Path(frames_dir) if frames_dir is not None else None
        self.on_step = on_step
        self.telemetry_states: list[VehicleState | None] = []   # state behind each telemetry sent (None: manual)
        self.controls = Controls()               # what the car does now: the command of the frame before
        start = start_state(track, settings.start_s_m, mph_to_mps(settings.start_speed_mph))
        self.episode = Episode(track, start, frame_interval_s(settings, settings.latency_s or 0.0), settings.physics)
        self.round_trips_s: list[float] = []
        self._manual_driver = Expert(track) if settings.manual_steps else None
        self._jpeg: bytes | None = None

    def _time_limit_s(self) -> float:
        if self.settings.max_time_s is not None:
            return self.settings.max_time_s
        return self.settings.laps * self.track.length_m / SLOWEST_EXPECTED_MPS

    def _send_telemetry(self, wire: SimulatorWire) -> None:
        state = self.episode.state
        if self.episode.steps < self.settings.manual_steps:
            self.telemetry_states.append(None)
            wire.send_manual()
            return
        if self._jpeg is None:                       # the frame of this state (cached for the double open)
            self._jpeg = encode_jpeg(self.renderer.render(state, "center", self.settings.light))
            if self.frames_dir is not None:
                (self.frames_dir / f"frame_{self.episode.steps:05d}.jpg").write_bytes(self._jpeg)
        self.telemetry_states.append(state)
        wire.send_telemetry(self.controls.steering * MAX_STEER_DEG, self.controls.throttle, state.speed_mph, self._jpeg)

    def _controls_for(self, name: str, data: dict[str, Any] | None) -> Controls | None:
        """The controls a reply sets, or None for an event the simulator has no handler for."""
        if self.episode.steps < self.settings.manual_steps:
            if name not in ("manual", "steer"):
                return None
            command = self._manual_driver.command(self.episode.state, self.episode.step_s)
            return command.executed
        if name == "steer":
            return read_steer(data)
        if name == "manual":
            return self.controls
        return None

    def run(self) -> DriveResult:
        """Connect, drive until the laps or the time limit are done, disconnect."""
        if self.frames_dir is not None:
            self.frames_dir.mkdir(parents=True, exist_ok=True)
        settings = self.settings
        limit_s = self._time_limit_s()
        with SimulatorWire(settings.host, settings.port, settings.decimal_comma, settings.timeout_s) as wire:
            wire.open_socket()
            self._send_telemetry(wire)                 # first "open": the WebSocket is up
            wire.read_open_packet()
            self._send_telemetry(wire)                 # second "open": the server's 0{...}
            last_ping = sent_s = time.monotonic()
            while self.episode.progress_laps < settings.laps and self.episode.time_s < limit_s:
                name, data = wire.receive_event()
                round_trip_s = time.monotonic() - sent_s
                controls = self._controls_for(name, data)
                if controls is None:
                    continue
                # the car keeps driving on the last command while the server thinks; the new one
                # acts from the simulator's next frame after the reply, when it also sends the next telemetry
                self.round_trips_s.append(round_trip_s)
                latency_s = settings.latency_s if settings.latency_s is not None else round_trip_s
                acting = self.controls if latency_s > 0 else controls
                self.episode.advance(acting, frame_interval_s(settings, latency_s))
                self.controls = controls
                self._jpeg = None
                if self.on_step is not None:
                    self.on_step(self.episode)
                if self.episode.progress_laps >= settings.laps or self.episode.time_s >= limit_s:
                    break
                sent_s = time.monotonic()
                self._send_telemetry(wire)
                if time.monotonic() - last_ping >= settings.ping_interval_s:
                    wire.ping()
                    last_ping = time.monotonic()
        metrics = summarise_drive(self.episode.records, self.track.length_m)
        metrics.update(track_seed=self.track.seed, track_length_m=round(self.track.length_m, 2),
                       latency_s=settings.latency_s if settings.latency_s is not None else "measured",
                       mean_frame_interval_s=round(self.episode.time_s / max(1, self.episode.steps), 4))
        return DriveResult(metrics, self.episode.records)

def frame_interval_s(settings: ClosedLoopSettings, latency_s: float) -> float:
    """Simulated time between two telemetries: the latency, rounded up to whole rendered frames."""
    frames = max(1, math.ceil(latency_s / settings.render_period_s - 1e-3))   # 0.1 s at 0.0333333 s: 3 frames
    return frames * settings.render_period_s

def drive(track: Track, settings: ClosedLoopSettings = ClosedLoopSettings(), renderer: Renderer | None = None,
          frames_dir: str | Path | None = None) -> DriveResult:
    """Drive `track` against the server at settings.host:port; see ClosedLoopClient."""
    return ClosedLoopClient(track, settings, renderer, frames_dir).run()
