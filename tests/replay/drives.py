"""Recorded drives for the replay tests, made in memory by the headless simulator.

The expert drives a generated track with no drift; each frame keeps the expert's steering
and speed (what a recording keeps) and the true rear-axle pose (what it does not), and
the three cameras are rendered on demand. The rig and car below describe the headless
simulator's own camera and wheelbase, so the replay's geometry matches the renderer's.
`CopyHuman` is a stand-in model that answers the recorded steering.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from pilot.replay.geometry import CameraRig
from pilot.replay.reference import CarGeometry
from pilot.sim import camera as sim_camera
from pilot.sim.camera import Renderer
from pilot.sim.episode import Episode, start_state
from pilot.sim.expert import Expert
from pilot.sim.track import Track, generate_track
from pilot.sim.vehicle import WHEELBASE_M, CarPhysics, VehicleState

SIM_RIG = sim_camera.CameraRig()
HEADLESS_RIG = CameraRig(           # the renderer draws no yaw or roll of the mount
    focal_px=SIM_RIG.focal_px, centre_column_px=sim_camera.CENTRE_COLUMN_PX,
    centre_row_px=sim_camera.CENTRE_ROW_PX, height_m=SIM_RIG.height_m,
    pitch_deg=SIM_RIG.pitch_deg, yaw_deg=0.0, roll_deg=0.0,
    cameras=tuple((name, SIM_RIG.ahead_of_rear_axle_m, SIM_RIG.left_of_centre_m(name))
                  for name in ("center", "left", "right")))
HEADLESS_CAR = CarGeometry(wheelbase_m=WHEELBASE_M, rear_axle_behind_root_m=0.0)   # the sim's state is the rear axle


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


def expert_drive(track_seed: int = 7, frames: int = 150, step_s: float = 0.1, speed_mph: float = 17.0,
                 warm_up_s: float = 8.0, start_m: float = 0.0) -> Drive:
    """The clean expert on a generated (curvy) track, recorded after it has reached its speed."""
    track = generate_track(track_seed)
    expert = Expert(track, speed_mph)
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

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.inputs.append(batch)
        answer = self.steering[min(self.calls + self.lead_frames, len(self.steering) - 1)]
        self.calls += 1
        return np.array([[answer]], dtype=np.float32)
