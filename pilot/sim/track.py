"""Closed circuits and the geometric queries on them (no drawing, no physics).

A track is a closed centre line resampled at even arc length, with a constant road
width. `generate_track(seed)` makes a smooth star-shaped circuit r(theta) = R0 (1 + sum
a_k cos(k theta + phi_k)), scaled to the requested length, with its curvature held
under a limit so the expert takes every bend well below full lock. `named_track("lake")`
is the real simulator's Lake track, `named_track("jungle")` its Jungle track, the one with
hills; `make_track` takes a seed or a name, as params.yaml and the command line may. Sign
conventions: headings in radians counter-clockwise from +x, cross-track error positive when
the point is LEFT of the centre line in the direction of travel.

A track may carry a height per centre-line point (`heights_m`; None for a flat track). Every
query is in the ground plane (x, y): arc length, lap progress and curvature are measured
there; `height_at` and `grade_at` (rise over horizontal run along the direction of travel)
give the third dimension. Where a track crosses itself (the Jungle's bridge), the ground
plane holds two roads at one place: pass the car's last `hint_index` to `nearest` so it
stays on its own branch.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pilot.sim.jungle_track import JUNGLE_ROAD_WIDTH_M, jungle_centre_line_m
from pilot.sim.lake_track import LAKE_ROAD_WIDTH_M, lake_centre_line_m

DEFAULT_LENGTH_M = 700.0
DEFAULT_WIDTH_M = 8.0
DEFAULT_MAX_CURVATURE_PER_M = 0.045     # tightest bend: radius 22 m
DEFAULT_SPACING_M = 0.5                 # centre-line sample spacing
MIN_GAP_M = 40.0                        # distinct parts of the circuit stay this far apart
HARMONICS = (2, 3, 4, 5)
HILL_HARMONICS = (1, 2, 3, 5, 7)        # waves of height per lap: a 700 m lap gets climbs of ~350 m and humps of ~100 m
HILL_STREAM = 20262                     # the heights' random stream, apart from the plan view's
CORNER_COUNT = (9, 15)                  # a cornered circuit's corners (drawn from 9 to 14)
CORNER_REACH = (0.3, 1.0)               # their distances from the centre, relative: dents make S-bends
CORNER_MIN_GAP_M = 25.0                 # its distinct parts keep this far apart (the Jungle's pass closer still)
MAX_CORNER_TURN_RAD = np.radians(135.0)  # sharper corners are hairpins the look-ahead would cut
CORNER_STREAM = 20263                   # a cornered circuit's random stream
LAYOUTS = ("polygon", "grid")           # a cornered circuit's plan: a drawn polygon, or the Jungle's kind (grid)
GRID_CELL_M = 25.0                      # a grid circuit's cell: its legs run this far apart where they pass
GRID_NEIGHBOURS = ((1, 0), (0, 1), (-1, 0), (0, -1))   # a grid cell's four side neighbours
MAX_GRADE = 0.35                        # steeper than any road the simulator has (the Jungle: 28 %)
TRACK_NAMES = ("lake", "jungle")        # circuits of the real simulator, by name


@dataclass(frozen=True)
class TrackPoint:
    """The centre-line point nearest to a query position."""

    index: int                  # centre-line sample at or before the point
    s_m: float                  # arc length of the nearest point, 0..length
    x_m: float
    y_m: float
    heading_rad: float          # direction of travel at the nearest point
    cross_track_m: float        # signed distance, positive left of the centre line
    curvature_per_m: float      # of the centre line there, positive for a left bend


class Track:
    """A closed centre line (N x 2 points, evenly spaced, first point not repeated), with heights or flat."""

    def __init__(self, points_m: np.ndarray, width_m: float = DEFAULT_WIDTH_M, seed: int | None = None,
                 heights_m: np.ndarray | None = None, name: str | None = None) -> None:
        points = np.asarray(points_m, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 2 or len(points) < 8:
            raise ValueError("a track needs an (N, 2) array of at least 8 centre-line points")
        if heights_m is not None:
            heights_m = np.asarray(heights_m, dtype=np.float64)
            if heights_m.shape != (len(points),):
                raise ValueError(f"a track's heights need one value per centre-line point ({len(points)}), "
                                 f"got shape {heights_m.shape}")
        self.heights_m = heights_m      # None: flat
        self.name = name                # the real simulator's track this is ('lake', 'jungle'); None: generated
        self.points_m = points
        self.width_m = float(width_m)
        self.seed = seed
        following = np.roll(points, -1, axis=0)
        self._segments = following - points
        self.segment_lengths_m = np.hypot(self._segments[:, 0], self._segments[:, 1])
        self.s_m = np.concatenate([[0.0], np.cumsum(self.segment_lengths_m)[:-1]])
        self.length_m = float(self.segment_lengths_m.sum())
        self.headings_rad = np.arctan2(self._segments[:, 1], self._segments[:, 0])
        turn = np.angle(np.exp(1j * (self.headings_rad - np.roll(self.headings_rad, 1))))
        mean_spacing = 0.5 * (self.segment_lengths_m + np.roll(self.segment_lengths_m, 1))
        self.curvatures_per_m = turn / mean_spacing     # at each point: turn between its segments, per metre
        self.point_headings_rad = self._point_headings()
        if heights_m is not None:
            rises = np.roll(heights_m, -1) - heights_m
            # at each point: rise over run between its neighbours (central difference, ground-plane run)
            self.grades = (rises + np.roll(rises, 1)) / (self.segment_lengths_m + np.roll(self.segment_lengths_m, 1))
            self.surface_length_m = float(np.hypot(self.segment_lengths_m, rises).sum())
        else:
            self.grades = None
            self.surface_length_m = self.length_m
        # one height everywhere (no heights, or all equal): nothing to climb
        self.is_flat = heights_m is None or bool(np.ptp(heights_m) == 0.0)

    @property
    def half_width_m(self) -> float:
        return 0.5 * self.width_m

    def height_at(self, s_m: float) -> float:
        """The centre line's height at ground-plane arc length s (wrapped), linear between points; 0 when flat."""
        return 0.0 if self.heights_m is None else self._interpolate(self.heights_m, s_m)

    def grade_at(self, s_m: float) -> float:
        """Rise over horizontal run along the direction of travel at arc length s (wrapped); 0 when flat."""
        return 0.0 if self.grades is None else self._interpolate(self.grades, s_m)

    def curvature_at(self, s_m: float) -> float:
        """The centre line's curvature (1/m, + = turning left) at arc length s (wrapped), linear between points."""
        return self._interpolate(self.curvatures_per_m, s_m)

    def index_at(self, s_m: float) -> int:
        """The centre-line point that starts the segment holding arc length s (wrapped): a hint for `nearest`."""
        return self._segment_at(s_m)[0]

    def _interpolate(self, values: np.ndarray, s_m: float) -> float:
        """A per-point value at arc length s (wrapped), linear between the segment's two points."""
        return self._blend(values, *self._segment_at(s_m))

    def _blend(self, values: np.ndarray, index: int, fraction: float) -> float:
        """A per-point value a fraction of the way along segment `index`, linear between its two points."""
        following = (index + 1) % len(self.points_m)
        return float((1 - fraction) * values[index] + fraction * values[following])

    def _segment_at(self, s_m: float) -> tuple[int, float]:
        """The segment holding arc length s (wrapped) and how far along it s lies (0..1)."""
        s = float(s_m) % self.length_m
        index = int(np.searchsorted(self.s_m, s, side="right") - 1)
        return index, (s - self.s_m[index]) / self.segment_lengths_m[index]

    def nearest(self, x_m: float, y_m: float, hint_index: int | None = None, window: int = 60) -> TrackPoint:
        """Project a point on the centre line. With a hint, search only +-window samples around it."""
        count = len(self.points_m)
        if hint_index is None:
            candidates = np.arange(count)
        else:
            candidates = np.arange(hint_index - window, hint_index + window + 1) % count
        starts = self.points_m[candidates]
        segments = self._segments[candidates]
        lengths = self.segment_lengths_m[candidates]
        offsets = np.array([x_m, y_m]) - starts
        along = np.clip((offsets * segments).sum(axis=1) / lengths**2, 0.0, 1.0)
        closest = starts + along[:, None] * segments
        distances = np.hypot(closest[:, 0] - x_m, closest[:, 1] - y_m)
        best = int(np.argmin(distances))
        index = int(candidates[best])
        segment = segments[best]
        cross = segment[0] * offsets[best, 1] - segment[1] * offsets[best, 0]
        fraction = float(along[best])
        return TrackPoint(
            index=index,
            s_m=float(self.s_m[index] + fraction * lengths[best]) % self.length_m,
            x_m=float(closest[best, 0]),
            y_m=float(closest[best, 1]),
            heading_rad=self._heading_between(index, fraction),
            cross_track_m=float(np.copysign(distances[best], cross)),
            curvature_per_m=self._blend(self.curvatures_per_m, index, fraction),
        )

    def cross_track_m(self, x_m: float, y_m: float, hint_index: int | None = None) -> float:
        """Signed distance from the centre line, positive to the left."""
        return self.nearest(x_m, y_m, hint_index).cross_track_m

    def heading_error_rad(self, x_m: float, y_m: float, heading_rad: float, hint_index: int | None = None) -> float:
        """Heading minus the road's direction at the nearest point, wrapped to (-pi, pi]."""
        return wrap_angle(heading_rad - self.nearest(x_m, y_m, hint_index).heading_rad)

    def progress(self, x_m: float, y_m: float, hint_index: int | None = None) -> float:
        """Lap progress of the nearest centre-line point, 0..1 from the start line."""
        return self.nearest(x_m, y_m, hint_index).s_m / self.length_m

    def point_at(self, s_m: float, lateral_m: float = 0.0) -> tuple[float, float, float]:
        """(x, y, heading) at arc length s (wrapped), `lateral_m` to the left of the centre line."""
        index, fraction = self._segment_at(s_m)
        x, y = self.points_m[index] + fraction * self._segments[index]
        heading = self._heading_between(index, fraction)
        return (float(x - lateral_m * np.sin(heading)), float(y + lateral_m * np.cos(heading)), heading)

    def offset_line(self, lateral_m: float) -> np.ndarray:
        """The centre line shifted `lateral_m` to the left (for edge lines and curbs), N x 2."""
        normals = np.stack([-np.sin(self.point_headings_rad), np.cos(self.point_headings_rad)], axis=1)
        return self.points_m + lateral_m * normals

    def _heading_between(self, index: int, fraction: float) -> float:
        """Road direction a fraction of the way along segment `index` (interpolated between its ends)."""
        start = self.point_headings_rad[index]
        turn = wrap_angle(self.point_headings_rad[(index + 1) % len(self.points_m)] - start)
        return wrap_angle(start + fraction * turn)

    def _point_headings(self) -> np.ndarray:
        """Heading at each sample (mean of the segments around it)."""
        before = np.roll(self._segments, 1, axis=0)
        summed = before / self.segment_lengths_m[np.roll(np.arange(len(self.points_m)), 1), None] \
            + self._segments / self.segment_lengths_m[:, None]
        return np.arctan2(summed[:, 1], summed[:, 0])


