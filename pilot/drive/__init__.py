"""The drive server the simulator connects to (`python stages/drive.py`).

- `telemetry`: the pure part: one telemetry payload in, one reply out; per-second stats.
- `app`: the Socket.IO app and its handlers.
- `compat`: every override of python-socketio, python-engineio and eventlet internals.
- `serve`: start-up, the only module that imports eventlet.
- `control`: throttle (and speed) controllers behind one `step` interface.
- `record`, `video`: `--record` folders and mp4s with the steering drawn.
- `process`: runs the drive server as a child process (road_test, benchmarks).
"""
