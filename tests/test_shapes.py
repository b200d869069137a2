"""The built-in ``shapes`` data set: contract, determinism, options and motion semantics."""
import json
import pickle
import time

import numpy as np
import pytest

from vidbench.data.base import ClipSource, iter_batches
from vidbench.data.shapes import COLOURS, FIXED_SIZE, MOTIONS, SHAPE_KINDS, make_shapes
from vidbench.utils.errors import VidbenchError


def test_contract_and_defaults():
    src = make_shapes(num_videos=8)
    assert isinstance(src, ClipSource) and len(src) == 8 and src.name == "shapes"
    clip = src[0]
    assert clip.dtype == np.uint8 and clip.shape == (16, 64, 64, 3)
    assert src[-1].shape == (16, 64, 64, 3)
    with pytest.raises(IndexError):
        src[8]
    batch = next(iter_batches(src, 3))
    assert batch.shape == (3, 16, 64, 64, 3)
    assert make_shapes().meta["num_videos"] == 256
    d = src.describe()
    assert d["length"] == 16 and d["resolution"] == 64 and d["motions"] == list(MOTIONS)
    json.dumps(d)


def test_deterministic_in_any_access_order_and_size():
    a, b = make_shapes(num_videos=12, seed=3), make_shapes(num_videos=40, seed=3)
    forward = [a[i] for i in range(12)]
    backward = [b[i] for i in reversed(range(12))][::-1]
    for x, y in zip(forward, backward):
        np.testing.assert_array_equal(x, y)
    assert a.labels(5) == b.labels(5)
    c = make_shapes(num_videos=12, seed=4)
    assert not np.array_equal(a[0], c[0])


def test_picklable():
    src = make_shapes(num_videos=5, length=4, seed=7, motion=["zoom", "still"])
    back = pickle.loads(pickle.dumps(src))
    assert back.fingerprint == src.fingerprint and back.meta == src.meta
    np.testing.assert_array_equal(back[3], src[3])


def test_fingerprint_follows_every_option():
    base = dict(num_videos=4, length=8, resolution=32, seed=0)
    fp = make_shapes(**base).fingerprint
    assert make_shapes(**base).fingerprint == fp
    for change in [dict(num_videos=5), dict(length=9), dict(resolution=48), dict(seed=1),
                   dict(motion="zoom"), dict(shape="star")]:
        assert make_shapes(**{**base, **change}).fingerprint != fp, change


@pytest.mark.parametrize("length,resolution", [(1, 32), (3, 256), (40, 48)])
def test_sizes(length, resolution):
    clip = make_shapes(num_videos=2, length=length, resolution=resolution)[1]
    assert clip.shape == (length, resolution, resolution, 3)


def test_option_errors():
    with pytest.raises(VidbenchError, match="between 32 and 256"):
        make_shapes(resolution=31)
    with pytest.raises(VidbenchError, match="between 32 and 256"):
        make_shapes(resolution=257)
    with pytest.raises(VidbenchError, match="length must be >= 1"):
        make_shapes(length=0)
    with pytest.raises(VidbenchError, match="integer"):
        make_shapes(num_videos=2.5)
    with pytest.raises(VidbenchError, match="valid: horizontal, vertical"):
        make_shapes(motion="sideways")
    with pytest.raises(VidbenchError, match="valid: circle"):
        make_shapes(shape=["circle", "hexagon"])


def test_labels_and_balanced_motion_classes():
    src = make_shapes(num_videos=70, length=2)
    labels = [src.labels(i) for i in range(70)]
    json.dumps(labels)
    counts = {m: sum(lab["motion"] == m for lab in labels) for m in MOTIONS}
    assert counts == {m: 10 for m in MOTIONS}
    assert {lab["shape"] for lab in labels} == set(SHAPE_KINDS)
    assert all(lab["colour"] in COLOURS for lab in labels)
    assert {lab["background"] for lab in labels} == {"solid", "gradient"}
    assert all(lab["shape"] != "circle" for lab in labels if lab["motion"] == "rotation")


def test_motion_and_shape_filters():
    src = make_shapes(num_videos=9, length=2, motion="circular", shape=["square", "star"])
    assert {src.labels(i)["motion"] for i in range(9)} == {"circular"}
    assert {src.labels(i)["shape"] for i in range(9)} <= {"square", "star"}
    two = make_shapes(num_videos=6, length=2, motion=["zoom", "still"])
    assert [two.labels(i)["motion"] for i in range(6)] == ["zoom", "still"] * 3


def shape_mask(src, i):
    """Pixels within 60/255 of the shape's colour (the background is always darker)."""
    clip = src[i].astype(float)
    fg = np.array(COLOURS[src.labels(i)["colour"]]) * 255
    return np.linalg.norm(clip - fg, axis=-1) < 60