def wrap_angle(angle_rad: float) -> float:
    """Wrap an angle to (-pi, pi]."""
    return float(-((-angle_rad + np.pi) % (2 * np.pi) - np.pi))


def circle_track(radius_m: float, width_m: float = DEFAULT_WIDTH_M, spacing_m: float = DEFAULT_SPACING_M) -> Track:
    """A counter-clockwise circle centred on the origin, starting at (radius, 0): for closed-form tests."""
    count = max(16, int(round(2 * np.pi * radius_m / spacing_m)))
    theta = 2 * np.pi * np.arange(count) / count
    return Track(np.stack([radius_m * np.cos(theta), radius_m * np.sin(theta)], axis=1), width_m)


def _polar_shape(amplitudes: np.ndarray, phases: np.ndarray, samples: int = 8192) -> np.ndarray:
    theta = 2 * np.pi * np.arange(samples) / samples
    radius = 1.0 + sum(a * np.cos(k * theta + p) for k, a, p in zip(HARMONICS, amplitudes, phases))
    return np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1)


def _cornered_shape(rng: np.random.Generator, corner_radius_m: float, length_m: float) -> np.ndarray | None:
    """A closed polygon of straights joined by arcs of `corner_radius_m` (points every ~0.25 m, about `length_m`
    long), or None when the drawn polygon leaves no room for its arcs or turns too sharply."""
    count = int(rng.integers(*CORNER_COUNT))
    angles = np.sort((np.arange(count) + rng.uniform(-0.3, 0.3, count)) * 2 * np.pi / count)
    radii = rng.uniform(*CORNER_REACH, count)
    vertices = np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)
    vertices *= length_m / np.hypot(*np.diff(np.vstack([vertices, vertices[:1]]), axis=0).T).sum()
    return _filleted(vertices, corner_radius_m)


