"""What the network looks at: VisualBackProp (Bojarski et al., 2016, NVIDIA's PilotNet explanation).

For each convolution, average its feature maps over channels; starting from the deepest,
scale the map up to the size of the layer below with a transposed convolution of ones
(the layer's own kernel size and stride), multiply it with that layer's averaged map, and
repeat down to the input. Bright pixels are the ones that most drive the steering.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


def _conv_layers(model: keras.Model) -> list[keras.layers.Conv2D]:
    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if not layers:
        raise ValueError("the model has no convolution layers to explain.")
    return layers


def visual_backprop(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """Saliency masks in [0, 1], shape (N, H, W), for a float32 batch of model inputs (N, H, W, 3)."""
    convs = _conv_layers(model)
    # Re-wire the model's own layers so one call returns every convolution's activation.
    inputs = keras.Input(shape=images.shape[1:])
    activations, x = [], inputs
    for layer in model.layers:
        x = layer(x, training=False)
        if layer in convs:
            activations.append(x)
    probe = keras.Model(inputs, activations)
    maps = [tf.reduce_mean(a, axis=-1, keepdims=True) for a in probe(images, training=False)]

    mask = maps[-1]
    for index in range(len(convs) - 1, -1, -1):
        layer = convs[index]
        below = tf.shape(maps[index - 1]) if index > 0 else tf.shape(images[..., :1])
        kernel = tf.ones((*layer.kernel_size, 1, 1), dtype=mask.dtype)
        mask = tf.nn.conv2d_transpose(mask, kernel, output_shape=below, strides=layer.strides, padding="VALID")
        if index > 0:
            mask = mask * maps[index - 1]
    mask = mask[..., 0].numpy()
    low = mask.min(axis=(1, 2), keepdims=True)
    high = mask.max(axis=(1, 2), keepdims=True)
    return (mask - low) / np.maximum(high - low, 1e-12)
