"""The closed-loop client against a small server written in the test to the simulator's protocol."""
from __future__ import annotations

import json

import pytest

from pilot.sim.camera import Renderer
from pilot.sim.client import ClosedLoopClient, ClosedLoopSettings, frame_interval_s, read_steer
from pilot.sim.expert import ExpertSpeed, pure_pursuit_steering
from pilot.sim.track import generate_track
from pilot.sim.vehicle import CarPhysics
from pilot.sim.wire import WireError
from pilot.udacity.numbers import format_n4

from .conftest import steer_packet


@pytest.fixture(scope="module")
def world():
    track = generate_track(5, length_m=320.0, max_curvature_per_m=0.05)
    return track, Renderer(track)


def expert_server(protocol_server, track, holder: dict, comma: bool = False, steering_override=None):
    """Answers each telemetry with the expert's steering for the state behind it (FIFO, so deterministic)."""
    speed = ExpertSpeed(15.0)
    count = {"telemetry": 0}

    def reply(data: dict) -> list[str]:
        state = holder["client"].telemetry_states[count["telemetry"]]
        count["telemetry"] += 1
        if state is None:                                   # manual mode: `{}` is answered with `manual`
            assert data == {}
            return ['42["manual",{}]']
        assert set(data) == {"steering_angle", "throttle", "speed", "image"}
        assert all(isinstance(value, str) for value in data.values())
        assert ("," in data["speed"]) == comma
        steering = pure_pursuit_steering(track, state) if steering_override is None else steering_override
        throttle, brake = speed.update(state.speed_mph, 0.1)
        return [steer_packet(format_n4(steering, comma), format_n4(throttle - brake, comma))]

    return protocol_server(reply)


def test_client_laps_with_full_autonomy_behind_the_expert(protocol_server, world) -> None:
    track, renderer = world
    holder: dict = {}
    server = expert_server(protocol_server, track, holder)
    client = ClosedLoopClient(track, ClosedLoopSettings(port=server.port, laps=1.0, manual_steps=3), renderer)
    holder["client"] = client
    result = client.run()
    metrics = result.metrics
    assert metrics["laps"] == 1 and metrics["interventions"] == 0 and metrics["autonomy_pct"] == 100.0
    assert metrics["max_abs_cross_track_m"] < 1.0
    assert 10.0 < metrics["mean_speed_mph"] < 16.0
    assert metrics["steps"] == len(result.records)
    # lock-step: the two opening telemetries plus one per step but the last
    assert len(server.received) == metrics["steps"] + 1
    assert server.received[:3] == ['42["telemetry",{}]'] * 3     # manual mode first
    assert not any(text.startswith("40") for text in server.received)


def test_client_is_deterministic_and_reads_comma_decimals(protocol_server, world, tmp_path) -> None:
    track, renderer = world
    runs = []
    for comma in (False, True):
        holder: dict = {}
        server = expert_server(protocol_server, track, holder, comma=comma)
        settings = ClosedLoopSettings(port=server.port, laps=0.1, decimal_comma=comma,
                                      ping_interval_s=0.0 if comma else 25.0)
        client = ClosedLoopClient(track, settings, renderer, frames_dir=tmp_path / f"frames{comma}")
        holder["client"] = client
        runs.append(client.run())
    assert [r.__dict__ for r in runs[0].records] == [r.__dict__ for r in runs[1].records]   # pings change nothing
    assert server.received.count("2") == runs[1].metrics["steps"] - 1      # its own ping after each telemetry
    frames = sorted((tmp_path / "framesTrue").glob("frame_*.jpg"))
    assert len(frames) == runs[1].metrics["steps"] and frames[0].read_bytes()[:2] == b"\xff\xd8"


def test_leaving_the_road_is_an_intervention(protocol_server, world) -> None:
    track, renderer = world
    holder: dict = {}
    server = expert_server(protocol_server, track, holder, steering_override=1.0)   # full right lock, always
    client = ClosedLoopClient(track, ClosedLoopSettings(port=server.port, laps=1.0, max_time_s=30.0), renderer)
    holder["client"] = client
    result = client.run()
    metrics = result.metrics
    assert metrics["interventions"] >= 3
    assert metrics["autonomy_pct"] == pytest.approx(max(0.0, 100 * (1 - metrics["interventions"] * 6 / 30.0)))
    flagged = [r for r in result.records if r.intervention]
    assert all(r.cross_track_m < -2.0 for r in flagged)          # off to the right, where it steers
    after = result.records[result.records.index(flagged[0]) + 1]
    assert abs(after.cross_track_m) < 1.0                         # put back near the centre line


def test_steer_values_must_be_strings_as_the_simulator_requires() -> None:
    assert read_steer({"steering_angle": "2", "throttle": "-0,5"}).steering == 1.0          # clamped
    assert read_steer({"steering_angle": "-0.25", "throttle": "-0,5"}).brake == 0.5         # negative brakes
    with pytest.raises(WireError, match="strings"):
        read_steer(json.loads('{"steering_angle": 0.1, "throttle": "0.3"}'))
    with pytest.raises(WireError):
        read_steer({"steering_angle": "left", "throttle": "0.3"})


def drive_behind_the_expert(protocol_server, world, **settings) -> dict:
    track, renderer = world
    holder: dict = {}
    server = expert_server(protocol_server, track, holder)
    client = ClosedLoopClient(track, ClosedLoopSettings(port=server.port, laps=1.0, **settings), renderer)
    holder["client"] = client
    return client.run().metrics


def test_latency_makes_the_same_driver_wander_more(protocol_server, world) -> None:
    prompt = drive_behind_the_expert(protocol_server, world, latency_s=0.0)
    late = drive_behind_the_expert(protocol_server, world, latency_s=0.3)
    assert late["mean_abs_cross_track_m"] > 1.5 * prompt["mean_abs_cross_track_m"]
    assert late["steering_jitter_per_s"] > prompt["steering_jitter_per_s"]
    assert late["mean_frame_interval_s"] == pytest.approx(0.3, abs=1e-3)        # rounded to 0.1 ms
    assert prompt["mean_frame_interval_s"] == pytest.approx(1 / 30, abs=1e-3)  # a reply waits for the next frame


def test_too_little_grip_for_the_bends_runs_the_car_wide(protocol_server, world) -> None:
    gripping = drive_behind_the_expert(protocol_server, world, physics=CarPhysics(lateral_grip_mps2=7.0))
    sliding = drive_behind_the_expert(protocol_server, world, physics=CarPhysics(lateral_grip_mps2=1.0))
    assert gripping["interventions"] == 0
    assert sliding["max_abs_cross_track_m"] > 2 * gripping["max_abs_cross_track_m"]


@pytest.mark.parametrize("render_period_s", [1 / 30, 0.0333333])     # the second as params.yaml writes it
def test_a_latency_of_whole_frames_is_not_rounded_up_to_one_more(render_period_s: float) -> None:
    settings = ClosedLoopSettings(render_period_s=render_period_s)
    assert frame_interval_s(settings, 0.1) == pytest.approx(3 * render_period_s)
    assert frame_interval_s(settings, 0.11) == pytest.approx(4 * render_period_s)
    assert frame_interval_s(settings, 0.0) == pytest.approx(render_period_s)
