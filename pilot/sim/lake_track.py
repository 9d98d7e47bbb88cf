"""The Udacity simulator's Lake track (track 1): its waypoints and centre line, smoothed as Unity does.

Source: the 28 waypoints of the `WaypointCircuit` 'Waypoints' in the Unity scene
`Assets/1_SelfDrivingCar/Scenes/LakeTrackTraining.unity` of udacity/self-driving-car-sim,
copied from shared/udacity/lake_track_waypoints.json (local positions under the circuit's
object at world (183.008, 11.138, 86.671); all at the same height). Unity's axes are x
east, y up, z north, so (x, z) maps to the track's (x, y) without a mirror, and the
circuit runs counter-clockwise (mostly left bends) in waypoint order.

Unity Standard Assets' `WaypointCircuit` (smoothRoute on) draws a uniform Catmull-Rom
curve through the waypoints, one cubic per pair of neighbours; its length comes from
sampling that curve (1138.9 m; the waypoint polygon is 1131.5 m).

The road's width is not in the public sources. LAKE_ROAD_WIDTH_M is estimated from one spot
of a real recording: the asphalt between the dirt verge and the foot of a concrete kerb,
traced in the left and centre frames and back-projected onto a flat road with the camera
rig, is 6.1 m wide 7-9 m ahead and 5.2 m 17 m ahead with the rig's 1.2 m camera height;
with the depths the left/centre stereo pair measures there instead (it puts the road
1.43 m below the cameras in that frame) it is 6.9 m and 5.6 m.
"""
from __future__ import annotations

import numpy as np

LAKE_WAYPOINTS_XZ_M = (
    (-3.7, 12.0), (-10.7, 31.0), (-30.7, 53.7), (-50.2, 64.2), (-70.3, 70.8), (-91.0, 73.3), (-112.6, 70.2),
    (-137.7, 65.1), (-167.1, 52.4), (-193.0, 39.9), (-226.5, 18.8), (-261.3, -9.2), (-306.4, -53.3),
    (-341.35, -105.35), (-358.5, -153.2), (-352.6, -201.8), (-329.0, -228.0), (-290.77, -241.37),
    (-222.78, -245.36), (-135.8, -234.8), (-75.2, -220.2), (-54.0, -198.4), (-63.0, -159.4), (-98.8, -107.4),
    (-105.81, -82.75), (-92.2, -63.9), (-26.2, -26.4), (-6.9, -7.1),
)
CAR_START_XZ_M = (-3.198, 3.189)       # the training car's spawn point, in the circuit's local frame
LAKE_LENGTH_M = 1138.9                 # the smoothed circuit, closed
LAKE_ROAD_WIDTH_M = 6.5                # estimated from real frames (see the module docstring), +-1 m


def catmull_rom_circuit(waypoints_m: np.ndarray, samples_per_segment: int = 64) -> np.ndarray:
    """A closed uniform Catmull-Rom curve through `waypoints_m` (N x 2), sampled evenly in each segment's parameter.

    Segment k runs from waypoint k to k+1 with waypoints k-1 and k+2 as its outer control
    points, as WaypointCircuit.GetRoutePosition does; the last segment closes the loop.
    Returns (N * samples_per_segment) x 2 points, the first one being waypoint 0.
    """
    points = np.asarray(waypoints_m, dtype=np.float64)
    p0, p1, p2, p3 = (np.roll(points, shift, axis=0)[:, None, :] for shift in (1, 0, -1, -2))
    t = (np.arange(samples_per_segment) / samples_per_segment)[None, :, None]
    curve = 0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (3 * p1 - p0 - 3 * p2 + p3) * t**3)
    return curve.reshape(-1, 2)


def lake_centre_line_m(samples_per_segment: int = 400) -> np.ndarray:
    """The Lake track's smoothed centre line, densely sampled, starting at the point nearest the car's spawn point."""
    curve = catmull_rom_circuit(np.array(LAKE_WAYPOINTS_XZ_M), samples_per_segment)
    start = int(np.argmin(np.hypot(*(curve - np.array(CAR_START_XZ_M)).T)))
    return np.roll(curve, -start, axis=0)
