"""Closed-loop replay on recorded drives: perfect copies score 100 %, a model that never steers is taken over."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pilot.imaging import preprocess
from pilot.replay.geometry import apply_homography, ground_homography, synthesise_view
from pilot.replay.loop import ReplaySettings, ReplayTooShort, VirtualCar, nearest_camera, replay_recording
from pilot.replay.reference import CarGeometry
from pilot.replay.result import overall_summary
from pilot.scoring import autonomy_pct
from pilot.sim.vehicle import VehicleState
from tests.replay.drives import HEADLESS_CAR, HEADLESS_RIG, CopyHuman, Drive, expert_drive, moved_camera_m, moved_state

IDEAL = ReplaySettings(latency_s=0.0, steering_rate_per_s=None)


def always_zero(view_rgb: np.ndarray) -> float:
    return 0.0


@pytest.fixture(scope="module")
def curvy_drive() -> Drive:
    return expert_drive(track_seed=7, frames=150)          # 15 s at 17 mph on a generated circuit


def replay(drive: Drive, model, settings: ReplaySettings = ReplaySettings(), name: str = "curvy"):
    return replay_recording(name, drive.time_s, drive.steering, drive.speed_mph, drive.frame, model,
                            HEADLESS_RIG, HEADLESS_CAR, settings)


def test_a_model_that_copies_the_human_scores_100_percent(curvy_drive: Drive) -> None:
    assert np.abs(curvy_drive.steering).max() > 0.15
    result = replay(curvy_drive, CopyHuman(curvy_drive.steering), IDEAL)
    summary = result.summary()
    assert summary["interventions"] == 0 and summary["autonomy_percent"] == 100.0
    assert summary["frames_replayed"] == 150 and summary["max_abs_offset_m"] < 1e-6
    assert {record.camera for record in result.records} == {"center"}


def test_copying_the_human_ahead_by_the_latency_scores_100_percent_with_default_physics(curvy_drive: Drive) -> None:
    settings = ReplaySettings()                               # 0.1 s latency = one frame here, 2.5 /s rate limit
    result = replay(curvy_drive, CopyHuman(curvy_drive.steering, lead_frames=1), settings)
    assert result.interventions == 0 and result.summary()["autonomy_percent"] == 100.0
    assert max(abs(record.offset_m) for record in result.records) < 0.05
    late = replay(curvy_drive, CopyHuman(curvy_drive.steering), settings)          # one frame late: it drifts
    assert max(abs(record.offset_m) for record in late.records) > 0.1


def test_a_model_that_never_steers_is_taken_over_on_a_curvy_drive(curvy_drive: Drive) -> None:
    result = replay(curvy_drive, always_zero)
    summary = result.summary()
    assert summary["interventions"] >= 3 and summary["autonomy_percent"] < 100.0
    hits = [record for record in result.records if record.intervention]
    assert all(abs(record.offset_m) > 1.0 or abs(record.heading_error_deg) > 30 for record in hits)
    after = [result.records[result.records.index(hit) + 1] for hit in hits if hit is not result.records[-1]]
    assert all(abs(record.offset_m) < 0.3 for record in after)            # put back on the reference, then on again
    assert {"left", "right"} & {record.camera for record in result.records}    # far off: a side camera is nearer
    assert summary["autonomy_percent"] == pytest.approx(autonomy_pct(summary["interventions"], 14.9))


def test_the_model_sees_the_synthesised_camera_view(curvy_drive: Drive) -> None:
    """The view as the camera would see it: the model's predictor prepares its own input, as when driving."""
    model = CopyHuman(curvy_drive.steering)
    result = replay(curvy_drive, model, IDEAL)
    first = model.inputs[0]
    assert first.shape == (160, 320, 3) and first.dtype == np.uint8
    assert np.array_equal(first, curvy_drive.frame(0, "center"))     # on the reference: the recorded frame itself
    assert len(model.inputs) == len(result.records)


