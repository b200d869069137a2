"""``shapes``: the built-in synthetic video data set (procedural, no files).

Each video shows one coloured shape (circle, square, triangle, diamond, cross, star) of a
random size over a dark solid or gradient background, moving with one of seven motion
classes (:data:`MOTIONS`): ``horizontal``, ``vertical``, ``diagonal`` (bouncing off the frame
edges at a constant speed), ``circular`` (orbiting a point), ``zoom`` (growing and shrinking),
``rotation`` (spinning in place) and ``still``. The moving-shapes idea follows the synthetic
set of MoCoGAN (Tulyakov et al. 2018), whose ACD uses average colour as the content feature;
the renderer here is vidbench's own.

Determinism: video ``i`` is drawn from ``numpy.random.SeedSequence([seed, i])``, so any access
order, subset or worker split gives the same clip; the motion class is ``motions[i % len]``,
so classes are balanced in every prefix. Rendering is anti-aliased by analytic pixel coverage
(a one-pixel linear ramp across the signed distance to the shape's edge, i.e. a box-filtered
edge) and stored rounded half up to uint8. Changing the renderer bumps :data:`SHAPES_VERSION`,
which is part of the fingerprint.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from vidbench.data.base import ClipSource, fingerprint_of
from vidbench.utils.errors import VidbenchError

SHAPES_VERSION = 1
SHAPE_KINDS = ("circle", "square", "triangle", "diamond", "cross", "star")
BACKGROUNDS = ("any", "solid", "gradient", "black")
ORIENTATIONS = ("random", "upright")
SIZES = ("random", "fixed")
FIXED_SIZE = 0.16     # size=fixed: the middle of the random radius range 0.12..0.20
MOTIONS = ("horizontal", "vertical", "diagonal", "circular", "zoom", "rotation", "still")
# Short names accepted for motion classes (``shapes:motion=circle``).
MOTION_ALIASES = {"circle": "circular", "rotate": "rotation", "static": "still"}
COLOURS = {  # bright foreground palette, RGB in [0, 1]
    "red": (0.93, 0.18, 0.16), "green": (0.20, 0.80, 0.27), "blue": (0.25, 0.45, 1.00),
    "yellow": (0.98, 0.88, 0.18), "cyan": (0.15, 0.88, 0.92), "magenta": (0.90, 0.25, 0.85),
    "orange": (1.00, 0.58, 0.10), "white": (0.96, 0.96, 0.96),
}
MIN_RESOLUTION, MAX_RESOLUTION = 32, 256
_FRAMES_PER_CHUNK = 16  # bounds the renderer's temporaries at large sizes
_MARGIN = 0.03          # gap kept between a shape's bounding circle and the frame edge


def _pick(rng: np.random.Generator, options: Sequence[Any]) -> Any:
    return options[int(rng.integers(len(options)))]


def _bounce(start: float, velocity: float, lo: float, hi: float, t: np.ndarray) -> np.ndarray:
    """Positions of a point moving at ``velocity`` per frame, reflected inside [lo, hi]."""
    span = hi - lo
    if span <= 0:
        return np.full(t.shape, (lo + hi) / 2)
    u = np.mod(start - lo + velocity * t, 2 * span)
    return lo + np.where(u > span, 2 * span - u, u)


# --------------------------------------------------------------------------- signed distances
# Local coordinates (qx, qy) with y pointing down; r is the shape's radius; all [T, H, W].
def _sd_box(qx, qy, hx, hy):
    dx, dy = np.abs(qx) - hx, np.abs(qy) - hy
    outside = np.hypot(np.maximum(dx, 0), np.maximum(dy, 0))
    return outside + np.minimum(np.maximum(dx, dy), 0)


def _sd_polygon(qx, qy, r, n, flip=False):
    """Regular n-gon with circumradius r and a vertex up (down if ``flip``)."""
    base = np.pi / 2 if flip else -np.pi / 2
    apothem = r * np.cos(np.pi / n)
    d = None
    for k in range(n):
        phi = base + np.pi / n + 2 * np.pi * k / n
        e = qx * np.cos(phi) + qy * np.sin(phi) - apothem
        d = e if d is None else np.maximum(d, e)
    return d


def _signed_distance(kind: str, qx, qy, r):
    if kind == "circle":
        return np.hypot(qx, qy) - r
    if kind == "square":
        return _sd_box(qx, qy, 0.82 * r, 0.82 * r)
    if kind == "triangle":
        return _sd_polygon(qx, qy, 1.2 * r, 3)
    if kind == "diamond":
        a, b = 0.78 * r, 1.1 * r
        return (np.abs(qx) * b + np.abs(qy) * a - a * b) / np.hypot(a, b)
    if kind == "cross":
        return np.minimum(_sd_box(qx, qy, r, 0.34 * r), _sd_box(qx, qy, 0.34 * r, r))
    if kind == "star":
        return np.minimum(_sd_polygon(qx, qy, 1.1 * r, 3),
                          _sd_polygon(qx, qy, 1.1 * r, 3, flip=True))
    raise ValueError(kind)


# --------------------------------------------------------------------------- the data set
class ShapesSource(ClipSource):
    """The ``shapes`` data set (a map-style ClipSource); build it with :func:`make_shapes`."""

    def __init__(self, num_videos: int, length: int, resolution: int, seed: int,
                 motions: tuple[str, ...], shapes: tuple[str, ...], scale: float = 1.0,
                 background: str = "any", colours: tuple[str, ...] = tuple(COLOURS),
                 orientation: str = "random", size: str = "random", speed: float = 1.0):
        super().__init__()
        self.num_videos, self.length = num_videos, length
        self.resolution, self.seed = resolution, seed
        self.motions, self.shapes = motions, shapes
        self.scale, self.background, self.colours = scale, background, colours
        self.orientation, self.size, self.speed = orientation, size, speed
        self.name = "shapes"
        options = {"num_videos": num_videos, "length": length, "resolution": resolution,
                   "seed": seed, "motions": list(motions), "shapes": list(shapes)}
        # Non-default options only, so that the fingerprints of the defaults never change.
        if scale != 1.0:
            options["scale"] = scale
        if background != "any":
            options["background"] = background
        if colours != tuple(COLOURS):
            options["colours"] = list(colours)
        if orientation != "random":
            options["orientation"] = orientation
        if size != "random":
            options["size"] = size
        if speed != 1.0:
            options["speed"] = speed
        self.fingerprint = fingerprint_of({"dataset": "shapes", "version": SHAPES_VERSION,
                                           **options})
        self.meta = {"dataset": "shapes", "generator_version": SHAPES_VERSION, **options}

    def __len__(self) -> int:
        return self.num_videos

    def _index(self, index: int) -> int:
        if index < 0:
            index += self.num_videos
        if not 0 <= index < self.num_videos:
            raise IndexError(f"video {index} out of range for shapes ({self.num_videos} videos)")
        return int(index)

    def _params(self, index: int) -> dict[str, Any]:
        """Every random choice of video ``index`` (JSON-able)."""
        index = self._index(index)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, index]))
        motion = self.motions[index % len(self.motions)]
        kinds = [k for k in self.shapes if k != "circle"] if motion == "rotation" else self.shapes
        if not kinds:  # only circles requested with rotation: a circle spins invisibly
            kinds = list(self.shapes)
        p: dict[str, Any] = {"index": index, "motion": motion, "shape": _pick(rng, kinds),
                             "colour": _pick(rng, list(COLOURS)),   # redrawn below if restricted
                             "size": float(rng.uniform(0.12, 0.20)) * self.scale,
                             "angle": float(rng.uniform(0, 2 * np.pi)),
                             "background": _pick(rng, ["solid", "gradient"]),
                             "background_rgb": [[float(v) for v in rng.uniform(0.0, 0.42, 3)]
                                                for _ in range(2)],
                             "gradient_angle": float(rng.uniform(0, 2 * np.pi))}
        if self.background != "any":  # drawn above all the same: other choices stay put
            p["background"] = self.background
        if p["background"] == "black":
            p["background"], p["background_rgb"] = "solid", [[0.0, 0.0, 0.0]]
        if p["background"] == "solid":
            p["background_rgb"] = p["background_rgb"][:1]
        if self.colours != tuple(COLOURS):  # own stream: every other choice stays put
            pick = np.random.default_rng(np.random.SeedSequence([self.seed, index, 1]))
            p["colour"] = _pick(pick, self.colours)
        if self.orientation == "upright":  # drawn above all the same: other choices stay put
            p["angle"] = 0.0
        if self.size == "fixed":  # drawn above all the same; the centre below then uses the
            # same draws within the room this radius leaves
            p["size"] = FIXED_SIZE * self.scale
        reach = p["size"] * 1.2 + _MARGIN  # bounding circle of every shape plus the margin
        if motion == "zoom":
            p["zoom_amplitude"] = float(rng.uniform(0.3, 0.5))
            p["zoom_period"] = float(rng.uniform(10, 20))
            reach = p["size"] * (1 + p["zoom_amplitude"]) * 1.2 + _MARGIN
        reach = min(reach, 0.5)  # big shapes (scale near 2) may not fit: centre them
        p["center"] = [float(rng.uniform(reach, 1 - reach)) for _ in range(2)]
        speed = float(rng.uniform(0.025, 0.05))
        sign = [1.0 if s else -1.0 for s in rng.integers(0, 2, 2)]
        if motion == "horizontal":
            p["velocity"] = [sign[0] * speed, 0.0]
        elif motion == "vertical":
            p["velocity"] = [0.0, sign[1] * speed]
        elif motion == "diagonal":
            p["velocity"] = [sign[0] * speed / np.sqrt(2), sign[1] * speed / np.sqrt(2)]
        elif motion == "circular":
            room = 0.5 - reach  # big shapes (scale > 1) may leave little room (reach <= 0.5)
            p["orbit_radius"] = float(rng.uniform(min(0.14, room), room))
            p["center"] = [float(0.5 + rng.uniform(-0.02, 0.02)) for _ in range(2)]
            p["angular_speed"] = sign[0] * float(rng.uniform(2 * np.pi / 24, 2 * np.pi / 12))
            p["phase"] = float(rng.uniform(0, 2 * np.pi))
        elif motion == "rotation":
            p["angular_speed"] = sign[0] * float(rng.uniform(0.10, 0.25))
        if self.speed != 1.0:  # drawn above all the same: only the pace changes
            if "velocity" in p:
                p["velocity"] = [v * self.speed for v in p["velocity"]]
            if "angular_speed" in p:
                p["angular_speed"] *= self.speed
            if "zoom_period" in p:
                p["zoom_period"] /= self.speed
        return p

    def labels(self, index: int) -> dict[str, Any]:
        """Content and motion labels of video ``index`` (its generating parameters)."""
        return self._params(index)

    def get_clip(self, index: int) -> np.ndarray:
        return self.get_frames(index, range(self.length))

    def get_frames(self, index: int, frames: Sequence[int]) -> np.ndarray:
        """Frames ``frames`` of video ``index`` only (each frame is rendered on its own, so
        they equal the same frames of :meth:`get_clip`); a clip spec reads through this."""
        p = self._params(index)
        t = np.asarray(list(frames), dtype=np.int64)
        if t.size and (t.min() < 0 or t.max() >= self.length):
            raise IndexError(f"frames {t.min()}..{t.max()} out of range for shapes videos of "
                             f"{self.length} frames")
        chunks = [t[s:s + _FRAMES_PER_CHUNK] for s in range(0, len(t), _FRAMES_PER_CHUNK)]
        if not chunks:
            return np.zeros((0, self.resolution, self.resolution, 3), np.uint8)
        return np.concatenate([self._render(p, c) for c in chunks])

    def _trajectory(self, p: dict[str, Any], t: np.ndarray):
        """Centre x, y, angle and radius per frame ``t``."""
        n = len(t)
        cx, cy = np.full(n, p["center"][0]), np.full(n, p["center"][1])
        angle, radius = np.full(n, p["angle"]), np.full(n, p["size"])
        motion = p["motion"]
        reach = p["size"] * 1.2 + _MARGIN
        if motion in ("horizontal", "vertical", "diagonal"):
            cx = _bounce(cx[0], p["velocity"][0], reach, 1 - reach, t)
            cy = _bounce(cy[0], p["velocity"][1], reach, 1 - reach, t)
        elif motion == "circular":
            a = p["phase"] + p["angular_speed"] * t
            cx = cx + p["orbit_radius"] * np.cos(a)
            cy = cy + p["orbit_radius"] * np.sin(a)
        elif motion == "zoom":
            radius = radius * (1 + p["zoom_amplitude"] * np.sin(2 * np.pi * t / p["zoom_period"]))
        elif motion == "rotation":
            angle = angle + p["angular_speed"] * t
        return cx, cy, angle, radius

    def _render(self, p: dict[str, Any], t: np.ndarray) -> np.ndarray:
        res = self.resolution
        grid = (np.arange(res, dtype=np.float64) + 0.5) / res
        trajectory = self._trajectory(p, t.astype(np.float64))
        cx, cy, angle, radius = (v[:, None, None] for v in trajectory)
        dx, dy = grid[None, None, :] - cx, grid[None, :, None] - cy
        cos, sin = np.cos(angle), np.sin(angle)
        qx, qy = cos * dx + sin * dy, -sin * dx + cos * dy
        sd_pixels = _signed_distance(p["shape"], qx, qy, radius) * res
        alpha = np.clip(0.5 - sd_pixels, 0.0, 1.0)[..., None].astype(np.float32)
        bg = np.asarray(p["background_rgb"], np.float32)
        if p["background"] == "gradient":
            ga = p["gradient_angle"]
            ramp = np.clip((grid[None, :] - 0.5) * np.cos(ga) + (grid[:, None] - 0.5) * np.sin(ga)
                           + 0.5, 0, 1).astype(np.float32)[..., None]
            background = bg[0] + (bg[1] - bg[0]) * ramp
        else:
            background = np.broadcast_to(bg[0], (res, res, 3))
        fg = np.asarray(COLOURS[p["colour"]], np.float32)
        frames = background[None] * (1 - alpha) + fg * alpha
        return np.floor(frames * 255 + 0.5).clip(0, 255).astype(np.uint8)


def _choose(value: str | Sequence[str] | None, valid: Sequence[str], what: str) -> tuple[str, ...]:
    if value is None:
        return tuple(valid)
    names = value.split("+") if isinstance(value, str) else list(value)
    if what == "motion":
        names = [MOTION_ALIASES.get(n, n) for n in names]
    unknown = [n for n in names if n not in valid]
    if unknown or not names:
        raise VidbenchError(f"unknown shapes {what} {unknown or names}; valid: {', '.join(valid)}")
    return tuple(dict.fromkeys(names))  # keep order, drop repeats


def _check_int(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise VidbenchError(f"shapes: {name} must be an integer, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
        raise VidbenchError(f"shapes: {name} must be {bound}, got {value}")
    return int(value)


def make_shapes(num_videos: int = 256,                       # videos in the set
                length: int = 16,                            # frames per video
                resolution: int = 64,                        # square frame side, 32..256 pixels
                seed: int = 0,                               # data set seed (>= 0)
                motion: str | Sequence[str] | None = None,   # motion class(es); None = all
                shape: str | Sequence[str] | None = None,    # shape kind(s); None = all
                scale: float = 1.0,                          # shape size factor, 0.25..2
                background: str = "any",                     # any | solid | gradient | black
                colour: str | Sequence[str] | None = None,   # foreground colour(s); None = all
                orientation: str = "random",                 # random | upright
                size: str = "random",                        # random | fixed
                speed: float = 1.0,                          # pace factor, 0.1..2
                ) -> ShapesSource:
    """Build the ``shapes`` data set: ``src[i]`` is a uint8 clip ``[length, res, res, 3]``.

    ``scale`` multiplies every shape's radius (drawn from 0.12..0.20 of the frame side);
    ``background`` forces solid, gradient or black backgrounds (``any``: solid or gradient, at
    random); ``colour`` restricts the foreground palette (:data:`COLOURS`, ``red+white``);
    ``orientation=upright`` starts every shape at angle 0 (squares axis-aligned, triangles with
    a vertex up; the ``rotation`` class still spins from there); ``size=fixed`` gives every
    shape the middle radius, :data:`FIXED_SIZE` (times ``scale``). Each video's other random
    choices are the same whatever these five are (with ``size=fixed`` the centre comes from the
    same draws, placed within the room the radius leaves). ``speed`` multiplies every video's
    pace (velocity, angular speed, zoom frequency) after the same draws."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0.25 <= scale <= 2:
        raise VidbenchError(f"shapes: scale must be a number between 0.25 and 2, got {scale!r}")
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not 0.1 <= speed <= 2:
        raise VidbenchError(f"shapes: speed must be a number between 0.1 and 2, got {speed!r}")
    for name, value, valid in (("background", background, BACKGROUNDS),
                               ("orientation", orientation, ORIENTATIONS),
                               ("size", size, SIZES)):
        if value not in valid:
            raise VidbenchError(f"shapes: {name} must be one of {', '.join(valid)}, "
                                f"got {value!r}")
    return ShapesSource(num_videos=_check_int("num_videos", num_videos, 1),
                        length=_check_int("length", length, 1),
                        resolution=_check_int("resolution", resolution,
                                              MIN_RESOLUTION, MAX_RESOLUTION),
                        seed=_check_int("seed", seed, 0),
                        motions=_choose(motion, MOTIONS, "motion"),
                        shapes=_choose(shape, SHAPE_KINDS, "shape"),
                        scale=float(scale), background=background,
                        colours=_choose(colour, tuple(COLOURS), "colour"),
                        orientation=orientation, size=size, speed=float(speed))
