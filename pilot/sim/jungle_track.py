"""The Udacity simulator's Jungle track (track 2): its documented facts and its centre line in the track's frame.

Source: shared/udacity/jungle_track_centreline.json, rebuilt from the RoadKit road pieces of
`JungleTrackTraining.unity` in udacity/self-driving-car-sim (the points are copied into
`pilot.sim.jungle_centre_line`). Unity's axes are x east, y up, z north (left-handed, so a
positive Unity yaw turns clockwise seen from above, as a compass does): seen from above with
north up, (x, z) is an ordinary map, so it maps to the track's (x, y) without a mirror and
Unity's y is the height, as for the Lake (pilot.sim.lake_track). The car starts facing +x
(Unity yaw 90 degrees) 2.36 m right of the centre line (y = z = -46.36 below the line's -44).

A figure of eight, 1508 m along the road surface (1493.6 m in the ground plane, which is
what `Track.length_m` and lap progress measure), 30 m from its lowest to its highest point,
grades up to 28 % over 10 m (31 % over 1 m) on the S-bend ramps, no banking. It crosses
itself once: at s = 836.8 m (ground-plane arc length) the bridge deck, heading +x at z = -34,
passes 20 m above the road at s = 1352.2 m. From x = 166 m to 206 m the start straight
(z = -44) runs beside the return leg (z = -34, s = 903..943 m), their slabs touching. The
1 m points zigzag by a few centimetres, so the curvature between neighbouring points is
noisy (up to 0.5/m where the design's tightest radius is 9.4 m): average it over metres.

`Track.height_at` and `Track.grade_at` give the height and the grade at a track position.

The scene's terrain (shared/udacity/jungle_terrain.npz: Unity's TerrainData, 513 x 513 heights over
500 m x 500 m) is packaged beside this file as `jungle_terrain.npz`, heights to the centimetre
(the shared file's to 5 mm): the hillsides, cuttings and rock walls around the road, which sits a
median 0.25 m (its slab) above it and 20 m above it under the bridge.
"""
from __future__ import annotations

import math
from importlib import resources

import numpy as np

from pilot.sim.jungle_centre_line import JUNGLE_CENTRE_LINE_XYZ_M

JUNGLE_LENGTH_M = 1508.24                 # along the road's surface, closed (the shared file's spline)
JUNGLE_SLAB_WIDTH_M = 10.0                # the road piece, bevelled edges included
JUNGLE_ROAD_WIDTH_M = 9.5                 # its flat top: two lanes
JUNGLE_LANE_WIDTH_M = 4.75                # the lane line is on the centre line
JUNGLE_HEIGHT_RANGE_M = 30.0              # lowest to highest point of the road
JUNGLE_START_HEADING_RAD = 0.0            # the car spawns facing +x (Unity yaw 90 degrees)
JUNGLE_START_RIGHT_OF_CENTRE_M = 2.36     # ... in the middle of the right lane, at s = 0
JUNGLE_BRIDGE_CLEARANCE_M = 20.0          # deck above the lower road where the track crosses itself


def jungle_centre_line_m() -> tuple[np.ndarray, np.ndarray]:
    """The centre line in the ground plane (N x 2: x east, y north = Unity z) and its heights (N: Unity y), metres."""
    xyz = np.asarray(JUNGLE_CENTRE_LINE_XYZ_M, dtype=np.float64)
    return xyz[:, [0, 2]], xyz[:, 1]


def jungle_start_pose() -> tuple[float, float, float]:
    """Where the car spawns: (x, y, heading) in the track's frame, 2.36 m right of the start of the centre line."""
    points, _ = jungle_centre_line_m()
    x, y = points[0]
    return (float(x + JUNGLE_START_RIGHT_OF_CENTRE_M * math.sin(JUNGLE_START_HEADING_RAD)),
            float(y - JUNGLE_START_RIGHT_OF_CENTRE_M * math.cos(JUNGLE_START_HEADING_RAD)),
            JUNGLE_START_HEADING_RAD)


def jungle_terrain_m() -> tuple[np.ndarray, float, float, float]:
    """The scene's terrain: heights (rows north along y, columns east along x; metres, the centre line's datum),
    and the x, y of the first sample and the spacing of samples, metres."""
    with resources.files("pilot.sim").joinpath("jungle_terrain.npz").open("rb") as stream, np.load(stream) as saved:
        centimetres = saved["heights_cm_above_lowest"].astype(np.float32)
        heights = centimetres / np.float32(100.0) + np.float32(saved["lowest_m"])
        return heights, float(saved["origin_x_m"]), float(saved["origin_y_m"]), float(saved["cell_m"])