def _filleted(vertices: np.ndarray, corner_radius_m: float) -> np.ndarray | None:
    """The closed polygon's straights joined by arcs of `corner_radius_m` at its corners (points every ~0.25 m), or
    None when an edge leaves no room for its arcs or a corner turns too sharply."""
    incoming = vertices - np.roll(vertices, 1, axis=0)
    edges = np.hypot(incoming[:, 0], incoming[:, 1])
    incoming /= edges[:, None]
    outgoing = np.roll(incoming, -1, axis=0)
    turns = np.arctan2(incoming[:, 0] * outgoing[:, 1] - incoming[:, 1] * outgoing[:, 0],
                       (incoming * outgoing).sum(axis=1))
    tangents = corner_radius_m * np.tan(np.abs(turns) / 2)
    if np.abs(turns).max() > MAX_CORNER_TURN_RAD or np.any(tangents + np.roll(tangents, 1) > edges - 5.0):
        return None
    pieces = []
    for vertex, direction, turn, tangent in zip(vertices, incoming, turns, tangents):
        start = vertex - direction * tangent
        left = np.array([-direction[1], direction[0]]) * np.sign(turn)
        centre = start + left * corner_radius_m
        start_angle = np.arctan2(*(start - centre)[::-1])
        sweep = start_angle + np.linspace(0.0, turn, max(2, int(abs(turn) * corner_radius_m / 0.25)))
        pieces.append(centre + corner_radius_m * np.stack([np.cos(sweep), np.sin(sweep)], axis=1))
    return np.vstack(pieces)


