"""The expert's recording run: drive laps on one or more tracks and write them as the simulator would.

Per frame (every `step_s` of simulated time): the three cameras see the current state,
the row records the clean expert's steering (the label) with the executed throttle,
brake and speed, then the car moves by the executed (possibly drifting) command.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from pilot.processes import worker_pool
from pilot.sim.camera import Light, Renderer, encode_jpeg
from pilot.sim.episode import Episode, start_state
from pilot.sim.expert import DriftSchedule, DriftSettings, Expert, ExpertCommand
from pilot.sim.track import make_track
from pilot.sim.vehicle import CarPhysics, VehicleState
from pilot.udacity.log_writer import RecordingWriter
from pilot.udacity.simulator import CAMERAS


@dataclass(frozen=True)
class SessionSettings:
    """What the expert records (params.yaml's `simulate` section, less paths)."""

    track_seeds: tuple[int | str, ...] = (7,)        # seeds of generated tracks or names ('lake')
    laps_per_track: float = 1.0
    step_s: float = 0.1                              # 10 frames per second of simulated time
    set_speed_mph: float = 17.0
    brightness: tuple[float, float] = (0.55, 1.25)   # light varies slowly within this range
    warmth: tuple[float, float] = (-0.3, 0.8)
    light_period_s: float = 30.0                     # time between random light targets
    pause_between_tracks_s: float = 60.0             # gap in the timestamps between tracks
    track_params: dict = field(default_factory=dict)  # length_m, width_m, max_curvature_per_m
    hill_track_seeds: tuple[int, ...] = ()           # recorded after track_seeds: generated circuits with hills
    hill_track_params: dict = field(default_factory=dict)  # their shape: track_params' keys and max_grade
    hill_track_look: str = "generated"               # their paint (pilot.sim.scenery.LOOK_NAMES)
    drift: DriftSettings = DriftSettings()
    physics: CarPhysics = CarPhysics()               # the expert drives the same car the road test does


class LightSchedule:
    """Slowly varying light: random targets every `period_s`, eased with a cosine."""

    def __init__(self, rng: np.random.Generator, brightness: tuple[float, float], warmth: tuple[float, float],
                 period_s: float) -> None:
        self.rng, self.brightness, self.warmth, self.period_s = rng, brightness, warmth, period_s
        self._knots: list[tuple[float, float]] = [self._draw()]

    def _draw(self) -> tuple[float, float]:
        return float(self.rng.uniform(*self.brightness)), float(self.rng.uniform(*self.warmth))

    def at(self, time_s: float) -> Light:
        index = int(time_s // self.period_s)
        while len(self._knots) <= index + 1:
            self._knots.append(self._draw())
        ease = 0.5 - 0.5 * math.cos(math.pi * (time_s / self.period_s - index))
        (b0, w0), (b1, w1) = self._knots[index], self._knots[index + 1]
        return Light(b0 + (b1 - b0) * ease, w0 + (w1 - w0) * ease)


@dataclass
class SampleFrames:
    """The frames a person should look at: a straight, a bend, the darkest and the brightest."""

    picks: dict[str, tuple[float, dict[str, bytes]]] = field(default_factory=dict)

    def offer(self, name: str, score: float, jpegs: dict[str, bytes]) -> None:
        if name not in self.picks or score > self.picks[name][0]:
            self.picks[name] = (score, jpegs)

    def rows(self) -> list[tuple[str, dict[str, bytes]]]:
        order = ["straight", "bend", "dark", "bright"]
        return [(name, self.picks[name][1]) for name in order if name in self.picks]


@dataclass(frozen=True)
class _Frame:
    """One recorded frame before it is drawn: what the expert did and what the cameras will see."""

    clock_s: float
    state: VehicleState
    light: Light
    command: ExpertCommand
    cross_track_m: float
    curvature_ahead: float | None     # on the first track at cruising speed: for the straight and bend samples


TrackSpec = tuple[int | str, dict, str | None]      # (seed or name, make_track's params, look): a renderer's input
_worker_renderer: tuple[TrackSpec, Renderer] | None = None


def _draw_cameras(job: tuple[TrackSpec, VehicleState, Light]) -> dict[str, bytes]:
    """In a worker: the three cameras' JPEGs of one frame (the track's renderer built on its first frame)."""
    global _worker_renderer
    spec, state, light = job
    if _worker_renderer is None or _worker_renderer[0] != spec:
        track_seed, track_params, look = spec
        _worker_renderer = (spec, Renderer(make_track(track_seed, **track_params), look=look))
    return draw_cameras(_worker_renderer[1], state, light)


def draw_cameras(renderer: Renderer, state: VehicleState, light: Light) -> dict[str, bytes]:
    """The three cameras' JPEGs of one frame."""
    return {camera: encode_jpeg(renderer.render(state, camera, light)) for camera in CAMERAS}


def record_session(writer: RecordingWriter, settings: SessionSettings, seed: int,
                   on_frame: Callable[[int], None] | None = None, workers: int = 1) -> tuple[dict, SampleFrames]:
    """Drive and record every track of `settings`; returns (summary for metrics, sample frames).

    Each track is driven first (the expert, the physics and the light: cheap), then its frames are
    drawn, by `workers` processes when more than one (drawing is the cost: a hill track's frame takes
    several times a flat one's); the bytes do not depend on `workers`.
    """
    rng = np.random.default_rng(seed)
    light = LightSchedule(np.random.default_rng([seed, 1]), settings.brightness, settings.warmth,
                          settings.light_period_s)
    samples = SampleFrames()
    summary: dict = {"frames": 0, "tracks": [], "interventions": 0}
    clock_s = 0.0
    tracks: list[TrackSpec] = [(seed, settings.track_params, None) for seed in settings.track_seeds]
    tracks += [(seed, {**settings.track_params, **settings.hill_track_params}, settings.hill_track_look)
               for seed in settings.hill_track_seeds]
    pool = worker_pool(workers) if workers > 1 else None
    try:
        for track_number, spec in enumerate(tracks):
            track_seed, track_params, look = spec
            track = make_track(track_seed, **track_params)
            expert = Expert(track, settings.set_speed_mph,
                            drift=DriftSchedule(rng, track.half_width_m, settings.drift))
            episode = Episode(track, start_state(track), settings.step_s, settings.physics)
            frames: list[_Frame] = []
            while episode.progress_laps < settings.laps_per_track:
                state = episode.state
                command = expert.command(state, settings.step_s)
                curvature_ahead = None
                if track_number == 0 and state.speed_mph > 0.8 * settings.set_speed_mph:
                    curvature_ahead = float(np.mean([
                        abs(track.nearest(*state.point_ahead(ahead_m), hint_index=episode.point.index).curvature_per_m)
                        for ahead_m in (5.0, 15.0, 25.0, 35.0)]))
                frames.append(_Frame(clock_s, state, light.at(clock_s), command, episode.point.cross_track_m,
                                     curvature_ahead))
                episode.advance(command.executed)
                clock_s += settings.step_s
            if pool is None:
                renderer = Renderer(track, look=look)
                drawn = (draw_cameras(renderer, frame.state, frame.light) for frame in frames)
            else:
                drawn = pool.imap(_draw_cameras, [(spec, frame.state, frame.light) for frame in frames], chunksize=8)
            for frame, jpegs in zip(frames, drawn):
                label = frame.command.label
                writer.write(frame.clock_s, jpegs, label.steering, frame.command.executed.throttle,
                             frame.command.executed.brake, frame.state.speed_mph)
                if frame.curvature_ahead is not None:
                    off_line = 0 if abs(frame.cross_track_m) < 0.4 else 1
                    samples.offer("straight", -frame.curvature_ahead - off_line, jpegs)
                    samples.offer("bend", frame.curvature_ahead - off_line, jpegs)
                samples.offer("dark", -frame.light.brightness, jpegs)
                samples.offer("bright", frame.light.brightness, jpegs)
                summary["frames"] += 1
                if on_frame is not None:
                    on_frame(summary["frames"])
            clock_s += settings.pause_between_tracks_s
            labels = np.array([frame.command.label.steering for frame in frames])
            summary["interventions"] += episode.interventions
            summary["tracks"].append({
                "track_seed": track_seed, "length_m": round(track.length_m, 2), "frames": len(frames),
                "interventions": episode.interventions,
                "mean_abs_cross_track_m": round(float(np.mean([abs(frame.cross_track_m) for frame in frames])), 4),
                "mean_abs_steering": round(float(np.mean(np.abs(labels))), 4),
                "max_abs_steering": round(float(np.max(np.abs(labels))), 4),
            })
    finally:
        if pool is not None:
            pool.terminate()
    return summary, samples
