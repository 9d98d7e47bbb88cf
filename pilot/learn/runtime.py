"""Which runtime serves a model: LiteRT where it steers as Keras does, Keras otherwise.

`--runtime auto` (the drive server's default) loads the model through the one loader
(pilot.learn.model_file), then looks for its LiteRT twin: the `.tflite` beside a `.keras`
(the train stage writes one), else a conversion cached under the cache folder (named by a
hash of the model file's bytes, so an edited file is converted again), else it converts once
and caches. The twin serves only if its steering on PROBE_FRAMES camera-like frames matches
the Keras model's within PROBE_TOLERANCE; otherwise, or if the model does not convert, Keras
serves, and the note says why. `keras` and `litert` force one runtime (a `.tflite` path with
`litert` is served as it is, with no Keras model beside it).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pilot.atomic import write_atomic
from pilot.imaging import CAMERA_FRAME_SHAPE
from pilot.learn.litert import LITERT_SUFFIX, LiteRTLoadError, LiteRTPredictor, load_litert_predictor
from pilot.learn.model_file import TRUST_FLAG, LoadedModel, ModelFileError, check_model_file, load_model_file
from pilot.stage_io import MODEL_FILE_EXIT_CODE, exit_with

RUNTIMES = ("auto", "keras", "litert")
INFERENCES = ("fast", "seed")
PROBE_FRAMES = 8
PROBE_TOLERANCE = 1e-5           # LiteRT float32 steers within ~1e-6 of Keras; more means a wrong conversion
CACHE_ENV = "PILOT_CACHE_DIR"    # overrides the cache folder (tests point it at a temporary one)


@dataclass(frozen=True)
class ServedModel:
    """The predictor a server or a replay drives with, and the line that says what serves."""
    predictor: object                 # FastPredictor, SeedStylePredictor or LiteRTPredictor (FlipAveragedPredictor
                                      # around one with flip_average)
    loaded: LoadedModel | None        # None when a .tflite file is served as it is
    runtime: str                      # "keras" or "litert"
    threads: int
    note: str                         # why this runtime, for the start-up line

    @property
    def keras_model(self):
        return self.loaded.model if self.loaded else None

    def line(self) -> str:
        plural = "s" if self.threads != 1 else ""
        return f"runtime {self.runtime} ({self.threads} thread{plural}): {self.note}"


def flip_average_setting(value: object, section: str) -> bool:
    """params.yaml's `section.flip_average` as a bool; ValueError with one sentence for anything but true or false."""
    if not isinstance(value, bool):
        raise ValueError(f"params.yaml's {section}.flip_average must be true or false, got {value!r}.")
    return value


