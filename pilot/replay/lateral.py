"""How strongly a model answers being off its line, measured offline on recorded frames.

A model trained with the side cameras (+correction for the left one, -correction for the right one)
should steer back when it sees the road from a car that has drifted sideways. On frames where the
truth is a recording's own three cameras, `lateral_response` measures the model's steering on the
left and right camera frames minus its steering on the centre one, and on views synthesised (with
replay's view synthesis) from a car shifted by each of OFFSETS_M (+ left): the answer a closed loop
needs, known before any closed loop is run. A car that drifts 1 m to the left should be steered to
the right (> 0). `share_of_correction` is the side cameras' mean response, (left - right) / 2, over
the correction the model was trained with: near 1 the model holds a line as training asked, far
below it drifts.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from pilot.replay.geometry import synthesiser_for
from pilot.udacity.camera_rig import CameraRig

OFFSETS_M = (-1.0, -0.5, 0.5, 1.0)


def lateral_response(predict: Callable[[np.ndarray], float], triples: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                     rig: CameraRig, trained_correction: float | None) -> dict:
    """Mean steering responses to the side cameras and to synthesised sideways offsets (centre's answer subtracted)."""
    synthesiser = synthesiser_for(rig)
    centre_m = rig.camera_position_m("center")
    left, right, shifted = [], [], {offset: [] for offset in OFFSETS_M}
    for centre, left_frame, right_frame in triples:
        base = predict(centre)
        left.append(predict(left_frame) - base)
        right.append(predict(right_frame) - base)
        for offset in OFFSETS_M:
            view = synthesiser.synthesise(centre, centre_m, (centre_m[0], centre_m[1] + offset), 0.0)
            shifted[offset].append(predict(view) - base)
    left_mean, right_mean = float(np.mean(left)), float(np.mean(right))
    response = {
        "left_camera": round(left_mean, 4),
        "right_camera": round(right_mean, 4),
        "synthesised_offset_m": {f"{offset:+g}": round(float(np.mean(values)), 4)
                                 for offset, values in shifted.items()},
        "trained_correction": trained_correction,
        "share_of_correction": (round(0.5 * (left_mean - right_mean) / trained_correction, 3)
                                if trained_correction else None),
        "frames": len(triples),
    }
    return response