def _grid_shape(rng: np.random.Generator, corner_radius_m: float, length_m: float) -> np.ndarray | None:
    """The Jungle's kind of plan: the outline of a region of GRID_CELL_M cells grown at random, its 90 degree corners
    joined by arcs of `corner_radius_m` (about `length_m` long). Right-angle bends, U-turns where the region is one
    cell wide, jogs where a convex corner follows a concave one, and legs that pass one cell apart, as the
    Jungle's road pieces lay it. None when the region touches itself only at a corner (its outline would cross)."""
    cells = {(0, 0)}
    while _grid_outline_length(cells) * GRID_CELL_M < 1.12 * length_m:
        frontier = sorted({(i + di, j + dj) for i, j in cells for di, dj in GRID_NEIGHBOURS} - cells)
        touching = np.array([sum((i + di, j + dj) in cells for di, dj in GRID_NEIGHBOURS) for i, j in frontier])
        weights = np.where(touching == 1, 4.0, 1.0)           # thin arms more than a blob: legs side by side
        cells.add(frontier[int(rng.choice(len(frontier), p=weights / weights.sum()))])
    outline = _grid_outline(cells)
    return None if outline is None else _filleted(outline * GRID_CELL_M, corner_radius_m)


def _grid_outline_length(cells: set[tuple[int, int]]) -> int:
    """The region's outline, in cell sides."""
    return sum((i + di, j + dj) not in cells for i, j in cells for di, dj in GRID_NEIGHBOURS)


