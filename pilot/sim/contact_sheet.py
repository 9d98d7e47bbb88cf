"""A contact sheet of recorded frames: rows of (left, center, right) with a label and crop marks."""
from __future__ import annotations

import cv2
import numpy as np

from pilot.imaging import CROP_ROWS
from pilot.udacity.images import decode_jpeg_rgb
from pilot.udacity.simulator import CAMERAS_LEFT_TO_RIGHT

GAP_PX = 4
LABEL_WIDTH_PX = 96
HEADER_PX = 26
BACKGROUND_RGB = (245, 245, 245)
MARK_RGB = (220, 30, 30)


def _text(image: np.ndarray, text: str, origin: tuple[int, int], scale: float = 0.5) -> None:
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (20, 20, 20), 1, cv2.LINE_AA)


def contact_sheet(rows: list[tuple[str, dict[str, bytes]]],
                  cameras: tuple[str, ...] = CAMERAS_LEFT_TO_RIGHT) -> np.ndarray:
    """RGB image: one row per (label, {camera: JPEG}); red ticks mark the seed's crop rows."""
    if not rows:
        raise ValueError("no frames to put on a contact sheet")
    frames = [[decode_jpeg_rgb(jpegs[camera]) for camera in cameras] for _, jpegs in rows]
    height, width = frames[0][0].shape[:2]
    sheet_w = LABEL_WIDTH_PX + len(cameras) * (width + GAP_PX)
    sheet_h = HEADER_PX + len(rows) * (height + GAP_PX)
    sheet = np.full((sheet_h, sheet_w, 3), BACKGROUND_RGB, np.uint8)
    for column, camera in enumerate(cameras):
        _text(sheet, camera, (LABEL_WIDTH_PX + column * (width + GAP_PX) + width // 2 - 20, 18))
    for row, ((label, _), images) in enumerate(zip(rows, frames)):
        top = HEADER_PX + row * (height + GAP_PX)
        _text(sheet, label, (6, top + height // 2))
        for crop_row in CROP_ROWS:
            sheet[top + crop_row, LABEL_WIDTH_PX - 12: LABEL_WIDTH_PX - 2] = MARK_RGB
        for column, image in enumerate(images):
            left = LABEL_WIDTH_PX + column * (width + GAP_PX)
            sheet[top: top + height, left: left + width] = image
    _text(sheet, "crop", (LABEL_WIDTH_PX - 44, HEADER_PX + CROP_ROWS[0] + 4), 0.35)
    return sheet


def save_png(rgb: np.ndarray, path) -> None:
    """Write an RGB image as PNG (cv2 wants BGR)."""
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {path}")
