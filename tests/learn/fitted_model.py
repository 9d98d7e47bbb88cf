"""A real PilotNet fitted a few steps on synthetic road frames, so its weights are not just the initial ones."""
from __future__ import annotations

import keras
import numpy as np

from pilot.imaging import preprocess, to_model_input
from pilot.learn.model import build_pilotnet
from pilot.testing.synthetic import road_frame


def fitted_pilotnet(frames: int, epochs: int, seed: int = 13) -> keras.Model:
    """PilotNet fitted on `frames` road frames whose steering spans -0.8..0.8, for `epochs` epochs (batch 8)."""
    keras.utils.set_random_seed(seed)
    model = build_pilotnet()
    steering = np.linspace(-0.8, 0.8, frames)
    images = np.stack([to_model_input(preprocess(road_frame(s, noise_seed=i))) for i, s in enumerate(steering)])
    model.fit(images, steering, batch_size=8, epochs=epochs, verbose=0)
    return model