def _grid_outline(cells: set[tuple[int, int]]) -> np.ndarray | None:
    """The corners of the region's outline in order, counter-clockwise (cell units); None unless it is one loop
    that never meets itself (a hole, or two cells touching only at a corner)."""
    sides = {}                                   # each outline side from corner to corner, the region on its left
    for i, j in cells:
        for (di, dj), start, end in (((0, -1), (i, j), (i + 1, j)), ((1, 0), (i + 1, j), (i + 1, j + 1)),
                                     ((0, 1), (i + 1, j + 1), (i, j + 1)), ((-1, 0), (i, j + 1), (i, j))):
            if (i + di, j + dj) not in cells:
                if start in sides:
                    return None                  # two sides leave one corner: the outline meets itself there
                sides[start] = end
    loop = [next(iter(sorted(sides)))]
    while sides[loop[-1]] != loop[0]:
        loop.append(sides[loop[-1]])
    if len(loop) != len(sides):
        return None                              # a hole: a second loop
    points = np.array(loop, dtype=np.float64)
    before, after = points - np.roll(points, 1, axis=0), np.roll(points, -1, axis=0) - points
    corners = before[:, 0] * after[:, 1] - before[:, 1] * after[:, 0] != 0
    return points[corners]


def _even_arc(points: np.ndarray, length_m: float, spacing_m: float) -> tuple[np.ndarray, np.ndarray, float]:
    """For a closed polyline scaled to `length_m`: each vertex's arc length (first repeated at the end),
    the evenly spaced arc lengths to resample at, and the scale."""
    closed = np.vstack([points, points[:1]])
    steps = np.hypot(*np.diff(closed, axis=0).T)
    scale = length_m / steps.sum()
    cumulative = np.concatenate([[0.0], np.cumsum(steps)]) * scale
    count = int(round(length_m / spacing_m))
    targets = np.arange(count) * (length_m / count)
    return cumulative, targets, scale


def _resample(points: np.ndarray, length_m: float, spacing_m: float) -> np.ndarray:
    """Scale a closed polyline to `length_m` and resample it at even arc length."""
    closed = np.vstack([points, points[:1]])
    cumulative, targets, scale = _even_arc(points, length_m, spacing_m)
    return np.stack([np.interp(targets, cumulative, closed[:, 0] * scale),
                     np.interp(targets, cumulative, closed[:, 1] * scale)], axis=1)


def _resample_heights(points: np.ndarray, heights_m: np.ndarray, spacing_m: float) -> np.ndarray:
    """Heights at the points `_resample(points, its ground-plane length, spacing_m)` gives, linear along the arc."""
    length_m = float(np.hypot(*np.diff(np.vstack([points, points[:1]]), axis=0).T).sum())
    cumulative, targets, _ = _even_arc(points, length_m, spacing_m)
    return np.interp(targets, cumulative, np.append(heights_m, heights_m[0]))


def _min_gap_m(points: np.ndarray, spacing_m: float) -> float:
    """Smallest distance between samples more than 2*MIN_GAP_M apart along the track."""
    sub = points[:: max(1, int(2.0 / spacing_m))]
    step = len(points) / len(sub) * spacing_m
    distance = np.hypot(sub[:, None, 0] - sub[None, :, 0], sub[:, None, 1] - sub[None, :, 1])
    index = np.arange(len(sub))
    along = np.abs(index[:, None] - index[None, :]) * step
    along = np.minimum(along, len(sub) * step - along)
    return float(distance[along > 2 * MIN_GAP_M].min())


