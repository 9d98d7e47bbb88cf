"""The network and what is measured on it.

- `model`: NVIDIA PilotNet exactly as the seed builds it.
- `training`: determinism, callbacks, fit, a byte-reproducible model file.
- `evaluation`: steering-regression metrics and the constant baseline.
- `saliency`: VisualBackProp, which pixels drive the steering.
"""