def test_a_recording_too_short_to_replay_gets_one_sentence(curvy_drive: Drive) -> None:
    time_s = np.cumsum([0.0, 0.076, 0.069, 0.079, 0.084, 0.147, 0.14, 0.069, 0.087, 0.138, 0.086, 0.15, 0.143, 0.157,
                        0.142, 0.149, 0.068])                 # the real sample's 17 frames: 1.8 s
    count = len(time_s)
    for speed_mph, expected in ((12.0, "its longest run of frames at most 0.5 s apart at 2 mph or more is 1.8 s "
                                       "(17 frames), and replay needs 3 s"),
                                (0.001, "the car never drives at 2 mph or more in it, and replay needs 3 s")):
        with pytest.raises(ReplayTooShort) as caught:
            replay_recording("my run", time_s, np.zeros(count), np.full(count, speed_mph), curvy_drive.frame,
                             always_zero, HEADLESS_RIG, HEADLESS_CAR)
        message = str(caught.value)
        assert "\n" not in message and message.count(". ") == 0 and message.endswith(".")
        assert message.startswith("recording 'my run' cannot be replayed: ") and expected in message


def test_stretches_too_short_and_standing_frames_are_left_out_and_counted(curvy_drive: Drive) -> None:
    time_s = curvy_drive.time_s.copy()
    time_s[120:] += 5.0                                         # a pause: frames 120..149 are a 2.9 s stretch
    speed_mph = curvy_drive.speed_mph.copy()
    speed_mph[50:55] = 1.0                                      # standing: frames 50..54 split the first stretch
    result = replay_recording("paused", time_s, curvy_drive.steering, speed_mph, curvy_drive.frame,
                              CopyHuman(np.delete(curvy_drive.steering[:120], range(50, 55))), HEADLESS_RIG,
                              HEADLESS_CAR, IDEAL)
    summary = result.summary()
    assert summary["frames_replayed"] == 115 and summary["stretches"] == 2
    assert summary["stretches_too_short"] == 1 and summary["frames_not_replayed"] == 35
    assert summary["elapsed_s"] == pytest.approx(4.9 + 6.4) and summary["interventions"] == 0
    assert [record.stretch for record in result.records] == [0] * 50 + [1] * 65
    overall = overall_summary([result, result])
    assert overall["frames_replayed"] == 230 and overall["elapsed_s"] == pytest.approx(22.6)


def test_the_virtual_car_follows_the_bicycle_model_in_closed_form() -> None:
    car = CarGeometry()
    vehicle = VirtualCar(car, 0.0, IDEAL)
    vehicle.command(0.0, -0.5)                                  # half lock left, on a straight reference
    radius_m = car.wheelbase_m / math.tan(math.radians(12.5))
    for step in range(10):
        vehicle.advance(step * 0.1, 0.1, 0.5, 0.0)
    station_m = 5.0
    heading = math.asin(station_m / radius_m)
    assert vehicle.heading_error_rad == pytest.approx(heading, rel=1e-4)
    assert vehicle.offset_m == pytest.approx(radius_m * (1 - math.cos(heading)), rel=1e-4)


def test_latency_and_rate_limit_delay_and_slow_the_wheels() -> None:
    vehicle = VirtualCar(CarGeometry(), 0.0, ReplaySettings(latency_s=0.1, steering_rate_per_s=2.5))
    vehicle.command(0.0 + 0.1, 1.0)
    seen = []
    for step in range(30):
        vehicle.advance(step * 0.02, 0.02, 0.2, 0.0)
        seen.append(vehicle.applied_steering)
    assert seen[3] == 0.0                                          # still at 0.08 s
    assert seen[5] == pytest.approx(0.05)                          # the first step after the command arrived
    assert seen[23] == pytest.approx(0.95) and seen[24] == pytest.approx(1.0)   # full lock 0.4 s later
    vehicle.reset(0.2)
    assert (vehicle.offset_m, vehicle.heading_error_rad, vehicle.applied_steering) == (0.0, 0.0, 0.2)


def test_the_heading_limit_is_what_full_lock_cannot_undo_within_a_metre() -> None:
    limit = math.degrees(ReplaySettings().heading_limit_rad(CarGeometry()))
    assert limit == pytest.approx(33.1, abs=0.1)
    stated = ReplaySettings(max_heading_error_deg=20.0)
    assert stated.heading_limit_rad(CarGeometry()) == pytest.approx(math.radians(20))


