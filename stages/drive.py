"""drive: serve a steering model to the Udacity simulator (press Autonomous to connect).

    python stages/drive.py [MODEL] [--runtime auto|keras|litert] [--host H] [--port P] [--set-speed MPH]
                           [--controller pi|seed] [--record DIR] [--saliency] [--threads N]
                           [--trust-model-code]
    python stages/drive.py video RECORDING_DIR [--out FILE.mp4]

The server itself is pilot/drive/cli.py (also `python -m pilot.drive`); `--help` says more.
"""
from pilot.drive.cli import run

if __name__ == "__main__":
    run()
