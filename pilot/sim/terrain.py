"""The ground's heights for a track with hills, drawn once per track: a height raster and its bridge layers.

The road's height is exact where the road is: a raster cell within the road's half width of
the centre line takes the height of the centre line at its projection on the nearest
segment. Elsewhere, on the Jungle, the ground is the scene's own terrain (Unity's TerrainData,
`jungle_track.jungle_terrain_m`, sampled bilinearly: its cuttings, walls and terraces); on a
generated circuit it is synthesised from the road: the road's heights filled outwards (a
normalised Gaussian blur at two scales), plus smooth hills that rise from a few metres beyond
the road's edge, so the road runs between hillsides as the Jungle's does.

Where the track passes over itself (the Jungle's bridge), one raster cannot hold both roads.
The raster keeps the LOWER road there, with its cutting; a `Crossing` holds the deck's
heights and colours for the same cells, and `use_deck(True)` swaps them in (in place, only
when the choice changes). The renderer chooses per frame by the camera's height: above the
crossing's middle height the deck is the surface (a car on the deck, or anyone looking down
on it), below it the lower road is (the deck is then not drawn: a car under the bridge sees
the open sky where the deck would be, never a wall).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pilot.sim.jungle_track import jungle_terrain_m
from pilot.sim.scenery import EDGE_LINE_INSET_M, EDGE_LINE_WIDTH_M, RoadLook, Scenery, centre_dashes
from pilot.sim.track import Track

CELL_M = 0.25                     # height raster resolution
COARSE_CELL_M = 2.0               # the terrain is synthesised at this resolution, then upsampled
HILL_HEIGHT_M = 14.0              # typical rise of the hillsides above the road's level
HILL_SCALE_M = 40.0               # their size along the ground
HILL_START_M = 3.0                # hills start this far beyond the road's edge ...
HILL_FULL_M = 30.0                # ... and reach their full height this far
CROSSING_CLEARANCE_M = 3.0        # two roads this far apart in height at one place are a bridge
SUN_DIRECTION = np.array([-0.45, 0.35, 0.82])   # towards the sun: (east, north, up), for the hillsides' shading


@dataclass
class Crossing:
    """Where the road passes over itself: the cells of both layers, and which one the rasters hold now."""

    rows: slice                     # bounding box in the height raster
    columns: slice
    cells: np.ndarray               # bool mask within the box: both roads there
    lower_heights_m: np.ndarray     # box of heights with the lower road, and with the deck
    deck_heights_m: np.ndarray
    texture_rows: slice             # bounding box in the colour texture
    texture_columns: slice
    lower_rgb: np.ndarray           # texture box with the lower road drawn on top, and with the deck
    deck_rgb: np.ndarray
    middle_height_m: float          # a camera above this sees the deck; below it, the lower road
    deck_in_use: bool = False


@dataclass
class Terrain:
    """Heights of the ground (row 0 at y = top_y_m, column 0 at x = left_x_m) and the shaded colour texture."""

    heights_m: np.ndarray           # float32, CELL_M per cell
    left_x_m: float
    top_y_m: float
    cell_m: float
    ground_rgb: np.ndarray          # the scenery's texture with the hillsides' shading (and the crossings' layers)
    crossings: list[Crossing]

    def use_deck(self, crossing: Crossing, deck: bool) -> None:
        """Put the deck (True) or the lower road (False) of one crossing into the rasters, if not there already."""
        if crossing.deck_in_use == deck:
            return
        heights = self.heights_m[crossing.rows, crossing.columns]
        heights[crossing.cells] = (crossing.deck_heights_m if deck else crossing.lower_heights_m)[crossing.cells]
        self.ground_rgb[crossing.texture_rows, crossing.texture_columns] = crossing.deck_rgb if deck \
            else crossing.lower_rgb
        crossing.deck_in_use = deck

    def choose_layers(self, camera_height_m: float) -> None:
        """Each crossing shows the deck to a camera above its middle height and the lower road to one below."""
        for crossing in self.crossings:
            self.use_deck(crossing, camera_height_m > crossing.middle_height_m)


def _road_index(track: Track, shape: tuple[int, int], to_cell, lowest_on_top: bool) -> np.ndarray:
    """Raster of the centre-line segment each road cell belongs to (-1 off the road); where two parts of the
    road overlap, the lowest (or highest) segment wins. Each segment is a rectangle the road's width across
    (a cell wider each side), overlapping its neighbours by a cell: no round caps that would reach metres
    along the road and hand a ramp's cells to a segment lower down."""
    index = np.full(shape, -1.0, np.float32)
    heights = 0.5 * (track.heights_m + np.roll(track.heights_m, -1))
    order = np.argsort(-heights if lowest_on_top else heights, kind="stable")
    shift = 4
    following = np.roll(track.points_m, -1, axis=0)
    along = following - track.points_m
    along /= np.linalg.norm(along, axis=1, keepdims=True)
    across = np.stack([-along[:, 1], along[:, 0]], axis=1) * (track.half_width_m + CELL_M)
    reach = along * CELL_M
    corners = np.stack([track.points_m - reach + across, following + reach + across,
                        following + reach - across, track.points_m - reach - across], axis=1)
    corners_px = np.round(to_cell(corners.reshape(-1, 2)) * (1 << shift)).astype(np.int32).reshape(-1, 4, 2)
    for segment in order:
        cv2.fillConvexPoly(index, corners_px[segment], float(segment), cv2.LINE_8, shift)
    return index.astype(np.int32)