def test_the_nearest_camera_is_chosen() -> None:
    assert nearest_camera(HEADLESS_RIG, (1.0, 0.3)) == "center"     # (ahead, left) of the car's root
    assert nearest_camera(HEADLESS_RIG, (1.0, 0.7)) == "left"
    assert nearest_camera(HEADLESS_RIG, (1.0, -0.6)) == "right"


@pytest.mark.parametrize("left_m, yaw_deg", [(0.5, 0.0), (-1.0, 0.0), (0.0, 5.0), (0.3, -3.0), (-0.4, 2.0)])
def test_the_road_homography_is_the_renderers_own_pixel_map(curvy_drive: Drive, left_m: float,
                                                            yaw_deg: float) -> None:
    renderer, state = curvy_drive.renderer, curvy_drive.states[40]
    moved = moved_state(state, left_m, yaw_deg)
    rows_from_ground = np.array([[1.0, 0, 0], [0, 1, -renderer.ground_start_row], [0, 0, 1]])

    def to_texture(pose: VehicleState) -> np.ndarray:
        return renderer.ground_homography(*renderer.camera_position_m(pose), pose.yaw_rad) @ rows_from_ground

    renderer_map = np.linalg.inv(to_texture(state)) @ to_texture(moved)          # target pixel -> source pixel
    ours = ground_homography(HEADLESS_RIG, HEADLESS_RIG.camera_position_m("center"),
                             moved_camera_m(left_m, yaw_deg), math.radians(yaw_deg))
    for pixel in ((10.0, 70.0), (160.0, 80.0), (300.0, 120.0), (50.0, 134.0)):
        assert apply_homography(ours, *pixel) == pytest.approx(apply_homography(renderer_map, *pixel), abs=1e-6)


@pytest.mark.parametrize("left_m, yaw_deg", [(0.5, 0.0), (-0.5, 0.0), (0.8, 0.0), (0.0, 3.0), (0.3, -3.0), (-0.4, 2.0)])
def test_synthesised_views_show_the_model_what_the_simulator_renders_there(curvy_drive: Drive, left_m: float,
                                                                            yaw_deg: float) -> None:
    # what is left is the renderer's own texture aliasing, the nearest-pixel sky and the invented border columns
    index = 40
    truth = preprocess(curvy_drive.view_from(moved_state(curvy_drive.states[index], left_m, yaw_deg))).astype(np.int16)
    recorded = curvy_drive.frame(index, "center")
    view = synthesise_view(recorded, HEADLESS_RIG.camera_position_m("center"), moved_camera_m(left_m, yaw_deg),
                           math.radians(yaw_deg), HEADLESS_RIG)
    synthesised_error = np.abs(preprocess(view).astype(np.int16) - truth).mean()
    unmoved_error = np.abs(preprocess(recorded).astype(np.int16) - truth).mean()
    assert synthesised_error < 0.5 * unmoved_error, (synthesised_error, unmoved_error)


@pytest.mark.parametrize("source", ["left", "right"])
def test_a_side_cameras_true_render_synthesises_the_centre_cameras(curvy_drive: Drive, source: str) -> None:
    # both views are the renderer's, drawn with the simulator's full rig (each camera at its own place, the mount's
    # yaw and roll): the synthesis must move the side camera's view onto the centre one's
    index = 40
    truth = preprocess(curvy_drive.frame(index, "center")).astype(np.int16)
    recorded = curvy_drive.frame(index, source)
    view = synthesise_view(recorded, HEADLESS_RIG.camera_position_m(source), HEADLESS_RIG.camera_position_m("center"),
                           0.0, HEADLESS_RIG)
    synthesised_error = np.abs(preprocess(view).astype(np.int16) - truth).mean()
    unmoved_error = np.abs(preprocess(recorded).astype(np.int16) - truth).mean()
    assert synthesised_error < 0.25 * unmoved_error, (synthesised_error, unmoved_error)
