"""One drive on a track: physics steps, lap progress, interventions and the trajectory.

Shared by the expert's recording and the closed-loop client, so both count laps and
take-overs the same way. An intervention is a wheel past the road's edge; the car is
then put back on the centre line, heading along the road, as the safety driver does
in NVIDIA's PilotNet evaluation, and the drive goes on. On a track with hills the car is
stepped on the road's grade where it is (`road_grade`); a flat track's grade is 0.
"""
from __future__ import annotations

import math

from pilot.sim.metrics import StepRecord
from pilot.sim.track import Track, TrackPoint, wrap_angle
from pilot.sim.vehicle import WHEELBASE_M, CarPhysics, Controls, VehicleState, step, wheel_positions


def start_state(track: Track, s_m: float = 0.0, speed_mps: float = 0.0) -> VehicleState:
    """The car on the centre line at arc length s, heading along the road."""
    x, y, heading = track.point_at(s_m + 0.5 * WHEELBASE_M)
    return VehicleState(x - 0.5 * WHEELBASE_M * math.cos(heading), y - 0.5 * WHEELBASE_M * math.sin(heading),
                        heading, speed_mps)


def wheels_off_road(track: Track, state: VehicleState, hint_index: int | None = None) -> bool:
    """True when any wheel is past the road's edge."""
    return any(abs(track.nearest(x, y, hint_index).cross_track_m) > track.half_width_m
               for x, y in wheel_positions(state))


class Episode:
    """Steps a vehicle on a track and keeps the books (progress, interventions, records)."""

    def __init__(self, track: Track, state: VehicleState, step_s: float, physics: CarPhysics = CarPhysics()) -> None:
        if step_s <= 0:
            raise ValueError("the time between frames must be positive")
        self.track = track
        self.state = state
        self.step_s = step_s
        self.physics = physics
        self.steps = 0
        self.time_s = 0.0
        self.interventions = 0
        self.progress_laps = 0.0
        self.records: list[StepRecord] = []
        self.point: TrackPoint = track.nearest(*state.centre_xy)

    def road_grade(self) -> float:
        """The road's rise over run along the car's heading where the car is now (0 on a flat track)."""
        if self.track.is_flat:
            return 0.0
        along = math.cos(wrap_angle(self.state.yaw_rad - self.point.heading_rad))
        return self.track.grade_at(self.point.s_m) * along

    def advance(self, controls: Controls, dt_s: float | None = None) -> VehicleState:
        """One frame's time (`dt_s`, default `step_s`, in physics sub-steps) with `controls`; returns the new state.

        A wheel past the road's edge is an intervention: the car is put back on the centre line.
        """
        dt_s = self.step_s if dt_s is None else dt_s
        state = step(self.state, controls, dt_s, self.physics, self.road_grade())
        point = self.track.nearest(*state.centre_xy, hint_index=self.point.index)
        half_length = 0.5 * self.track.length_m
        self.progress_laps += (((point.s_m - self.point.s_m + half_length) % self.track.length_m - half_length)
                               / self.track.length_m)
        intervention = wheels_off_road(self.track, state, point.index)
        self.steps += 1
        self.time_s += dt_s
        self.records.append(StepRecord(
            step=self.steps, time_s=self.time_s, x_m=state.x_m, y_m=state.y_m,
            yaw_deg=math.degrees(state.yaw_rad), speed_mph=state.speed_mph, steering=controls.steering,
            throttle=controls.throttle, brake=controls.brake, cross_track_m=point.cross_track_m,
            heading_error_deg=math.degrees(wrap_angle(state.yaw_rad - point.heading_rad)),
            progress_laps=self.progress_laps, intervention=intervention))
        if intervention:
            self.interventions += 1
            state = start_state(self.track, point.s_m, state.speed_mps)
            point = self.track.nearest(*state.centre_xy, hint_index=point.index)
        self.state, self.point = state, point
        return state