def hill_heights(seed: int, s_m: np.ndarray, length_m: float, max_grade: float) -> np.ndarray:
    """Heights along a circuit (closing on themselves) whose steepest grade is `max_grade`: climbs, crests and dips.

    A sum of HILL_HARMONICS whole waves a lap with drawn amplitudes (falling with the wave number, so
    long climbs carry short humps) and phases, from their own random stream: a seed's plan view is
    the same with hills or without. The grade is the exact derivative, scaled to the limit.
    """
    rng = np.random.default_rng([seed, HILL_STREAM])
    waves = np.asarray(HILL_HARMONICS, np.float64)
    amplitudes = rng.uniform(0.4, 1.0, len(waves)) / waves
    phases = rng.uniform(0, 2 * np.pi, len(waves))
    angle = 2 * np.pi * np.outer(s_m / length_m, waves) + phases
    heights = np.sin(angle) @ amplitudes
    grades = (np.cos(angle) * (2 * np.pi * waves / length_m)) @ amplitudes
    return heights * (max_grade / np.abs(grades).max())


def check_max_grade(max_grade: object) -> float:
    """`max_grade` as a float, or ValueError when it is not a number from 0 (flat) to MAX_GRADE."""
    if isinstance(max_grade, bool) or not isinstance(max_grade, (int, float)) or not 0.0 <= max_grade <= MAX_GRADE:
        raise ValueError(f"max_grade must be a number from 0 to {MAX_GRADE:g} (rise over run), got {max_grade!r}")
    return float(max_grade)


def _with_hills(track: Track, max_grade: float) -> Track:
    """The same circuit with hill_heights up to `max_grade` (from the track's seed); the track itself when 0."""
    if max_grade == 0.0:
        return track
    return Track(track.points_m, track.width_m, track.seed,
                 hill_heights(track.seed, track.s_m, track.length_m, max_grade))


def generate_track(seed: int, length_m: float = DEFAULT_LENGTH_M, width_m: float = DEFAULT_WIDTH_M,
                   max_curvature_per_m: float = DEFAULT_MAX_CURVATURE_PER_M,
                   spacing_m: float = DEFAULT_SPACING_M, max_grade: float = 0.0,
                   corner_radius_m: float | None = None, layout: str = "polygon") -> Track:
    """A random closed circuit from `seed`: the same seed gives the same track, to the bit.

    Shape amplitudes are drawn, then shrunk until the tightest bend is under the curvature
    limit and distant parts of the circuit keep MIN_GAP_M apart. The direction of travel
    (clockwise or not) is drawn too, so bends to both sides are common. With `max_grade` > 0 the
    road climbs and falls (hill_heights) with grades up to it; 0 keeps it flat. With `corner_radius_m`
    the circuit is a drawn polygon instead, straights joined by arcs of that radius (_cornered_track); with `layout`
    grid, the outline of cells grown on a grid, the Jungle's kind of plan (_grid_shape).
    """
    max_grade = check_max_grade(max_grade)
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if corner_radius_m is not None:
        return _cornered_track(seed, length_m, width_m, max_curvature_per_m, spacing_m, max_grade, corner_radius_m,
                               layout)
    if layout != "polygon":
        raise ValueError(f"layout {layout!r} needs corner_radius_m: its corners are arcs of that radius")
    if length_m < 2 * np.pi / max_curvature_per_m:
        raise ValueError(f"a {length_m:g} m circuit cannot keep curvature under {max_curvature_per_m:g}/m: "
                         f"make it at least {2 * np.pi / max_curvature_per_m:.0f} m long")
    rng = np.random.default_rng(seed)
    amplitudes = rng.uniform(0.05, 0.22, len(HARMONICS)) / np.sqrt(np.arange(1, len(HARMONICS) + 1))
    phases = rng.uniform(0, 2 * np.pi, len(HARMONICS))
    clockwise = bool(rng.integers(2))
    for _ in range(60):
        shape = _polar_shape(amplitudes, phases)
        if clockwise:
            shape = shape[::-1]
        points = _resample(shape, length_m, spacing_m)
        track = Track(points, width_m, seed)
        if (np.abs(track.curvatures_per_m).max() <= max_curvature_per_m
                and _min_gap_m(points, spacing_m) >= MIN_GAP_M):
            return _with_hills(track, max_grade)
        amplitudes = amplitudes * 0.9
    raise ValueError(f"could not fit a {length_m:g} m circuit under curvature {max_curvature_per_m:g}/m")