def centroids(mask):
    ys, xs = np.mgrid[:mask.shape[1], :mask.shape[2]]
    area = mask.sum(axis=(1, 2))
    return (mask * xs).sum(axis=(1, 2)) / area, (mask * ys).sum(axis=(1, 2)) / area, area


@pytest.mark.parametrize("motion", MOTIONS)
def test_motion_classes_move_as_named(motion):
    src = make_shapes(num_videos=3, length=12, resolution=128, motion=motion, seed=11)
    for i in range(3):
        cx, cy, area = centroids(shape_mask(src, i))
        assert area.min() > 30, "shape visible in every frame"
        sx, sy, sa = np.ptp(cx), np.ptp(cy), np.ptp(area) / area.mean()
        if motion == "horizontal":
            assert sx > 10 and sy < 0.5
        elif motion == "vertical":
            assert sy > 10 and sx < 0.5
        elif motion == "diagonal":
            step_x, step_y = np.abs(np.diff(cx)), np.abs(np.diff(cy))
            assert sx > 7 and sy > 7 and np.median(np.abs(step_x - step_y)) < 0.5
        elif motion == "circular":
            p = src.labels(i)
            r = np.hypot(cx - p["center"][0] * 128 + 0.5, cy - p["center"][1] * 128 + 0.5)
            assert sx > 10 and sy > 10
            np.testing.assert_allclose(r, p["orbit_radius"] * 128, atol=1.5)
        elif motion == "zoom":
            assert sa > 0.3 and sx < 1 and sy < 1
        elif motion == "rotation":
            clip = src[i]
            assert not np.array_equal(clip[0], clip[1])
            assert sa < 0.1 and sx < 1.5 and sy < 1.5
        else:
            clip = src[i]
            assert (clip == clip[:1]).all()


def test_shapes_stay_inside_the_frame():
    src = make_shapes(num_videos=21, length=48, resolution=64)
    for i in range(21):
        m = shape_mask(src, i)
        border = np.concatenate([m[:, 0], m[:, -1], m[:, :, 0], m[:, :, -1]], axis=1)
        assert not border.any(), src.labels(i)


def test_edges_are_antialiased():
    src = make_shapes(num_videos=7, length=1, resolution=64, motion="still")
    for i in range(7):
        p = src.labels(i)
        if p["background"] != "solid":
            continue
        frame = src[i][0].astype(float)
        bg = np.array(p["background_rgb"][0]) * 255
        fg = np.array(COLOURS[p["colour"]]) * 255
        c = int(np.argmax(np.abs(fg - bg)))
        alpha = (frame[..., c] - bg[c]) / (fg[c] - bg[c])
        assert ((alpha > 0.1) & (alpha < 0.9)).sum() >= 10  # a ramp along the edge
        assert (alpha > 0.99).sum() > 50 and (alpha < 0.01).sum() > 1000


def test_fast_enough():
    src = make_shapes(num_videos=256, length=16, resolution=64)
    start = time.perf_counter()
    for i in range(len(src)):
        src[i]
    assert time.perf_counter() - start < 6.0  # typically about 1 s on one CPU core


def test_motion_aliases_and_plus_lists():
    from vidbench.data.shapes import make_shapes
    a = make_shapes(num_videos=4, length=4, resolution=32, motion="circle")
    b = make_shapes(num_videos=4, length=4, resolution=32, motion="circular")
    assert a.fingerprint == b.fingerprint
    assert {a.labels(i)["motion"] for i in range(4)} == {"circular"}
    c = make_shapes(num_videos=4, length=4, resolution=32, motion="zoom+still")
    assert {c.labels(i)["motion"] for i in range(4)} == {"zoom", "still"}


