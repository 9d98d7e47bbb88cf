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

# layers that keep every pixel where it is: the mask passes them unchanged
PIXEL_PRESERVING = (keras.layers.InputLayer, keras.layers.Dropout, keras.layers.SpatialDropout2D,
                    keras.layers.GaussianNoise, keras.layers.GaussianDropout, keras.layers.BatchNormalization,
                    keras.layers.LayerNormalization, keras.layers.Activation, keras.layers.ELU, keras.layers.ReLU,
                    keras.layers.LeakyReLU, keras.layers.PReLU, keras.layers.Rescaling)


def _conv_layers(model: keras.Model) -> list[keras.layers.Conv2D]:
    """The model's convolutions; ValueError (one sentence) when its image part is not a chain VisualBackProp follows."""
    if not isinstance(model, keras.Sequential):
        raise ValueError("VisualBackProp here follows a Sequential chain of convolutions; "
                         "this model is not Sequential.")
    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Flatten):
            break
        if isinstance(layer, keras.layers.Conv2D) and layer.padding == "valid" and layer.dilation_rate == (1, 1):
            layers.append(layer)
        elif not isinstance(layer, PIXEL_PRESERVING):
            raise ValueError(f"VisualBackProp here follows a chain of valid convolutions; this model's "
                             f"{type(layer).__name__} layer '{layer.name}' moves pixels in another way.")
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
