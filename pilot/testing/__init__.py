"""What tests and benchmarks make and use, never a stage (a test checks that no stage imports it).

- `synthetic`: generated road JPEGs, split tables and simulator-like recordings.
- `input_devices`: keyboard, mouse and gamepad recordings of a known intended steering.
- `hostile`: the drive server's fuzzer (hostile messages on the raw wire, each followed by a telemetry).
"""