def test_scale_and_background_options():
    """``scale`` multiplies the radius and ``background`` forces the kind; every other random
    choice of a video is the same, and the defaults keep their fingerprint."""
    base = make_shapes(num_videos=14, length=4, resolution=32, seed=3)
    # the defaults, spelt out, are the same data set (same fingerprint as before the options)
    same = make_shapes(num_videos=14, length=4, resolution=32, seed=3, scale=1.0,
                       background="any")
    assert same.fingerprint == base.fingerprint and same.meta == base.meta
    big = make_shapes(num_videos=14, length=4, resolution=32, seed=3, scale=1.5,
                      background="solid")
    assert big.fingerprint != base.fingerprint
    for i in range(14):
        a, b = base.labels(i), big.labels(i)
        assert b["size"] == pytest.approx(1.5 * a["size"])
        assert b["background"] == "solid" and len(b["background_rgb"]) == 1
        assert (a["shape"], a["colour"], a["motion"], a["angle"]) == \
            (b["shape"], b["colour"], b["motion"], b["angle"])
        assert b["background_rgb"][0] == a["background_rgb"][0]
    # a still, centred shape covers about (1.5)² the area: count foreground pixels
    still_a = make_shapes(num_videos=1, length=1, resolution=64, motion="still", shape="square",
                          background="solid")
    still_b = make_shapes(num_videos=1, length=1, resolution=64, motion="still", shape="square",
                          scale=1.5, background="solid")
    bg = np.asarray(still_a.labels(0)["background_rgb"][0]) * 255
    area = [int((np.abs(s[0][0].astype(float) - bg).sum(-1) > 60).sum())
            for s in (still_a, still_b)]
    assert area[1] / area[0] == pytest.approx(2.25, rel=0.15)
    grad = make_shapes(num_videos=7, length=1, resolution=32, background="gradient")
    assert all(grad.labels(i)["background"] == "gradient" for i in range(7))
    big_circ = make_shapes(num_videos=7, length=3, resolution=32, scale=2.0, motion="circular")
    assert big_circ[0].shape == (3, 32, 32, 3)   # no room to orbit: still renders


def test_largest_scale_renders_every_motion():
    """At scale 2 the biggest shapes' bounding circle is wider than the frame: every motion
    class still renders (the centre is clamped to the middle) and the shape stays in view."""
    big = make_shapes(num_videos=70, length=6, resolution=32, scale=2.0, background="black",
                      seed=5)
    for i in range(len(big)):
        p = big.labels(i)
        clip = big[i]
        assert clip.shape == (6, 32, 32, 3)
        assert clip.max() > 200, (i, p["motion"])  # a bright shape is drawn in every clip
        assert all(0 <= c <= 1 for c in p["center"])


@pytest.mark.parametrize("bad", [{"scale": 0.1}, {"scale": 3}, {"scale": "big"},
                                 {"background": "striped"}])
def test_scale_and_background_bad_values(bad):
    with pytest.raises(VidbenchError, match=next(iter(bad))):
        make_shapes(num_videos=2, **bad)


def test_colour_and_black_background_options():
    """``colour`` restricts the palette and ``background=black`` draws on black; the other
    choices of each video stay put, and the frames show exactly those colours."""
    base = make_shapes(num_videos=12, length=2, resolution=32, seed=5)
    few = make_shapes(num_videos=12, length=2, resolution=32, seed=5, colour="red+white",
                      background="black")
    assert few.fingerprint != base.fingerprint
    colours = set()
    for i in range(12):
        a, b = base.labels(i), few.labels(i)
        assert (a["shape"], a["motion"], a["size"], a["angle"]) == \
            (b["shape"], b["motion"], b["size"], b["angle"])
        assert b["background_rgb"] == [[0.0, 0.0, 0.0]]
        colours.add(b["colour"])
        clip = few[i]
        corner = clip[:, 0, 0]
        assert (corner == 0).all()                      # black background
        fg = np.round(np.asarray(COLOURS[b["colour"]]) * 255)
        full = clip[(clip.max(axis=-1) > 0)].reshape(-1, 3)
        assert np.abs(full.max(axis=0) - fg).max() <= 1  # the brightest pixels: the colour
    assert colours == {"red", "white"}
    # the palette is part of the fingerprint; an unknown colour is a clear error
    assert make_shapes(num_videos=12, length=2, resolution=32, seed=5, colour="red",
                       background="black").fingerprint != few.fingerprint
    with pytest.raises(VidbenchError, match="unknown shapes colour"):
        make_shapes(colour="purple")


def test_get_frames_equals_the_same_frames_of_the_clip():
    """A clip spec reads only the frames it takes (``get_frames``); they are the very frames
    of the whole clip, whatever their order or spacing, and the resampled source is unchanged."""
    from vidbench.data.clips import ClipSpec, ResampledSource

    src = make_shapes(num_videos=7, length=40, resolution=32, seed=4)
    for i in range(7):
        full = src[i]
        for frames in ([0, 2, 4, 38], list(range(17, 40)), [39, 0, 5], []):
            np.testing.assert_array_equal(src.get_frames(i, frames), full[frames])
    with pytest.raises(IndexError):
        src.get_frames(0, [40])
    spec = ClipSpec(length=16, stride=2, start="random")
    fast = ResampledSource(src, spec)

    class Whole(ClipSource):          # the same videos without get_frames
        name, fingerprint, meta = "whole", src.fingerprint, {}

        def __len__(self):
            return len(src)

        def get_clip(self, index):
            return src.get_clip(index)

    slow = ResampledSource(Whole(), spec)
    for i in range(len(fast)):
        np.testing.assert_array_equal(fast[i], slow[i])


