"""The review page's Flask app: the frame list as JSON, images by index, exclusions read and saved.

The recording is read once (without decoding images, so 5,000 frames open in well under
a second); the browser fetches images lazily by frame index. Nothing in the recording is
ever written: saving touches only excluded.csv beside it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, abort, jsonify, request, send_file, send_from_directory

from pilot.udacity.exclusions import (
    ExcludedRange,
    range_problem,
    read_exclusions,
    stamp_of_frame_time,
    write_exclusions,
)
from pilot.udacity.log_reader import RecordingError, read_recording
from pilot.udacity.simulator import CAMERAS

STATIC_DIR = Path(__file__).resolve().parent / "static"
IMAGE_CACHE_S = 3600          # images of a recording never change while it is reviewed
SHOWN_CAMERAS = ("left", "center", "right")   # as a driver sees them, left to right


@dataclass(frozen=True)
class ReviewRecording:
    """One recording as the page needs it: per-frame stamps, values and image files."""

    folder: Path
    name: str
    stamps: list[str]
    values: dict[str, list[float]]
    images: list[dict[str, Path]]
    rows_not_shown: dict[str, int]


def load_recording(folder: str | Path) -> ReviewRecording:
    """Read a recording folder for review (excluded frames included); RecordingError if unusable."""
    folder = Path(folder)
    readout = read_recording(folder, repo_root=folder, check_images=False, honour_exclusions=False)
    root = folder.resolve()
    if not readout.rows:
        raise RecordingError(f"{folder} has no frame that can be shown ({readout.rows_read} rows read): "
                             "check its driving_log.csv and IMG/ folder.")
    rows = readout.rows
    return ReviewRecording(
        folder=root, name=readout.name,
        stamps=[stamp_of_frame_time(row["time"]) for row in rows],
        values={name: [row[name] for row in rows] for name in ("steering", "throttle", "brake", "speed")},
        images=[{camera: root / row[camera] for camera in CAMERAS} for row in rows],
        rows_not_shown={reason: count for reason, count in readout.dropped.items() if count},
    )


def frame_list_json(recording: ReviewRecording) -> str:
    """The page's whole frame list in one document, as column arrays (small and quick to parse)."""
    return json.dumps({
        "name": recording.name,
        "folder": str(recording.folder),
        "frame_count": len(recording.stamps),
        "cameras": list(SHOWN_CAMERAS),
        "stamps": recording.stamps,
        **recording.values,
        "rows_not_shown": recording.rows_not_shown,
    }, separators=(",", ":"))


def exclusions_json(folder: Path) -> dict:
    exclusions = read_exclusions(folder)
    return {"ranges": [vars(excluded) for excluded in exclusions.ranges], "problems": exclusions.problems}


def ranges_from_request(body: object) -> tuple[list[ExcludedRange], str | None]:
    """The ranges a page sent, or an error sentence."""
    if not isinstance(body, dict) or not isinstance(body.get("ranges"), list):
        return [], "send {\"ranges\": [{\"first_time\": ..., \"last_time\": ..., \"reason\": ...}]}."
    ranges = []
    for number, item in enumerate(body["ranges"], start=1):
        fields = [item.get(name) if isinstance(item, dict) else None for name in ("first_time", "last_time", "reason")]
        if not all(isinstance(value, str) for value in fields):
            return [], f"range {number} needs first_time, last_time and reason as text."
        problem = range_problem(*fields)
        if problem is not None:
            return [], f"range {number}: {problem}."
        ranges.append(ExcludedRange(*fields))
    return ranges, None


def create_app(recording: ReviewRecording) -> Flask:
    """The review app for one recording."""
    app = Flask(__name__, static_folder=None)
    frame_list = frame_list_json(recording)

    @app.get("/")
    def page() -> Response:
        return send_from_directory(STATIC_DIR, "review.html", max_age=0)

    @app.get("/static/<path:name>")
    def static_file(name: str) -> Response:
        return send_from_directory(STATIC_DIR, name, max_age=0)

    @app.get("/api/recording")
    def frames() -> Response:
        return Response(frame_list, mimetype="application/json")

    @app.get("/api/frames/<int:index>/<camera>.jpg")
    def image(index: int, camera: str) -> Response:
        if not 0 <= index < len(recording.images) or camera not in CAMERAS:
            abort(404)
        path = recording.images[index][camera]
        if not path.is_file():
            abort(404)
        return send_file(path, mimetype="image/jpeg", max_age=IMAGE_CACHE_S)

    @app.get("/api/exclusions")
    def exclusions() -> Response:
        return jsonify(exclusions_json(recording.folder))

    @app.put("/api/exclusions")
    def save_exclusions() -> tuple[Response, int] | Response:
        ranges, error = ranges_from_request(request.get_json(silent=True))
        if error is not None:
            return jsonify(error=f"Not saved: {error}"), 400
        kept_lines = tuple(read_exclusions(recording.folder).malformed_lines)   # never lose what a user wrote
        try:
            write_exclusions(recording.folder, ranges, kept_lines)
        except OSError as failure:
            return jsonify(error=f"Could not write excluded.csv in {recording.folder}: {failure.strerror}."), 500
        return jsonify(exclusions_json(recording.folder))

    return app
