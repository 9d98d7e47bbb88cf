"""NVIDIA PilotNet exactly as the seed notebook builds it (252,219 parameters)."""
from __future__ import annotations

import keras
from keras import layers

from pilot.imaging import MODEL_INPUT_SHAPE

PRECISIONS = ("float32", "mixed_bfloat16")


def build_pilotnet(learning_rate: float = 1e-3, precision: str = "float32") -> keras.Model:
    """5 convolutions, 4 dense layers, ELU, two dropouts of 0.5; Adam + MSE, as in the seed.

    precision mixed_bfloat16 (Keras mixed precision): the layers compute in bfloat16 and keep
    float32 weights; the steering output stays float32, as Keras' guide advises for the last
    layer. float32_copy() turns such a model back into the float32 one that gets saved.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    dtype = None if precision == "float32" else precision     # None: the float32 default, as before
    model = keras.Sequential(
        [
            keras.Input(shape=MODEL_INPUT_SHAPE, name="yuv_image"),
            layers.Conv2D(24, (5, 5), strides=(2, 2), activation="elu", dtype=dtype),
            layers.Conv2D(36, (5, 5), strides=(2, 2), activation="elu", dtype=dtype),
            layers.Conv2D(48, (5, 5), strides=(2, 2), activation="elu", dtype=dtype),
            layers.Conv2D(64, (3, 3), activation="elu", dtype=dtype),
            layers.Conv2D(64, (3, 3), activation="elu", dtype=dtype),
            layers.Dropout(0.5, dtype=dtype),
            layers.Flatten(dtype=dtype),
            layers.Dense(100, activation="elu", dtype=dtype),
            layers.Dropout(0.5, dtype=dtype),
            layers.Dense(50, activation="elu", dtype=dtype),
            layers.Dense(10, activation="elu", dtype=dtype),
            layers.Dense(1, name="steering", dtype=None if dtype is None else "float32"),
        ],
        name="pilotnet",
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
    return model


def float32_copy(model: keras.Model, learning_rate: float = 1e-3) -> keras.Model:
    """The float32 PilotNet with `model`'s weights (mixed precision keeps its weights in float32:
    the copy is exact); what is saved, so that every reader of model.keras runs float32."""
    copy = build_pilotnet(learning_rate)
    copy.set_weights(model.get_weights())
    return copy
