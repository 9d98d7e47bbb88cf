"""NVIDIA PilotNet exactly as the seed notebook builds it (252,219 parameters)."""
from __future__ import annotations

import keras
from keras import layers

from pilot.imaging import MODEL_INPUT_SHAPE


def build_pilotnet(learning_rate: float = 1e-3) -> keras.Model:
    """5 convolutions, 4 dense layers, ELU, two dropouts of 0.5; Adam + MSE, as in the seed."""
    model = keras.Sequential(
        [
            keras.Input(shape=MODEL_INPUT_SHAPE, name="yuv_image"),
            layers.Conv2D(24, (5, 5), strides=(2, 2), activation="elu"),
            layers.Conv2D(36, (5, 5), strides=(2, 2), activation="elu"),
            layers.Conv2D(48, (5, 5), strides=(2, 2), activation="elu"),
            layers.Conv2D(64, (3, 3), activation="elu"),
            layers.Conv2D(64, (3, 3), activation="elu"),
            layers.Dropout(0.5),
            layers.Flatten(),
            layers.Dense(100, activation="elu"),
            layers.Dropout(0.5),
            layers.Dense(50, activation="elu"),
            layers.Dense(10, activation="elu"),
            layers.Dense(1, name="steering"),
        ],
        name="pilotnet",
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
    return model
