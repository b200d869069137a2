"""Every bad input is a BadInputError naming the file, or with skip_bad a listed problem."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _datafiles import rand_clip, truncate, write_frames, write_video
from vidbench.data.clips import ClipSpec
from vidbench.data.sources import open_source
from vidbench.utils.errors import BadInputError, VidbenchError


@pytest.fixture(scope="module")
def good_mp4(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("good")
    return write_video(d / "good.mp4", rand_clip(10, 32, 64, 0), "libx264", "yuv420p",
                       extra=["-movflags", "+faststart"])


def _zero(d: Path) -> Path:
    p = d / "zero.mp4"
    p.write_bytes(b"")
    return p


def _text_mp4(d: Path) -> Path:
    p = d / "notes.mp4"
    p.write_text("this is a text file with a video extension\n")
    return p


def _text_avi(d: Path) -> Path:
    p = d / "notes.avi"
    p.write_text("RIFF? no, just text\n")
    return p


def _bad_frame_dir(kind: str):
    def make(d: Path) -> Path:
        v = d / f"frames_{kind}"
        clip = rand_clip(4, 6, 8, 1)
        paths = write_frames(v, clip)
        bad = paths[2]
        if kind == "text":
            bad.write_text("not a png")
        elif kind == "zero":
            bad.write_bytes(b"")
        elif kind == "truncated":
            truncate(bad, 0.6)
        elif kind == "grey":
            Image.fromarray(clip[2, :, :, 0], "L").save(bad)
        elif kind == "rgba":
            Image.fromarray(np.dstack([clip[2], clip[2, :, :, :1]]), "RGBA").save(bad)
        elif kind == "mixed":
            Image.fromarray(rand_clip(1, 7, 8, 2)[0]).save(bad)
        return bad
    return make


def _array(kind: str):
    def make(d: Path) -> Path:
        x = np.zeros((2, 3, 4, 5, 5), np.float32)
        x[1, 0, 2, 1, 1] = {"range": 1.5, "nan": np.nan, "inf": np.inf}[kind]
        p = d / f"bad_{kind}.npy"
        np.save(p, x)
        return p
    return make


CASES = {
    "zero-byte mp4": (_zero, "empty file"),
    "text renamed .mp4": (_text_mp4, "not an mp4"),
    "text renamed .avi": (_text_avi, "not an AVI"),
    "corrupt frame (text as png)": (_bad_frame_dir("text"), "not a readable image"),
    "zero-byte frame": (_bad_frame_dir("zero"), "empty file"),
    "truncated png": (_bad_frame_dir("truncated"), "truncated PNG"),
    "greyscale frame": (_bad_frame_dir("grey"), "greyscale"),
    "RGBA frame": (_bad_frame_dir("rgba"), "RGBA"),
    "mixed frame sizes": (_bad_frame_dir("mixed"), "mixed sizes"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_raises_naming_it_or_is_listed_with_skip_bad(tmp_path, good_mp4, case):
    make, words = CASES[case]
    bad = make(tmp_path)
    with pytest.raises(BadInputError) as err:
        open_source(str(bad if bad.suffix in (".mp4", ".avi") else bad.parent))
    assert err.value.path == str(bad) and words in err.value.reason
    assert str(bad) in str(err.value)
    # in a folder with a good video: the good one is kept, the bad one listed
    shutil.copy(good_mp4, tmp_path / "good.mp4")
    src = open_source(str(tmp_path), skip_bad=True)
    assert [v.name for v in src.videos] == ["good.mp4"]
    assert len(src.skipped) == 1 and src.skipped[0][0] == str(bad) and words in src.skipped[0][1]
    assert src.describe()["skipped"] == [[str(bad), src.skipped[0][1]]]
    with pytest.raises(BadInputError):
        open_source(str(tmp_path))


@pytest.mark.parametrize("keep", [0.3, 0.9])
def test_truncated_mp4_is_found_before_decoding(tmp_path, good_mp4, keep):
    bad = truncate(Path(shutil.copy(good_mp4, tmp_path / "cut.mp4")), keep)
    with pytest.raises(BadInputError, match="truncated") as err:
        open_source(str(bad))
    assert err.value.path == str(bad)


def test_truncated_moov_at_end_mp4(tmp_path):
    full = write_video(tmp_path / "plain.mp4", rand_clip(6, 32, 64, 3), "libx264", "yuv420p")
    truncate(full, 0.8)
    with pytest.raises(BadInputError, match="truncated"):
        open_source(str(full))


@pytest.mark.parametrize("kind, words", [("range", "outside the declared range"),
                                         ("nan", "NaN"), ("inf", "inf")])
def test_array_out_of_range_nan_inf(tmp_path, kind, words):
    p = _array(kind)(tmp_path)
    spec = f"{p}:layout=NCTHW,range=-1:1"
    with pytest.raises(BadInputError, match=words) as err:
        open_source(spec)
    assert err.value.path == f"{p}[1]"
    src = open_source(spec, skip_bad=True)
    assert len(src) == 1 and src.skipped == [(f"{p}[1]", src.skipped[0][1])]


def test_float_array_without_a_declared_layout_says_what_to_add(tmp_path):
    p = tmp_path / "samples.npy"
    np.save(p, np.zeros((2, 3, 4, 5, 5), np.float32))
    with pytest.raises(BadInputError, match=r"samples\.npy:layout=NCTHW,range=-1:1") as err:
        open_source(str(p))
    assert err.value.path == str(p)
    np.save(p, np.zeros((2, 4, 5, 5, 3), np.float32))  # right layout, still a float: no guessing
    with pytest.raises(BadInputError, match="never guessed"):
        open_source(str(p))
    with pytest.raises(VidbenchError, match="valid: layout, range, conv, key"):
        open_source(f"{p}:layout=NTHWC,scale=2")
    with pytest.raises(VidbenchError, match="not defined for range"):
        open_source(f"{p}:range=0:1,conv=tgan")


def test_too_short_video_is_an_error_or_listed(tmp_path):
    write_frames(tmp_path / "long", rand_clip(8, 4, 4, 4))
    write_frames(tmp_path / "short", rand_clip(3, 4, 4, 5))
    spec = ClipSpec(length=4, stride=2)  # needs (4-1)*2+1 = 7 frames
    with pytest.raises(BadInputError, match="too short: 3 frames") as err:
        open_source(str(tmp_path), clip=spec)
    assert err.value.path == str(tmp_path / "short")
    src = open_source(str(tmp_path), clip=spec, skip_bad=True)
    assert [v.name for v in src.videos] == ["long"] and src.skipped[0][0] == str(tmp_path / "short")


def test_damage_found_only_when_decoding_names_the_file(tmp_path):
    clip = rand_clip(4, 6, 8, 6)
    paths = write_frames(tmp_path / "v", clip)
    src = open_source(str(tmp_path / "v"))
    paths[1].unlink()  # gone after opening
    with pytest.raises(BadInputError) as err:
        src[0]
    assert err.value.path == str(paths[1])


def test_non_video_file_and_missing_path(tmp_path):
    p = tmp_path / "table.csv"
    p.write_text("a,b\n")
    with pytest.raises(BadInputError, match="unsupported file type"):
        open_source(str(p))
    with pytest.raises(VidbenchError, match="neither an existing path nor a known source"):
        open_source(str(tmp_path / "nope"))
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(VidbenchError, match="no videos found"):
        open_source(str(tmp_path / "emptydir"))


def test_corrupt_zip(tmp_path):
    p = tmp_path / "frames.zip"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(BadInputError, match="not a readable zip") as err:
        open_source(str(p))
    assert err.value.path == str(p)
