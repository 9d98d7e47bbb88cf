"""Steering models as people train them with the seed's notebook and the Udacity P3 course, built in Keras 3.

Each builder returns a Keras 3 model with seeded, non-trivial weights; tests write it as a Keras 2
model.h5 (tests/keras2_h5.py) and check that what the loader builds from the file steers as this
model does.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers

from pilot.learn.model import build_pilotnet

SEED_SHAPE = (66, 200, 3)
CAMERA_SHAPE = (160, 320, 3)


def _pilotnet_layers(activation: str, dropout_after: dict[int, float], batch_norm: bool = False) -> list:
    """PilotNet's convolutions and dense layers; `dropout_after` maps a layer's position (0-8) to a rate."""
    body = [layers.Conv2D(24, 5, strides=2, activation=activation),
            layers.Conv2D(36, 5, strides=2, activation=activation),
            layers.Conv2D(48, 5, strides=2, activation=activation), layers.Conv2D(64, 3, activation=activation),
            layers.Conv2D(64, 3, activation=activation), layers.Flatten(), layers.Dense(100, activation=activation),
            layers.Dense(50, activation=activation), layers.Dense(10, activation=activation)]
    out = []
    for position, layer in enumerate(body):
        out.append(layer)
        if batch_norm and position < 5:
            out.append(layers.BatchNormalization())
        if position in dropout_after:
            out.append(layers.Dropout(dropout_after[position]))
    return [*out, layers.Dense(1)]


def _seeded(model: keras.Model, seed: int) -> keras.Model:
    """Moving statistics set away from 0 and 1, so a BatchNormalization that were skipped would show."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape), rng.normal(0, 0.1, beta.shape),
                               rng.normal(0, 0.2, mean.shape), rng.uniform(0.5, 2.0, variance.shape)])
    return model


def seed_pilotnet(seed: int = 3) -> keras.Model:
    """The seed's PilotNet (elu, Dropout 0.5 after the convolutions and after Dense 100)."""
    keras.utils.set_random_seed(seed)
    return build_pilotnet()


def relu_dropout_pilotnet(seed: int = 4) -> keras.Model:
    """relu, with Dropout 0.5 / 0.5 / 0.4 after the convolutions and the first two dense layers."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(SEED_SHAPE), *_pilotnet_layers("relu", {4: 0.5, 6: 0.5, 7: 0.4})])


def no_dropout_pilotnet(seed: int = 5) -> keras.Model:
    """The seed's PilotNet without its two Dropout layers."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(SEED_SHAPE), *_pilotnet_layers("elu", {})])


def batch_norm_pilotnet(seed: int = 6) -> keras.Model:
    """PilotNet with a BatchNormalization after each convolution (and the seed's dropouts)."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(SEED_SHAPE), *_pilotnet_layers("elu", {4: 0.5, 6: 0.5}, batch_norm=True)])
    return _seeded(model, seed)


def p3_camera_model(seed: int = 7) -> keras.Model:
    """The Udacity P3 convention: the camera frame in, cropped and normalised by the model itself."""
    keras.utils.set_random_seed(seed)
    return _seeded(keras.Sequential([
        keras.Input(CAMERA_SHAPE), layers.Cropping2D(((50, 20), (0, 0))), layers.Rescaling(1 / 255.0, offset=-0.5),
        layers.BatchNormalization(),
        layers.Conv2D(24, 5, strides=2, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(36, 5, strides=2, activation="relu"), layers.MaxPooling2D(), layers.Flatten(),
        layers.Dense(50, activation="relu"), layers.Dropout(0.3), layers.Dense(1)]), seed)


FIELD_MODELS = {
    "seed": seed_pilotnet,
    "relu_dropout": relu_dropout_pilotnet,
    "no_dropout": no_dropout_pilotnet,
    "batch_norm": batch_norm_pilotnet,
    "p3_camera": p3_camera_model,
}