def _cornered_track(seed: int, length_m: float, width_m: float, max_curvature_per_m: float, spacing_m: float,
                    max_grade: float, corner_radius_m: float, layout: str = "polygon") -> Track:
    """Straights and tight corners, as the real simulator's Jungle has (9-14 corners, some bending the other way).

    Polygons are drawn from the seed's own stream until one leaves room for its arcs and keeps
    CORNER_MIN_GAP_M apart; hills as generate_track gives them.
    """
    if not 0.0 < 1.0 / corner_radius_m <= max_curvature_per_m * 1.1:
        raise ValueError(f"corner_radius_m {corner_radius_m:g} bends tighter than max_curvature_per_m "
                         f"{max_curvature_per_m:g} allows (radius {1 / max_curvature_per_m:.1f} m)")
    rng = np.random.default_rng([seed, CORNER_STREAM])
    draw = _grid_shape if layout == "grid" else _cornered_shape
    for _ in range(400):
        shape = draw(rng, corner_radius_m, length_m)
        if shape is None:
            continue
        if rng.integers(2):
            shape = shape[::-1]
        points = _resample(shape, length_m, spacing_m)
        if _min_gap_m(points, spacing_m) < CORNER_MIN_GAP_M:
            continue
        return _with_hills(Track(points, width_m, seed), max_grade)
    raise ValueError(f"could not fit a {length_m:g} m circuit of corners of radius {corner_radius_m:g} m")


def named_track(name: str, spacing_m: float = DEFAULT_SPACING_M) -> Track:
    """A circuit of the real simulator by name ('lake', 'jungle'), resampled every `spacing_m`."""
    if name not in TRACK_NAMES:
        raise ValueError(f"unknown track {name!r}: the named tracks are {', '.join(TRACK_NAMES)}")
    if name == "jungle":
        centre_line, heights = jungle_centre_line_m()
        steps = np.hypot(*np.diff(np.vstack([centre_line, centre_line[:1]]), axis=0).T)
        return Track(_resample(centre_line, float(steps.sum()), spacing_m), JUNGLE_ROAD_WIDTH_M,
                     heights_m=_resample_heights(centre_line, heights, spacing_m), name="jungle")
    centre_line = lake_centre_line_m()
    steps = np.hypot(*np.diff(np.vstack([centre_line, centre_line[:1]]), axis=0).T)
    return Track(_resample(centre_line, float(steps.sum()), spacing_m), LAKE_ROAD_WIDTH_M, name="lake")


def parse_track(value: int | str) -> int | str:
    """A track as params or a command line give it: a seed (int, or digits) or a name from TRACK_NAMES."""
    if isinstance(value, bool):
        raise ValueError(f"a track is a seed (an integer) or one of {', '.join(TRACK_NAMES)}, not {value!r}")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    if text.lower() in TRACK_NAMES:
        return text.lower()
    raise ValueError(f"unknown track {value!r}: give a seed (an integer) or one of {', '.join(TRACK_NAMES)}")


def make_track(track: int | str, **shape: float) -> Track:
    """A generated circuit for a seed (shaped by length_m, width_m, ...) or a named one (only spacing_m applies)."""
    spec = parse_track(track)
    if isinstance(spec, str):
        return named_track(spec, shape.get("spacing_m", DEFAULT_SPACING_M))
    return generate_track(spec, **shape)
