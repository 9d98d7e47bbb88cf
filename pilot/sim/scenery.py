"""What the world looks like, drawn once per track: a top-down ground texture and a sky panorama.

The camera never draws roads itself: it maps this ground texture into the image with a
homography and cuts the visible slice out of the 360-degree panorama. Everything random
here is drawn from the track's seed, so a track always looks the same.

A track's look (RoadLook) is its road's paint and its verges: the generated circuits and the
Lake wear yellow edge lines and red/white kerbs on the bends; the Jungle, as the simulator
draws it, light grey asphalt, white edge lines, a dashed white centre line, no kerbs, dark
green verges and palm-crown shadows across the road.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pilot.sim.track import Track

TEXTURE_M_PER_PX = 0.1          # ground texture resolution
MARGIN_M = 70.0                 # ground drawn around the circuit's bounding box
MAX_TEXTURE_PX = 10000          # 300 MB of texture: larger circuits are refused
EDGE_LINE_WIDTH_M = 0.25
EDGE_LINE_INSET_M = 0.35        # from the asphalt's edge to the line's centre
CURB_WIDTH_M = 0.9              # red/white curbs just outside the asphalt on bends
CURB_STRIPE_M = 1.5             # length of one red or white block
CURB_CURVATURE_PER_M = 0.016    # bends at least this tight get curbs
PANORAMA_WIDTH_PX = 2048        # columns for 360 degrees of sky
ASPHALT_RGB = (104, 104, 108)
LINE_RGB = (226, 206, 78)
CURB_RED_RGB = (196, 42, 36)
CURB_WHITE_RGB = (236, 236, 232)

_GRASS, _ASPHALT, _LINE, _CURB_RED, _CURB_WHITE = range(5)


@dataclass(frozen=True)
class RoadLook:
    """A track's paint and verges."""

    asphalt_rgb: tuple[int, int, int] = ASPHALT_RGB
    line_rgb: tuple[int, int, int] = LINE_RGB
    curbs: bool = True                          # red/white kerbs on the tight bends
    centre_dash_m: float = 0.0                  # dashed centre line: dash length (0: no centre line) ...
    centre_gap_m: float = 0.0                   # ... and the gap between dashes
    centre_line_width_m: float = 0.15
    grass_rgb_low: tuple[float, float, float] = (110.0, 125.0, 50.0)    # the verge's colour, drawn per track
    grass_rgb_high: tuple[float, float, float] = (165.0, 150.0, 80.0)
    patch_rgb: tuple[int, int, int] = (150, 128, 92)    # patches off the road: dry earth, or rock
    palm_shadows_per_km: float = 0.0            # palm-crown shadows on and beside the road
    palm_shadow_darkness: float = 0.5           # a shadow's pixels are this much darker at its core


GENERATED_LOOK = RoadLook()
# from real Jungle frames (shared/real-recordings.md, jungle_mouse): road ~(153, 152, 148), paint ~250,
# dashes about 3 m with 6 m gaps, palm shadows across the lane (shared/udacity/jungle_menu_picture.png)
JUNGLE_LOOK = RoadLook(asphalt_rgb=(150, 149, 146), line_rgb=(238, 238, 234), curbs=False, centre_dash_m=3.0,
                       centre_gap_m=6.0, centre_line_width_m=0.2, grass_rgb_low=(70.0, 88.0, 40.0),
                       grass_rgb_high=(100.0, 118.0, 62.0), patch_rgb=(78, 82, 74), palm_shadows_per_km=60.0)
LOOKS = {"generated": GENERATED_LOOK, "jungle": JUNGLE_LOOK}
LOOK_NAMES = tuple(LOOKS)


def look_of(track: Track, look: str | None = None) -> RoadLook:
    """The look named (one of LOOK_NAMES), else the named track's own, else the generated circuits' (the Lake's)."""
    if look is not None:
        if look not in LOOKS:
            raise ValueError(f"unknown look {look!r}: use one of {', '.join(LOOK_NAMES)}")
        return LOOKS[look]
    return LOOKS.get(track.name or "", GENERATED_LOOK)


