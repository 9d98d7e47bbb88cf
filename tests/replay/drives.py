"""Recorded drives for the replay tests, made in memory by the headless simulator.

The expert drives a generated track with no drift; each frame keeps the expert's steering
and speed (what a recording keeps) and the true rear-axle pose (what it does not), and
the three cameras are rendered on demand. The renderer draws the simulator's rig and car,
so the replay's defaults (CameraRig(), CarGeometry()) describe it exactly.
`CopyHuman` is a stand-in model that answers the recorded steering.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from pilot.replay.reference import CarGeometry
from pilot.sim.camera import Renderer
from pilot.sim.episode import Episode, start_state
from pilot.sim.expert import DriftSchedule, Expert
from pilot.sim.track import Track, generate_track, named_track
from pilot.sim.vehicle import CarPhysics, VehicleState
from pilot.udacity.camera_rig import CameraRig
from pilot.udacity.simulator import REAR_AXLE_BEHIND_ROOT_M, WHEELBASE_M

HEADLESS_RIG = CameraRig()          # the renderer draws the simulator's rig, mount yaw and roll included
HEADLESS_CAR = CarGeometry(wheelbase_m=WHEELBASE_M, rear_axle_behind_root_m=REAR_AXLE_BEHIND_ROOT_M)
assert HEADLESS_CAR == CarGeometry()   # the replay's default car is the renderer's


def moved_state(state: VehicleState, left_m: float, yaw_deg: float) -> VehicleState:
    """The same rear axle shifted left_m to the left and turned yaw_deg to the left."""
    return VehicleState(state.x_m - left_m * math.sin(state.yaw_rad), state.y_m + left_m * math.cos(state.yaw_rad),
                        state.yaw_rad + math.radians(yaw_deg), state.speed_mps)


def moved_camera_m(left_m: float, yaw_deg: float, camera: str = "center") -> tuple[float, float]:
    """Where moved_state's camera is, in the unmoved car's frame (metres ahead of and left of its root)."""
    behind_m = HEADLESS_CAR.rear_axle_behind_root_m
    ahead_m, aside_m = HEADLESS_RIG.camera_position_m(camera)
    yaw = math.radians(yaw_deg)
    along_m = behind_m + ahead_m
    return (-behind_m + along_m * math.cos(yaw) - aside_m * math.sin(yaw),
            left_m + along_m * math.sin(yaw) + aside_m * math.cos(yaw))


@dataclass
class Drive:
    """A recorded drive: what the log holds, the true poses, and the track to render the frames on."""

    track: Track
    time_s: np.ndarray
    steering: np.ndarray
    speed_mph: np.ndarray
    states: list[VehicleState]
    rendered: dict[tuple[int, str], np.ndarray] = field(default_factory=dict)

    @cached_property
    def renderer(self) -> Renderer:
        """Built on first use (about a second)."""
        return Renderer(self.track)

    def frame(self, index: int, camera: str) -> np.ndarray:
        """The recorded camera's frame (rendered once, then kept)."""
        key = (index, camera)
        if key not in self.rendered:
            self.rendered[key] = self.renderer.render(self.states[index], camera)
        return self.rendered[key]

    def view_from(self, state: VehicleState) -> np.ndarray:
        """What the centre camera truly sees from any pose."""
        return self.renderer.render(state, "center")


def expert_drive(track_seed: int | str = 7, frames: int = 150, step_s: float = 0.1, speed_mph: float = 17.0,
                 warm_up_s: float = 8.0, start_m: float = 0.0, drift_seed: int | None = None) -> Drive:
    """The expert on a generated (curvy) track, or a named one ('lake'), recorded after it has reached its speed.

    With `drift_seed` it wanders across its lane as a human does (the recorded steering is what it executed)."""
    track = named_track(track_seed) if isinstance(track_seed, str) else generate_track(track_seed)
    drift = None if drift_seed is None else DriftSchedule(np.random.default_rng(drift_seed), track.half_width_m)
    expert = Expert(track, speed_mph, drift=drift)
    # ideal physics in one step per frame: the bicycle model the reference path integrates, exactly
    episode = Episode(track, start_state(track, start_m), step_s,
                      CarPhysics(physics_step_s=step_s, max_steer_rate_per_s=None, lateral_grip_mps2=None))
    for _ in range(int(round(warm_up_s / step_s))):
        episode.advance(expert.command(episode.state, step_s).executed)
    states, steering, speed = [], [], []
    for _ in range(frames):
        state = episode.state
        command = expert.command(state, step_s).executed
        states.append(state)
        steering.append(command.steering)
        speed.append(state.speed_mph)
        episode.advance(command)
    assert episode.interventions == 0
    return Drive(track, np.arange(frames) * step_s, np.array(steering), np.array(speed), states)


class CopyHuman:
    """A 'model' that answers the recorded steering, `lead_frames` ahead (to cancel a latency)."""

    def __init__(self, steering: np.ndarray, lead_frames: int = 0) -> None:
        self.steering, self.lead_frames, self.calls = steering, lead_frames, 0
        self.inputs: list[np.ndarray] = []

    def __call__(self, view_rgb: np.ndarray) -> float:
        self.inputs.append(view_rgb)
        answer = self.steering[min(self.calls + self.lead_frames, len(self.steering) - 1)]
        self.calls += 1
        return float(np.float32(answer))
