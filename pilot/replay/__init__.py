"""Replay: a model's closed-loop score on a recorded drive, by view synthesis (PilotNet's §6 method).

geometry.py   the synthesised views (road-plane homography / rotation), with pilot.udacity.camera_rig's rig
reference.py  the recorded car's path from its steering, speed and frame times
loop.py       the model's car relative to that path: latency, steering rate, interventions
result.py     per-frame records and the scores (autonomy, interventions, offsets)
frame_table.py  replay ingest's frame table, recording by recording, images read on demand
pictures.py   the offset plot and the mp4 of the synthesised drive
"""
