"""From frame tables to training examples.

- `frames`: reading a frame table, the seed's histogram balancing, the blocked / random split.
- `augment`: the seed's four augmentations on OpenCV, camera choice and steering correction.
- `examples`: frames to model examples, seeded per index, in worker processes.
- `records`: the one TFRecord schema: serialise, parse, shards, `make_dataset`, manifest.
- `codec`: the stored image's lossless encoding (PNG or raw), without TensorFlow: workers encode.
- `grids`: augment's sample-image grids.
- `synthetic`: generated road JPEGs and split tables for tests and benchmarks.
"""
