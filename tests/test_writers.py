"""Writers: exact round trips for lossless formats, readable and faithful lossy ones."""
import os

import decord
import numpy as np
import pytest
from PIL import Image, ImageSequence

from vidbench.data.writers import (frame_grid, tile_clips, write_array, write_frames, write_grid,
                                   write_grid_video, write_video)
from vidbench.utils.errors import BadInputError, VidbenchError


def random_clip(t=5, h=24, w=32, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (t, h, w, 3), dtype=np.uint8)


def smooth_clip(t=12, h=64, w=80):
    """A moving colour gradient: what H.264 at 4:2:0 should reproduce closely."""
    tt, yy, xx = np.meshgrid(np.arange(t), np.arange(h), np.arange(w), indexing="ij")
    r = 128 + 100 * np.sin(2 * np.pi * (xx + 2 * tt) / w)
    g = 128 + 100 * np.cos(2 * np.pi * (yy - tt) / h)
    b = 60 + 120 * (xx + yy) / (h + w)
    return np.stack([r, g, b], axis=-1).round().astype(np.uint8)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255 ** 2 / mse)


def no_temp_files(folder):
    return [p for p in os.listdir(folder) if p.startswith(".")] == []


def test_png_frames_round_trip_exactly(tmp_path):
    clip = random_clip(t=12)
    out = write_frames(tmp_path / "video", clip)
    names = sorted(os.listdir(out))
    assert names == [f"{i:05d}.png" for i in range(12)]
    back = np.stack([np.asarray(Image.open(out / n)) for n in names])
    np.testing.assert_array_equal(back, clip)
    assert no_temp_files(tmp_path)
    with pytest.raises(VidbenchError, match="already exists"):
        write_frames(out, clip)
    write_frames(out, clip[:3], overwrite=True)
    assert sorted(os.listdir(out)) == [f"{i:05d}.png" for i in range(3)]
    assert no_temp_files(tmp_path)


def test_npy_round_trips_exactly(tmp_path):
    clips = np.stack([random_clip(seed=s) for s in range(3)])
    write_array(tmp_path / "batch.npy", clips)
    back = np.load(tmp_path / "batch.npy", allow_pickle=False)
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, clips)
    write_video(tmp_path / "one.npy", clips[1])
    np.testing.assert_array_equal(np.load(tmp_path / "one.npy"), clips[1:2])
    assert no_temp_files(tmp_path)
    with pytest.raises(BadInputError, match="uint8 clips"):
        write_array(tmp_path / "bad.npy", clips.astype(np.float32))


@pytest.mark.parametrize("h,w", [(64, 80), (63, 81)])
def test_mp4_readable_and_faithful(tmp_path, h, w):
    clip = smooth_clip(h=h, w=w)
    path = write_video(tmp_path / "clip.mp4", clip, fps=10)
    vr = decord.VideoReader(str(path))
    assert len(vr) == len(clip)
    frames = vr.get_batch(list(range(len(vr)))).asnumpy()
    assert frames.shape == (len(clip), h + h % 2, w + w % 2, 3)  # odd sizes padded by one
    assert psnr(frames[:, :h, :w], clip) > 30
    assert abs(vr.get_avg_fps() - 10) < 1e-6
    assert no_temp_files(tmp_path)


def test_gif_keeps_every_frame(tmp_path):
    clip = smooth_clip(t=6)
    clip[3] = clip[2]  # identical neighbours must not be merged
    path = write_video(tmp_path / "clip.gif", clip, fps=5)
    with Image.open(path) as im:
        frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
    assert len(frames) == 6 and frames[0].shape == clip.shape[1:]
    assert psnr(np.stack(frames), clip) > 25  # 256-colour palette
    assert no_temp_files(tmp_path)


def test_frame_grid_layout():
    clips = np.stack([random_clip(t=4, h=10, w=12, seed=s) for s in range(3)])
    grid = frame_grid(clips, pad=2, pad_value=7)
    assert grid.shape == (3 * 12 + 2, 4 * 14 + 2, 3)
    for n in range(3):
        for t in range(4):
            np.testing.assert_array_equal(grid[2 + n * 12: 12 + n * 12, 2 + t * 14: 14 + t * 14],
                                          clips[n, t])
    assert (grid[:2] == 7).all() and (grid[:, 14:16] == 7).all() and (grid[12:14] == 7).all()
    tight = frame_grid(clips, pad=0, max_frames=2)
    np.testing.assert_array_equal(tight, np.concatenate(
        [np.concatenate(list(c[:2]), axis=1) for c in clips], axis=0))


def test_write_grid_png(tmp_path):
    clips = np.stack([random_clip(t=6, h=16, w=16, seed=s) for s in range(4)])
    path = write_grid(tmp_path / "grid.png", clips, pad=1)
    image = np.asarray(Image.open(path))
    assert image.shape == (4 * 17 + 1, 6 * 17 + 1, 3)
    np.testing.assert_array_equal(image, frame_grid(clips, pad=1))
    np.testing.assert_array_equal(image[1 + 2 * 17: 17 + 2 * 17, 1 + 5 * 17: 17 + 5 * 17], clips[2, 5])
    with pytest.raises(VidbenchError, match=".png"):
        write_grid(tmp_path / "grid.jpg", clips)


def test_tile_clips_and_grid_video(tmp_path):
    clips = np.stack([random_clip(t=3, h=8, w=10, seed=s) for s in range(5)])
    tiled = tile_clips(clips, ncols=3, pad=1, pad_value=0)
    assert tiled.shape == (3, 2 * 9 + 1, 3 * 11 + 1, 3)
    np.testing.assert_array_equal(tiled[:, 10:18, 12:22], clips[4])  # row 1, column 1
    assert (tiled[:, 10:18, 23:33] == 0).all()  # the empty sixth tile
    assert tile_clips(clips).shape[1:3] == (2 * 10 + 2, 3 * 12 + 2)  # ceil(sqrt(5)) = 3 columns
    path = write_grid_video(tmp_path / "grid.gif", clips, ncols=3)
    with Image.open(path) as im:
        assert im.n_frames == 3 and im.size == (3 * 12 + 2, 2 * 10 + 2)
    path = write_grid_video(tmp_path / "grid.mp4", clips, ncols=5)
    assert len(decord.VideoReader(str(path))) == 3


def test_bad_inputs(tmp_path):
    with pytest.raises(VidbenchError, match="valid: .mp4"):
        write_video(tmp_path / "x.avi", random_clip())
    with pytest.raises(BadInputError, match="uint8"):
        write_video(tmp_path / "x.mp4", random_clip().astype(np.float32))
    with pytest.raises(BadInputError, match=r"\[T, H, W, 3\]"):
        write_video(tmp_path / "x.gif", random_clip()[..., :2])
    assert not (tmp_path / "x.mp4").exists()
