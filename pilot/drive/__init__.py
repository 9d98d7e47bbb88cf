"""The drive server the simulator connects to (`python stages/drive.py`).

- `telemetry`: the pure part: one telemetry payload in, one reply out; per-second stats.
- `app`: the Socket.IO app and its handlers.
- `compat`: every override of python-socketio, python-engineio and eventlet internals.
- `serve`: start-up, the only module that imports eventlet.
- `predictor`: model loading and the traced one-frame predictor.
- `litert`: the edge model (.tflite) and its one-frame predictor (`--runtime litert`).
- `control`: throttle (and speed) controllers behind one `step` interface.
- `record`, `video`: `--record` folders and mp4s with the steering drawn.
- `process`: runs the drive server as a child process (road_test, benchmarks).
"""