def default_cache_dir() -> Path:
    """$PILOT_CACHE_DIR, else $XDG_CACHE_HOME/pilot, else ~/.cache/pilot."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pilot"


def probe_frames(count: int = PROBE_FRAMES) -> list[np.ndarray]:
    """Camera-like RGB frames (sky, verges, a road bending left or right, seeded noise): the same every run."""
    height, width, _ = CAMERA_FRAME_SHAPE
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    horizon = 0.4 * height
    frames = []
    for index in range(count):
        rng = np.random.default_rng(index)
        image = np.empty((height, width, 3))
        image[:] = rng.uniform(150, 230, 3) * np.array([0.7, 0.85, 1.0])              # sky
        below = np.clip((rows - horizon) / (height - horizon), 0.0, 1.0)[..., None]
        ground = rows >= horizon
        image[ground] = (rng.uniform(60, 110, 3) * np.array([0.9, 1.3, 0.7]))        # verges
        centre = width / 2 + rng.uniform(-80, 80) * below[..., 0] ** 2 + rng.uniform(-30, 30) * below[..., 0]
        road = ground & (np.abs(cols - centre) < 8 + 150 * below[..., 0])
        image[road] = rng.uniform(90, 140)
        image *= rng.uniform(0.6, 1.2)                                                 # light
        frames.append(np.clip(image + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8))
    return frames


def steering_difference(first, second, frames: list[np.ndarray]) -> float:
    """The largest |steering difference| of two predictors over `frames`."""
    return max(abs(first.predict_rgb(frame) - second.predict_rgb(frame)) for frame in frames)


def litert_twin(model_path: Path) -> Path:
    """The .tflite the train stage writes beside a .keras."""
    return model_path.with_suffix(LITERT_SUFFIX)


def cached_litert_path(model_path: Path, cache_dir: Path) -> Path:
    """Where a model file's conversion is cached: named by the hash of its bytes and of TensorFlow's version."""
    import tensorflow as tf

    digest = hashlib.sha256(model_path.read_bytes())
    digest.update(f"tensorflow {tf.__version__} float32".encode())
    return cache_dir / "litert" / f"{model_path.stem}-{digest.hexdigest()[:20]}{LITERT_SUFFIX}"


def _litert_version(loaded: LoadedModel, keras_predictor, cache_dir: Path, threads: int,
                    frames: list[np.ndarray]) -> tuple[LiteRTPredictor | None, float | None, str]:
    """LiteRT for `loaded`: (predictor, its largest steering difference to Keras on `frames`, where from).

    A twin or cached file that does not steer as Keras does is stale and passed over; a fresh
    conversion is cached only when it does. (None, None, why) when the model does not convert.
    """
    from pilot.learn.litert import convert_to_litert

    twin, cached = litert_twin(loaded.path), cached_litert_path(loaded.path, cache_dir)
    for candidate, origin in ((twin, f"the train stage's {twin.name}"), (cached, f"cached in {cached}")):
        if candidate == loaded.path or not candidate.is_file():
            continue
        try:
            predictor = LiteRTPredictor(candidate.read_bytes(), threads, source=str(candidate))
        except LiteRTLoadError:
            continue
        if predictor.contract == loaded.contract:
            difference = steering_difference(predictor, keras_predictor, frames)
            if difference <= PROBE_TOLERANCE:
                return predictor, difference, origin
    try:
        content = convert_to_litert(loaded.model, contract=loaded.contract)
        predictor = LiteRTPredictor(content, threads, source=f"the conversion of {loaded.path.name}")
    except Exception as exc:   # noqa: BLE001  the converter raises many kinds; each means "serve on Keras"
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        return None, None, f"LiteRT could not convert it ({reason})"
    difference = steering_difference(predictor, keras_predictor, frames)
    if difference > PROBE_TOLERANCE:
        return predictor, difference, "converted (not cached: it does not steer as Keras does)"
    try:
        write_atomic(cached, content)
        origin = f"converted once and cached in {cached}"
    except OSError as error:
        origin = f"converted (not cached: {error.strerror or error})"
    return predictor, difference, origin


def serve_model(path: str | Path, runtime: str = "auto", keras_threads: int = 1, litert_threads: int = 2,
                trust_model_code: bool = False, cache_dir: Path | None = None,
                inference: str = "fast", flip_average: bool = False) -> ServedModel:
    """Load the model at `path` for serving; ModelFileError or LiteRTLoadError (one sentence) if it can't be.

    `flip_average`: steer with the mean of the frame's steering and its mirror's, sign turned back
    (pilot.learn.predictors.FlipAveragedPredictor), on whichever runtime serves.
    """
    served = _serve_one_view(path, runtime, keras_threads, litert_threads, trust_model_code, cache_dir, inference)
    if not flip_average:
        return served
    from pilot.learn.predictors import FlipAveragedPredictor

    return replace(served, predictor=FlipAveragedPredictor(served.predictor),
                   note=f"{served.note}; flip_average: the mean of the frame's and its mirror's steering")


def _serve_one_view(path: str | Path, runtime: str, keras_threads: int, litert_threads: int,
                    trust_model_code: bool, cache_dir: Path | None, inference: str) -> ServedModel:
    """serve_model's predictor for one view of a frame."""
    from pilot.learn.predictors import FastPredictor, SeedStylePredictor, limit_inference_threads

    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime '{runtime}': use one of {', '.join(RUNTIMES)}")
    if inference not in INFERENCES:
        raise ValueError(f"unknown inference '{inference}': use one of {', '.join(INFERENCES)}")
    path = Path(path)
    if runtime == "litert" and path.suffix.lower() == LITERT_SUFFIX:
        predictor = load_litert_predictor(path, litert_threads)
        return ServedModel(predictor, None, "litert", litert_threads,
                           f"{path.name} as it is (not checked against Keras)")
    if inference == "fast":                   # the seed path keeps TensorFlow's defaults, as the seed ran
        limit_inference_threads(keras_threads)
    loaded = load_model_file(path, trust_model_code)
    if inference == "seed":
        if loaded.contract.name != "seed":
            raise ValueError("--inference seed is the seed's preprocessing path: it serves 66x200x3 models only")
        return ServedModel(SeedStylePredictor(loaded.model), loaded, "keras", keras_threads,
                           "the seed's per-frame model.predict (benchmarks only)")
    keras_predictor = FastPredictor(loaded.model, loaded.contract)
    if runtime == "keras":
        return ServedModel(keras_predictor, loaded, "keras", keras_threads, "as asked (--runtime keras)")
    frames = probe_frames()
    litert, difference, origin = _litert_version(loaded, keras_predictor, cache_dir or default_cache_dir(),
                                                 litert_threads, frames)
    if litert is None:
        if runtime == "litert":
            raise LiteRTLoadError(f"{path.name} cannot be served on LiteRT: {origin}; drop --runtime litert "
                                  f"to serve it on Keras.")
        return ServedModel(keras_predictor, loaded, "keras", keras_threads, f"not LiteRT: {origin}")
    agreement = f"steers within {difference:.1e} of Keras on {len(frames)} probe frames"
    if difference <= PROBE_TOLERANCE:
        return ServedModel(litert, loaded, "litert", litert_threads, f"{origin}; {agreement}")
    if runtime == "litert":
        return ServedModel(litert, loaded, "litert", litert_threads,
                           f"as asked (--runtime litert), though it {agreement.replace('within', 'up to')}")
    return ServedModel(keras_predictor, loaded, "keras", keras_threads,
                       f"not LiteRT: its conversion steers up to {difference:.1e} away from Keras on "
                       f"{len(frames)} probe frames (over {PROBE_TOLERANCE:.0e})")


def load_stage_model(stage: str, path: str | Path, trust_model_code: bool = False, runtime: str = "keras",
                     keras_threads: int = 1, litert_threads: int = 2, inference: str = "fast",
                     flip_average: bool = False) -> ServedModel:
    """serve_model for a stage script: says what it loaded, or exits with one sentence (code 2) if it can't.

    Every stage that takes a model file (drive, replay, evaluate, road_test) accepts and refuses the
    same files with the same sentences through this one function.
    """
    if trust_model_code:
        print(f"{stage}: {TRUST_FLAG}: code stored in {Path(path).name} will run if it has any.", flush=True)
    try:
        if not (runtime == "litert" and Path(path).suffix.lower() == LITERT_SUFFIX):
            check_model_file(path, trust_model_code)            # the refusals that need no TensorFlow first
        served = serve_model(path, runtime, keras_threads, litert_threads, trust_model_code, inference=inference,
                             flip_average=flip_average)
    except (ModelFileError, LiteRTLoadError, ValueError) as error:
        exit_with(stage, str(error), MODEL_FILE_EXIT_CODE)
    if served.loaded is not None:
        print(f"{stage}: {served.loaded.description}", flush=True)
    return served
