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

from pilot.sim.camera import Light, Renderer, encode_jpeg
from pilot.sim.episode import Episode, start_state
from pilot.sim.expert import DriftSchedule, DriftSettings, Expert
from pilot.sim.track import make_track
from pilot.sim.vehicle import CarPhysics
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


def record_session(writer: RecordingWriter, settings: SessionSettings, seed: int,
                   on_frame: Callable[[int], None] | None = None) -> tuple[dict, SampleFrames]:
    """Drive and record every track of `settings`; returns (summary for metrics, sample frames)."""
    rng = np.random.default_rng(seed)
    light = LightSchedule(np.random.default_rng([seed, 1]), settings.brightness, settings.warmth,
                          settings.light_period_s)
    samples = SampleFrames()
    summary: dict = {"frames": 0, "tracks": [], "interventions": 0}
    clock_s = 0.0
    tracks = [(seed, settings.track_params, None) for seed in settings.track_seeds]
    tracks += [(seed, {**settings.track_params, **settings.hill_track_params}, settings.hill_track_look)
               for seed in settings.hill_track_seeds]
    for track_number, (track_seed, track_params, look) in enumerate(tracks):
        track = make_track(track_seed, **track_params)
        renderer = Renderer(track, look=look)
        expert = Expert(track, settings.set_speed_mph, drift=DriftSchedule(rng, track.half_width_m, settings.drift))
        episode = Episode(track, start_state(track), settings.step_s, settings.physics)
        labels, errors = [], []
        while episode.progress_laps < settings.laps_per_track:
            state = episode.state
            command = expert.command(state, settings.step_s)
            frame_light = light.at(clock_s)
            jpegs = {camera: encode_jpeg(renderer.render(state, camera, frame_light)) for camera in CAMERAS}
            label = command.label
            writer.write(clock_s, jpegs, label.steering, command.executed.throttle, command.executed.brake,
                         state.speed_mph)
            if track_number == 0 and state.speed_mph > 0.8 * settings.set_speed_mph:
                curvature_ahead = float(np.mean([abs(track.nearest(*state.point_ahead(ahead_m),
                                                                   hint_index=episode.point.index).curvature_per_m)
                                                 for ahead_m in (5.0, 15.0, 25.0, 35.0)]))
                centred = abs(episode.point.cross_track_m) < 0.4
                samples.offer("straight", -curvature_ahead - (0 if centred else 1), jpegs)
                samples.offer("bend", curvature_ahead - (0 if centred else 1), jpegs)
            samples.offer("dark", -frame_light.brightness, jpegs)
            samples.offer("bright", frame_light.brightness, jpegs)
            labels.append(label.steering)
            errors.append(abs(episode.point.cross_track_m))
            episode.advance(command.executed)
            clock_s += settings.step_s
            summary["frames"] += 1
            if on_frame is not None:
                on_frame(summary["frames"])
        clock_s += settings.pause_between_tracks_s
        summary["interventions"] += episode.interventions
        summary["tracks"].append({
            "track_seed": track_seed, "length_m": round(track.length_m, 2), "frames": len(labels),
            "interventions": episode.interventions,
            "mean_abs_cross_track_m": round(float(np.mean(errors)), 4),
            "mean_abs_steering": round(float(np.mean(np.abs(labels))), 4),
            "max_abs_steering": round(float(np.max(np.abs(labels))), 4),
        })
    return summary, samples
