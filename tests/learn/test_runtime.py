"""--runtime auto: LiteRT where its conversion steers as Keras does (converted once, cached), Keras otherwise."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from pilot.data.augment import flip
from pilot.learn.litert import LiteRTLoadError, LiteRTPredictor, save_litert
from pilot.learn.predictors import FastPredictor, FlipAveragedPredictor
from pilot.learn.runtime import PROBE_TOLERANCE, cached_litert_path, flip_average_setting, probe_frames, serve_model
from pilot.udacity.camera_rig import CameraRig
from pilot.udacity.images import decode_jpeg_rgb
from tests.drive_support import camera_jpeg
from tests.keras2_h5 import write_keras2_h5
from tests.learn.field_models import no_dropout_pilotnet, relu_dropout_pilotnet, seed_pilotnet


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    return [decode_jpeg_rgb(camera_jpeg(seed)) for seed in range(5)]


def test_auto_converts_once_caches_and_then_reads_the_cache(frames, tmp_path):
    model = relu_dropout_pilotnet()
    path = write_keras2_h5(model, tmp_path / "model.h5")
    cache = tmp_path / "cache"
    first = serve_model(path, "auto", cache_dir=cache)
    assert isinstance(first.predictor, LiteRTPredictor) and first.runtime == "litert" and first.threads == 2
    cached = cached_litert_path(path, cache)
    assert cached.is_file() and f"converted once and cached in {cached}" in first.note
    second = serve_model(path, "auto", cache_dir=cache)
    assert second.note.startswith(f"cached in {cached}; steers within")
    reference = FastPredictor(model)
    for rgb in frames:
        assert abs(second.predictor.predict_rgb(rgb) - reference.predict_rgb(rgb)) <= PROBE_TOLERANCE
    assert second.keras_model is not None                      # kept for --saliency


def test_an_edited_model_file_is_converted_again(tmp_path):
    path = write_keras2_h5(seed_pilotnet(), tmp_path / "model.h5")
    before = cached_litert_path(path, tmp_path)
    write_keras2_h5(no_dropout_pilotnet(), path)
    assert cached_litert_path(path, tmp_path) != before       # named by the file's bytes


def test_the_train_stages_twin_serves_and_a_stale_one_is_passed_over(tmp_path):
    model, other = seed_pilotnet(), no_dropout_pilotnet()
    path = tmp_path / "model.keras"
    model.save(path)
    save_litert(model, tmp_path / "model.tflite")
    served = serve_model(path, "auto", cache_dir=tmp_path / "cache")
    assert served.runtime == "litert" and served.note.startswith("the train stage's model.tflite")
    save_litert(other, tmp_path / "model.tflite")              # retrained .keras, old .tflite
    served = serve_model(path, "auto", cache_dir=tmp_path / "cache")
    assert served.runtime == "litert" and served.note.startswith("converted once and cached")


def test_a_conversion_that_does_not_steer_as_keras_serves_keras(tmp_path):
    """Outputs of ~1e4 make float32 rounding differences of LiteRT's kernels exceed the 1e-5 bar."""
    keras.utils.set_random_seed(9)
    model = keras.Sequential([keras.Input((66, 200, 3)), keras.layers.Conv2D(8, 5, strides=4, activation="relu"),
                              keras.layers.Flatten(),
                              keras.layers.Dense(1, kernel_initializer=keras.initializers.Constant(1e3))])
    path = tmp_path / "loud.keras"
    model.save(path)
    served = serve_model(path, "auto", cache_dir=tmp_path / "cache")
    assert served.runtime == "keras" and isinstance(served.predictor, FastPredictor)
    assert "its conversion steers up to" in served.note and "over 1e-05" in served.note
    assert not list((tmp_path / "cache").glob("**/*.tflite"))   # a conversion that differs is never cached
    forced = serve_model(path, "litert", cache_dir=tmp_path / "cache")
    assert forced.runtime == "litert" and forced.note.startswith("as asked (--runtime litert), though it steers up to")


def test_forced_runtimes_and_a_tflite_as_it_is(tmp_path):
    model = seed_pilotnet()
    path = tmp_path / "model.keras"
    model.save(path)
    assert serve_model(path, "keras", keras_threads=1).note == "as asked (--runtime keras)"
    tflite = save_litert(model, tmp_path / "edge.tflite")
    served = serve_model(tflite, "litert", litert_threads=1)
    assert served.loaded is None and served.threads == 1 and "as it is" in served.note
    with pytest.raises(LiteRTLoadError, match="not found"):
        serve_model(tmp_path / "none.tflite", "litert")
    with pytest.raises(ValueError, match="unknown runtime 'tpu'"):
        serve_model(path, "tpu")


def test_probe_frames_are_the_same_every_run():
    first, second = probe_frames(), probe_frames()
    assert len(first) == 8 and all(np.array_equal(a, b) for a, b in zip(first, second))
    assert first[0].shape == (160, 320, 3) and len({frame.tobytes() for frame in first}) == 8


def test_flip_average_cancels_a_steady_lean_and_is_the_mean_of_the_two_views(frames, tmp_path):
    """A model that leans (its last bias moved by 0.25) steers, flip-averaged, exactly as the same model upright."""
    upright = seed_pilotnet()
    leaning = seed_pilotnet()
    kernel, bias = leaning.layers[-1].get_weights()
    leaning.layers[-1].set_weights([kernel, bias + 0.25])
    upright.save(tmp_path / "upright.keras")
    leaning.save(tmp_path / "leaning.keras")
    raw = {name: serve_model(tmp_path / f"{name}.keras", "keras") for name in ("upright", "leaning")}
    averaged = {name: serve_model(tmp_path / f"{name}.keras", "keras", flip_average=True)
                for name in ("upright", "leaning")}
    assert isinstance(averaged["leaning"].predictor, FlipAveragedPredictor)
    assert "flip_average" in averaged["leaning"].line() and "flip_average" not in raw["leaning"].line()
    rig = CameraRig()
    for rgb in frames:
        lean = raw["leaning"].predictor.predict_rgb(rgb) - raw["upright"].predictor.predict_rgb(rgb)
        assert lean == pytest.approx(0.25, abs=1e-5)
        both = [averaged[name].predictor.predict_rgb(rgb) for name in ("upright", "leaning")]
        assert both[0] == pytest.approx(both[1], abs=1e-5)
        mirrored, _ = flip(rgb, 0.0, rig)
        views = raw["upright"].predictor
        assert both[0] == pytest.approx(0.5 * (views.predict_rgb(rgb) - views.predict_rgb(mirrored)), abs=1e-6)


def test_flip_average_runs_on_litert_too(frames, tmp_path):
    path = write_keras2_h5(no_dropout_pilotnet(), tmp_path / "model.h5")
    keras_served = serve_model(path, "keras", flip_average=True)
    litert_served = serve_model(path, "auto", cache_dir=tmp_path / "cache", flip_average=True)
    assert litert_served.runtime == "litert" and isinstance(litert_served.predictor, FlipAveragedPredictor)
    for rgb in frames:
        assert litert_served.predictor.predict_rgb(rgb) == pytest.approx(
            keras_served.predictor.predict_rgb(rgb), abs=2 * PROBE_TOLERANCE)


@pytest.mark.parametrize("value", ["yes", 1, None, "true"])
def test_flip_average_must_be_true_or_false(value):
    with pytest.raises(ValueError, match=r"^params.yaml's drive.flip_average must be true or false, got"):
        flip_average_setting(value, "drive")
    assert flip_average_setting(True, "drive") is True and flip_average_setting(False, "drive") is False
