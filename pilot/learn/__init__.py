"""The network and what is measured on it.

- `model`: NVIDIA PilotNet exactly as the seed builds it.
- `training`: determinism, callbacks, fit, a byte-reproducible model file.
- `evaluation`: steering-regression metrics and the constant baseline.
- `saliency`: VisualBackProp, which pixels drive the steering.
- `model_file`: the one model loader: a .keras or Keras 2 .h5 built as it describes, code refused.
- `predictors`: the traced one-frame Keras predictor (and the seed's per-frame path, for benchmarks).
- `litert`: the edge model (.tflite): conversion and its one-frame predictor.
- `runtime`: which runtime serves a model (LiteRT where it steers as Keras does).
"""