def centre_dashes(track: Track, look: RoadLook, indices: np.ndarray | None = None) -> list[np.ndarray]:
    """The dashed centre line as polylines (metres), one per dash, over the centre-line samples `indices`
    (default: all, the circuit closed); a dash covers s in [k (dash + gap), k (dash + gap) + dash)."""
    if look.centre_dash_m <= 0:
        return []
    count = len(track.points_m)
    indices = np.arange(count + 1) % count if indices is None else np.asarray(indices)
    period = look.centre_dash_m + look.centre_gap_m
    on = np.mod(track.s_m[indices], period) < look.centre_dash_m
    dashes, start = [], None
    for position, painted in enumerate(np.append(on, False)):
        if painted and start is None:
            start = position
        elif not painted and start is not None:
            if position - start >= 2:
                dashes.append(track.points_m[indices[start:position]])
            start = None
    return dashes


@dataclass(frozen=True)
class Scenery:
    """Pixels of one track's world. Ground: RGB, row 0 at y = top_y_m, column 0 at x = left_x_m."""

    ground_rgb: np.ndarray
    left_x_m: float
    top_y_m: float
    m_per_px: float
    panorama_rgb: np.ndarray        # rows above the ground band x PANORAMA_WIDTH_PX, column 0 = east
    horizon_row: float              # where the panorama's horizon sits (its bottom rows are distant ground)
    distant_rgb: tuple[int, int, int]   # colour of ground beyond the texture and of the haze
    look: RoadLook = GENERATED_LOOK     # the paint the texture wears (the terrain redraws crossings with it)


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], cell_px: int, channels: int = 1) -> np.ndarray:
    """Zero-mean, unit-ish low-frequency noise (cubic upsampling of a coarse grid), float32."""
    coarse = rng.standard_normal((shape[0] // cell_px + 3, shape[1] // cell_px + 3, channels)).astype(np.float32)
    field = cv2.resize(coarse, ((coarse.shape[1]) * cell_px, (coarse.shape[0]) * cell_px),
                       interpolation=cv2.INTER_CUBIC)
    field = field.reshape(field.shape[0], field.shape[1], channels)
    return field[cell_px: cell_px + shape[0], cell_px: cell_px + shape[1]]


def _bend_mask(track: Track) -> np.ndarray:
    """Centre-line samples on a bend, widened by ~8 m so curbs start before the turn-in."""
    spacing = track.length_m / len(track.points_m)
    radius = max(1, int(round(8.0 / spacing)))
    kernel = np.ones(2 * radius + 1) / (2 * radius + 1)
    padded = np.concatenate([track.curvatures_per_m[-radius:], track.curvatures_per_m, track.curvatures_per_m[:radius]])
    smooth = np.abs(np.convolve(padded, kernel, mode="valid"))
    mask = smooth > CURB_CURVATURE_PER_M
    grown = np.concatenate([mask[-radius:], mask, mask[:radius]])
    return np.convolve(grown, np.ones(2 * radius + 1), mode="valid") > 0


def _draw_labels(track: Track, to_px, shape: tuple[int, int], look: RoadLook) -> np.ndarray:
    """Label map: grass, asphalt, edge lines, centre dashes, curbs (drawn with sub-pixel polylines)."""
    shift = 3
    labels = np.zeros(shape, dtype=np.uint8)

    def px(points: np.ndarray) -> np.ndarray:
        return np.round(to_px(points) * (1 << shift)).astype(np.int32)

    def thickness(width_m: float) -> int:
        return max(1, int(round(width_m / TEXTURE_M_PER_PX)))

    half = track.half_width_m
    bends = _bend_mask(track)
    stripe = (np.floor(track.s_m / CURB_STRIPE_M).astype(int) % 2).astype(bool)
    for side in (-1.0, 1.0) if look.curbs else ():
        curb = px(track.offset_line(side * (half + 0.5 * CURB_WIDTH_M - 0.1)))
        for index in np.flatnonzero(bends):
            colour = _CURB_WHITE if stripe[index] else _CURB_RED
            following = (index + 1) % len(curb)
            cv2.line(labels, tuple(curb[index]), tuple(curb[following]), colour, thickness(CURB_WIDTH_M),
                     cv2.LINE_8, shift)
    cv2.polylines(labels, [px(track.points_m)], True, _ASPHALT, thickness(track.width_m), cv2.LINE_8, shift)
    for side in (-1.0, 1.0):
        line = px(track.offset_line(side * (half - EDGE_LINE_INSET_M)))
        cv2.polylines(labels, [line], True, _LINE, thickness(EDGE_LINE_WIDTH_M), cv2.LINE_AA, shift)
    for dash in centre_dashes(track, look):
        cv2.polylines(labels, [px(dash)], False, _LINE, thickness(look.centre_line_width_m), cv2.LINE_AA, shift)
    return labels


def _ground_texture(track: Track, rng: np.random.Generator,
                    look: RoadLook) -> tuple[np.ndarray, float, float, tuple[int, int, int]]:
    low = track.points_m.min(axis=0) - MARGIN_M
    high = track.points_m.max(axis=0) + MARGIN_M
    width_px = int(np.ceil((high[0] - low[0]) / TEXTURE_M_PER_PX))
    height_px = int(np.ceil((high[1] - low[1]) / TEXTURE_M_PER_PX))
    if max(width_px, height_px) > MAX_TEXTURE_PX:
        raise ValueError(f"a track spanning {high[0] - low[0]:.0f} x {high[1] - low[1]:.0f} m is too large to draw: "
                         f"keep circuits within {MAX_TEXTURE_PX * TEXTURE_M_PER_PX - 2 * MARGIN_M:.0f} m "
                         f"(shorten length_m)")

    def to_px(points: np.ndarray) -> np.ndarray:
        return np.stack([(points[:, 0] - low[0]) / TEXTURE_M_PER_PX, (high[1] - points[:, 1]) / TEXTURE_M_PER_PX],
                        axis=1)

    labels = _draw_labels(track, to_px, (height_px, width_px), look)
    grass_rgb = np.array([rng.uniform(low, high) for low, high in zip(look.grass_rgb_low, look.grass_rgb_high)],
                         dtype=np.float32)
    dirt_rgb = np.array(look.patch_rgb, dtype=np.float32)
    palette = np.array([grass_rgb, look.asphalt_rgb, look.line_rgb, CURB_RED_RGB, CURB_WHITE_RGB], dtype=np.float32)
    amount = np.array([18.0, 6.0, 10.0, 8.0, 6.0], dtype=np.float32)        # tone and grain, per label
    grain_amount = np.array([26.0, 9.0, 10.0, 8.0, 6.0], dtype=np.float32)
    patches = _smooth_field(rng, (height_px, width_px), 120)[..., 0]
    tone = _smooth_field(rng, (height_px, width_px), 40)[..., 0]
    clumps = _smooth_field(rng, (height_px, width_px), 3)[..., 0]             # grass tufts, ~0.3 m
    ground = np.empty((height_px, width_px, 3), np.uint8)
    for start in range(0, height_px, 256):                 # in bands: float temporaries stay small
        rows = slice(start, min(height_px, start + 256))
        band_labels = labels[rows]
        image = palette[band_labels]
        dirt = np.clip(patches[rows] - 0.6, 0.0, 0.8) * (band_labels == _GRASS)
        image += dirt[..., None] * (dirt_rgb - grass_rgb)   # dry, brown patches off the road (the Jungle: rock)
        grain = rng.standard_normal(band_labels.shape, dtype=np.float32)
        tufts = 14.0 * clumps[rows] * (band_labels == _GRASS)
        image += (tone[rows] * amount[band_labels] + grain * grain_amount[band_labels] + tufts)[..., None]
        np.clip(image, 0, 255, out=image)
        ground[rows] = image.astype(np.uint8)
    if look.palm_shadows_per_km > 0:
        _palm_shadows(ground, track, to_px, look, rng)
    return ground, float(low[0]), float(high[1]), tuple(int(c) for c in grass_rgb)


def _palm_shadows(ground: np.ndarray, track: Track, to_px, look: RoadLook, rng: np.random.Generator) -> None:
    """Darken the texture, in place, under palm crowns standing beside the road: each a star of 6-9 fronds
    2-4 m long, its centre up to 4 m beyond either edge (the low sun throws it across the lane)."""
    count = int(round(look.palm_shadows_per_km * track.length_m / 1000.0))
    shade = np.zeros(ground.shape[:2], np.float32)
    per_m = 1.0 / TEXTURE_M_PER_PX
    for index in rng.integers(0, len(track.points_m), count):
        side = 1.0 if rng.random() < 0.5 else -1.0
        lateral = side * (track.half_width_m + rng.uniform(-2.5, 4.0))
        centre = to_px(track.offset_line(lateral)[index:index + 1])[0]
        for angle in rng.uniform(0, 2 * np.pi) + np.linspace(0, 2 * np.pi, int(rng.integers(6, 10)), endpoint=False):
            length = rng.uniform(2.0, 4.0) * per_m
            tip = centre + length * np.array([np.cos(angle), np.sin(angle)])
            cv2.line(shade, tuple(np.round(centre * 8).astype(int)), tuple(np.round(tip * 8).astype(int)), 1.0,
                     max(1, int(round(0.5 * per_m))), cv2.LINE_AA, 3)
    shade = cv2.GaussianBlur(shade, (0, 0), 0.15 * per_m)
    shaded = shade > 0                   # only these pixels change: no full-texture float copy (~200 MB)
    factor = 1.0 - look.palm_shadow_darkness * np.clip(shade[shaded], 0, 1)
    ground[shaded] = np.clip(ground[shaded] * factor[:, None], 0, 255).astype(np.uint8)


def _panorama(rng: np.random.Generator, rows: int, horizon_row: float,
              grass_rgb: tuple[int, int, int]) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Sky gradient, two ranges of hills and tree lines, over 360 degrees (columns = azimuth)."""
    width = PANORAMA_WIDTH_PX
    horizon = int(round(horizon_row))
    top = np.array([70, 130, 215], dtype=np.float32)
    bottom = np.array([185, 208, 232], dtype=np.float32)
    blend = (np.arange(rows, dtype=np.float32) / max(1, horizon))[:, None].clip(0, 1) ** 1.5
    sky = (top * (1 - blend) + bottom * blend)[:, None, :] * np.ones((1, width, 1), np.float32)
    azimuth = 2 * np.pi * np.arange(width) / width
    distant = np.array(grass_rgb, dtype=np.float32) * 0.55 + bottom * 0.45

    def ridge(scale_px: float, lumpiness: int) -> np.ndarray:
        profile = np.zeros(width)
        for k in range(1, lumpiness + 1):
            profile += rng.uniform(0.3, 1.0) / k * np.cos(k * azimuth + rng.uniform(0, 2 * np.pi))
        profile = (profile - profile.min()) / np.ptp(profile)
        return horizon - 2 - scale_px * profile

    row_index = np.arange(rows)[:, None]
    far = ridge(rng.uniform(14, 34), 9)
    sky[row_index >= far[None, :]] = np.array([138, 160, 170], np.float32)   # hazy blue-grey hills
    near = ridge(rng.uniform(8, 26), 14)
    near_rgb = np.array([150, 140, 92], np.float32) * rng.uniform(0.85, 1.1)
    near_mask = row_index >= near[None, :]
    shade = _smooth_field(rng, (rows, width), 16)[..., 0]
    sky[near_mask] = (near_rgb[None, :] * (1 + 0.12 * shade[near_mask][:, None]))
    trees = np.zeros((rows, width), np.uint8)
    for _ in range(int(rng.integers(120, 260))):                         # trees on the near hills
        column = int(rng.integers(width))
        base = int(near[column]) + int(rng.integers(0, 5))
        height = int(rng.integers(4, 16))
        if rng.random() < 0.5:                                           # a round crown
            cv2.ellipse(trees, (column, base - height // 2), (int(rng.integers(3, 9)), height // 2 + 1),
                        0, 0, 360, 255, -1)
        else:                                                            # a conifer
            half = int(rng.integers(2, 6))
            cv2.fillConvexPoly(trees,
                               np.array([[column - half, base], [column + half, base], [column, base - height - 3]]),
                               255)
    tree_rgb = np.array([52, 78, 40], np.float32)
    sky[trees > 0] = tree_rgb * (1 + 0.15 * shade[trees > 0][:, None])
    sky[horizon:] = distant
    panorama = np.clip(sky, 0, 255).astype(np.uint8)
    return panorama, tuple(int(c) for c in distant)


def build_scenery(track: Track, seed: int, panorama_rows: int, horizon_row: float, look: str | None = None) -> Scenery:
    """Draw a track's world once (a second or so): ground texture, panorama, distant colour; in the look named
    (LOOK_NAMES), or the track's own."""
    rng = np.random.default_rng([seed, 20260])
    look = look_of(track, look)
    ground, left_x, top_y, grass = _ground_texture(track, rng, look)
    panorama, distant = _panorama(rng, panorama_rows, horizon_row, grass)
    return Scenery(ground, left_x, top_y, TEXTURE_M_PER_PX, panorama, horizon_row, distant, look)