def _road_heights(track: Track, index: np.ndarray, cell_x: np.ndarray, cell_y: np.ndarray) -> np.ndarray:
    """Heights of the road cells: the centre line's height where each cell projects on its segment (NaN off road)."""
    heights = np.full(index.shape, np.nan, np.float32)
    road = index >= 0
    segment = index[road]
    start = track.points_m[segment]
    following = (segment + 1) % len(track.points_m)
    direction = track.points_m[following] - start
    along = ((cell_x[road] - start[:, 0]) * direction[:, 0] + (cell_y[road] - start[:, 1]) * direction[:, 1]) \
        / (direction ** 2).sum(axis=1)
    along = np.clip(along, -1.0, 2.0)                     # a cell past an end: the segment's line extended
    heights[road] = (1 - along) * track.heights_m[segment] + along * track.heights_m[following]
    return heights


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell: int) -> np.ndarray:
    coarse = rng.standard_normal((shape[0] // cell + 3, shape[1] // cell + 3)).astype(np.float32)
    field = cv2.resize(coarse, (coarse.shape[1] * cell, coarse.shape[0] * cell), interpolation=cv2.INTER_CUBIC)
    return field[cell: cell + shape[0], cell: cell + shape[1]]


def _hillsides(road_heights: np.ndarray, rng: np.random.Generator, hill_height_m: float) -> np.ndarray:
    """Terrain heights everywhere from the road's (NaN off the road): filled outwards, hills away from the road."""
    shape = road_heights.shape
    coarse_shape = (max(1, int(shape[1] * CELL_M / COARSE_CELL_M)), max(1, int(shape[0] * CELL_M / COARSE_CELL_M)))
    road = np.isfinite(road_heights)
    weight = cv2.resize(road.astype(np.float32), coarse_shape, interpolation=cv2.INTER_AREA)
    summed = cv2.resize(np.where(road, road_heights, 0).astype(np.float32), coarse_shape, interpolation=cv2.INTER_AREA)
    filled = np.full(weight.shape, float(np.nanmean(road_heights)), np.float32)
    for sigma_m in (60.0, 8.0):                         # wide first, then the near fill on top where it has support
        sigma = sigma_m / COARSE_CELL_M
        blurred_weight = cv2.GaussianBlur(weight, (0, 0), sigma)
        blurred = cv2.GaussianBlur(summed, (0, 0), sigma) / np.maximum(blurred_weight, 1e-9)
        support = np.clip(blurred_weight / (0.3 * blurred_weight.max()), 0.0, 1.0)
        filled = support * blurred + (1 - support) * filled
    off_road = (weight < 0.01).astype(np.uint8)
    distance_m = cv2.distanceTransform(off_road, cv2.DIST_L2, 5) * COARSE_CELL_M
    rise = np.clip((distance_m - HILL_START_M) / (HILL_FULL_M - HILL_START_M), 0.0, 1.0) ** 2
    hills = hill_height_m * np.clip(0.7 + 0.6 * _smooth_noise(rng, weight.shape, int(HILL_SCALE_M / COARSE_CELL_M)),
                                    0.0, None)
    terrain = cv2.resize(filled + rise * hills, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.where(road, road_heights, terrain).astype(np.float32)


def scene_ground_m(track: Track, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray | None:
    """The heights of the real simulator's terrain at these points (NaN outside it), or None for a track without
    one (a generated circuit, whose hillsides are synthesised; the Lake's world is flat)."""
    if track.name != "jungle":
        return None
    heights, origin_x, origin_y, cell = jungle_terrain_m()
    columns = ((np.asarray(x_m, np.float64) - origin_x) / cell).astype(np.float32)
    rows = ((np.asarray(y_m, np.float64) - origin_y) / cell).astype(np.float32)
    return cv2.remap(heights, columns, rows, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=np.nan)


def _shade(heights_m: np.ndarray) -> np.ndarray:
    """Light on the ground from its slope (1 on level ground), per height cell."""
    d_east = cv2.Sobel(heights_m, cv2.CV_32F, 1, 0, ksize=3) / (8 * CELL_M)
    d_north = -cv2.Sobel(heights_m, cv2.CV_32F, 0, 1, ksize=3) / (8 * CELL_M)
    normal = np.stack([-d_east, -d_north, np.ones_like(d_east)], axis=-1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    sun = SUN_DIRECTION / np.linalg.norm(SUN_DIRECTION)
    lit = np.clip(normal @ sun, 0.0, 1.0)
    return (0.35 + 0.65 * lit) / (0.35 + 0.65 * sun[2])


def _apply_shade(rgb: np.ndarray, shade: np.ndarray) -> np.ndarray:
    """Texture pixels times the shade of the cells under them (the shade raster covers the texture's extent)."""
    scaled = cv2.resize(shade.astype(np.float32), (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.clip(rgb * scaled[..., None], 0, 255).astype(np.uint8)


def _draw_branch(rgb: np.ndarray, track: Track, indices: np.ndarray, to_px, look: RoadLook) -> None:
    """Draw one stretch of road (asphalt, then its edge lines and centre dashes) over a texture box, in place."""
    def px(points: np.ndarray) -> np.ndarray:
        return np.round(to_px(points) * 8).astype(np.int32)

    def thickness(width_m: float) -> int:
        return max(1, int(round(width_m / 0.1)))

    cv2.polylines(rgb, [px(track.points_m[indices])], False, look.asphalt_rgb, thickness(track.width_m),
                  cv2.LINE_8, 3)
    for side in (-1.0, 1.0):
        line = track.offset_line(side * (track.half_width_m - EDGE_LINE_INSET_M))[indices]
        cv2.polylines(rgb, [px(line)], False, look.line_rgb, thickness(EDGE_LINE_WIDTH_M), cv2.LINE_AA, 3)
    for dash in centre_dashes(track, look, indices):
        cv2.polylines(rgb, [px(dash)], False, look.line_rgb, thickness(look.centre_line_width_m), cv2.LINE_AA, 3)


def _stretch(track: Track, segments: np.ndarray, margin_m: float) -> np.ndarray:
    """Centre-line indices from the first to the last of `segments`, widened by `margin_m` each way."""
    spacing = track.length_m / len(track.points_m)
    pad = int(np.ceil(margin_m / spacing))
    return np.arange(segments.min() - pad, segments.max() + pad + 2) % len(track.points_m)


def _crossings(track: Track, scenery: Scenery, low_index: np.ndarray, high_index: np.ndarray,
               lower: np.ndarray, deck: np.ndarray, heights: np.ndarray, ground_rgb: np.ndarray) -> list[Crossing]:
    both = (np.nan_to_num(deck - lower) > CROSSING_CLEARANCE_M).astype(np.uint8)
    count, labels = cv2.connectedComponents(both)
    crossings = []
    ratio = CELL_M / scenery.m_per_px
    for label in range(1, count):
        rows_at, columns_at = np.nonzero(labels == label)
        pad = int(np.ceil(2.0 / CELL_M))
        rows = slice(max(0, rows_at.min() - pad), rows_at.max() + pad + 1)
        columns = slice(max(0, columns_at.min() - pad), columns_at.max() + pad + 1)
        cells = labels[rows, columns] == label
        texture_rows = slice(int(rows.start * ratio), int(np.ceil(rows.stop * ratio)))
        texture_columns = slice(int(columns.start * ratio), int(np.ceil(columns.stop * ratio)))
        left_x = scenery.left_x_m + texture_columns.start * scenery.m_per_px
        top_y = scenery.top_y_m - texture_rows.start * scenery.m_per_px

        def to_px(points: np.ndarray, left_x: float = left_x, top_y: float = top_y) -> np.ndarray:
            return np.stack([(points[:, 0] - left_x) / scenery.m_per_px, (top_y - points[:, 1]) / scenery.m_per_px],
                            axis=1)

        boxes = []
        for index, layer in ((low_index, lower), (high_index, deck)):
            rgb = scenery.ground_rgb[texture_rows, texture_columns].copy()
            _draw_branch(rgb, track, _stretch(track, index[rows, columns][cells], 4.0), to_px, scenery.look)
            box_heights = heights[rows, columns].copy()
            box_heights[cells] = layer[rows, columns][cells]
            boxes.append((box_heights, _apply_shade(rgb, _shade(box_heights))))
        middle = 0.5 * float(np.mean(lower[rows, columns][cells]) + np.mean(deck[rows, columns][cells]))
        crossings.append(Crossing(rows, columns, cells, boxes[0][0], boxes[1][0], texture_rows, texture_columns,
                                  boxes[0][1], boxes[1][1], middle))
        ground_rgb[texture_rows, texture_columns] = boxes[0][1]
    return crossings


def build_terrain(track: Track, scenery: Scenery, hill_height_m: float = HILL_HEIGHT_M, seed: int = 0) -> Terrain:
    """Heights around a track with hills and the scenery's texture shaded by them (a few seconds for the Jungle);
    `hill_height_m` and `seed` shape the synthesised hillsides of a track without a scene terrain."""
    if track.heights_m is None:
        raise ValueError("a flat track has no terrain to build: its renderer draws the ground as a plane")
    texture_h, texture_w = scenery.ground_rgb.shape[:2]
    shape = (int(np.ceil(texture_h * scenery.m_per_px / CELL_M)), int(np.ceil(texture_w * scenery.m_per_px / CELL_M)))
    left_x, top_y = scenery.left_x_m, scenery.top_y_m

    def to_cell(points: np.ndarray) -> np.ndarray:
        return np.stack([(points[:, 0] - left_x) / CELL_M - 0.5, (top_y - points[:, 1]) / CELL_M - 0.5], axis=1)

    cell_x = left_x + (np.arange(shape[1], dtype=np.float64)[None, :] + 0.5) * CELL_M
    cell_y = top_y - (np.arange(shape[0], dtype=np.float64)[:, None] + 0.5) * CELL_M
    cell_x, cell_y = np.broadcast_to(cell_x, shape), np.broadcast_to(cell_y, shape)
    low_index = _road_index(track, shape, to_cell, lowest_on_top=True)
    high_index = _road_index(track, shape, to_cell, lowest_on_top=False)
    lower = _road_heights(track, low_index, cell_x, cell_y)
    deck = _road_heights(track, high_index, cell_x, cell_y)
    heights = _hillsides(lower, np.random.default_rng([seed, 20261]), hill_height_m)
    scene = scene_ground_m(track, cell_x, cell_y)
    if scene is not None:             # the scene's terrain off the road, where it reaches
        heights = np.where(np.isfinite(lower) | ~np.isfinite(scene), heights, scene).astype(np.float32)
    ground_rgb = _apply_shade(scenery.ground_rgb, _shade(heights))
    crossings = _crossings(track, scenery, low_index, high_index, lower, deck, heights, ground_rgb)
    return Terrain(heights, left_x, top_y, CELL_M, ground_rgb, crossings)
