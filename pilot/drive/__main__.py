"""`python -m pilot.drive`: the drive server, as `python stages/drive.py` runs it."""
from pilot.drive.cli import run

run()