def test_upright_orientation():
    """``orientation=upright`` draws every shape at angle 0 (a still square is axis-aligned:
    its filled pixels form a rectangle; a triangle's top row is narrower than its bottom),
    keeps every other choice of each video, and is part of the fingerprint."""
    spec = dict(num_videos=21, length=2, resolution=64, seed=4, background="black",
                colour="white", scale=1.5)
    base = make_shapes(**spec)
    up = make_shapes(**spec, orientation="upright")
    assert up.fingerprint != base.fingerprint
    assert make_shapes(**spec, orientation="random").fingerprint == base.fingerprint
    seen = set()
    for i in range(len(up)):
        a, b = base.labels(i), up.labels(i)
        assert b["angle"] == 0.0
        assert {k: v for k, v in a.items() if k != "angle"} == \
            {k: v for k, v in b.items() if k != "angle"}
        if b["motion"] != "still":
            continue
        mask = up[i][0].max(axis=-1) > 127
        rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
        box = mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        widths = box.sum(axis=1)
        if b["shape"] == "square":
            assert box.all()                            # fills its bounding box
            seen.add("square")
        elif b["shape"] == "triangle":
            assert widths[0] < widths[-1] / 3           # vertex up, flat base down
            seen.add("triangle")
    assert seen  # the seed gives at least one still square or triangle
    with pytest.raises(VidbenchError, match="orientation"):
        make_shapes(orientation="sideways")


def test_fixed_size():
    """``size=fixed`` gives every shape the same radius (``FIXED_SIZE`` times ``scale``): the
    still circles of a set cover the same number of pixels, the area of a disc of that
    radius; shape, motion and colour of each video stay as drawn, and the option is part of
    the fingerprint."""
    spec = dict(num_videos=28, length=2, resolution=64, seed=3, background="black",
                colour="white", scale=1.5, motion="still", shape=("circle", "square"))
    base = make_shapes(**spec)
    fixed = make_shapes(**spec, size="fixed")
    assert fixed.fingerprint != base.fingerprint
    assert make_shapes(**spec, size="random").fingerprint == base.fingerprint
    radius = FIXED_SIZE * 1.5
    areas: dict[str, list[float]] = {"circle": [], "square": []}
    for i in range(len(fixed)):
        a, b = base.labels(i), fixed.labels(i)
        assert b["size"] == pytest.approx(radius)
        assert (a["shape"], a["motion"], a["colour"]) == (b["shape"], b["motion"], b["colour"])
        areas[b["shape"]].append(float((fixed[i][0].max(axis=-1) / 255.0).sum()))
    assert len({base.labels(i)["size"] for i in range(len(base))}) > 1    # random: they vary
    assert len(areas["circle"]) > 1 and len(areas["square"]) > 1
    # white is 0.96 of full scale; the edge pixels hold the covered fraction
    np.testing.assert_allclose(areas["circle"], np.pi * (radius * 64) ** 2 * 0.96, rtol=0.02)
    np.testing.assert_allclose(areas["square"], areas["square"][0], rtol=0.02)
    with pytest.raises(VidbenchError, match="size"):
        make_shapes(size="huge")


def test_speed_scales_the_pace_and_keeps_every_other_draw():
    from vidbench.data.shapes import make_shapes
    from vidbench.metrics.clip_motion import track_foreground

    common = dict(num_videos=8, length=12, resolution=64, seed=3, shape="square",
                  motion="horizontal+vertical+diagonal+circular", scale=1.0, size="fixed",
                  background="black", colour="white")
    base, slow = make_shapes(**common), make_shapes(**common, speed=0.5)
    assert base.fingerprint != slow.fingerprint and slow.meta["speed"] == 0.5
    assert "speed" not in base.meta                      # the default's fingerprint is unchanged
    for i in range(8):
        pb, ps = base._params(i), slow._params(i)
        assert pb["center"] == ps["center"] and pb["shape"] == ps["shape"]
        if "velocity" in pb:
            assert ps["velocity"] == [v * 0.5 for v in pb["velocity"]]
        np.testing.assert_array_equal(base[i][0], slow[i][0])        # same first frame
        # with no bounce in the first frames, frame 2 of the slow clip is frame 1 of the other
        if pb["motion"] != "circular":
            _, cb = track_foreground(base[i][:2])
            _, cs = track_foreground(slow[i][:3])
            np.testing.assert_allclose(cs[2], cb[1], atol=0.6)
    with pytest.raises(VidbenchError, match="speed"):
        make_shapes(**common, speed=3)
