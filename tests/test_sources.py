"""Source specs, the shapes delegation, and clip sampling (determinism, start policies)."""
from __future__ import annotations

import numpy as np
import pytest

from _datafiles import numbered_clip, write_frames
from vidbench.data.clips import ClipSpec, ResampledSource, VideoClipSource
from vidbench.data.sources import format_spec, open_source, parse_spec
from vidbench.utils.errors import BadInputError, VidbenchError


# ---------------------------------------------------------------- spec parsing

def test_parse_spec_heads_options_and_types(tmp_path):
    assert parse_spec("shapes") == ("shapes", {})
    assert parse_spec("shapes:motion=circular,seed=2,num_videos=64,scale=0.5,flag=true") == \
        ("shapes", {"motion": "circular", "seed": 2, "num_videos": 64, "scale": 0.5, "flag": True})
    assert parse_spec("out/samples.npy:layout=NCTHW,range=-1:1,conv=tgan") == \
        ("out/samples.npy", {"layout": "NCTHW", "range": "-1:1", "conv": "tgan"})
    assert parse_spec("ucf101:split=train,fold=2") == ("ucf101", {"split": "train", "fold": 2})
    odd = tmp_path / "a:b=c"  # an existing path is never split
    odd.mkdir()
    assert parse_spec(str(odd)) == (str(odd), {})
    with pytest.raises(VidbenchError, match="given twice"):
        parse_spec("shapes:seed=1,seed=2")
    with pytest.raises(VidbenchError, match="not key=value"):
        parse_spec("shapes:seed=1,junk")


def test_unknown_names_and_options_list_the_valid_ones(tmp_path):
    with pytest.raises(VidbenchError, match="ucf101, faceforensics, sky, voxceleb, folder"):
        open_source("ucf1O1", root=str(tmp_path))
    with pytest.raises(VidbenchError, match="valid: split, fold"):
        open_source("ucf101:splt=train", root=str(tmp_path))
    with pytest.raises(VidbenchError, match="valid: num_videos, length, resolution, seed"):
        open_source("shapes:frames=3")
    with pytest.raises(VidbenchError, match="--root is only for data set names"):
        write_frames(tmp_path / "v", numbered_clip(2))
        open_source(str(tmp_path / "v"), root=str(tmp_path))
    with pytest.raises(VidbenchError, match="apply only to array files"):
        open_source(f"{tmp_path / 'v'}:layout=NCTHW")


# ---------------------------------------------------------------- shapes

def test_shapes_spec_delegates_to_make_shapes():
    from vidbench.data.shapes import make_shapes
    src = open_source("shapes:num_videos=3,length=8,resolution=32,seed=2")
    ref = make_shapes(num_videos=3, length=8, resolution=32, seed=2)
    assert len(src) == 3 and src.fingerprint == ref.fingerprint
    np.testing.assert_array_equal(src[2], ref[2])
    cut = open_source("shapes:num_videos=3,length=8,resolution=32,seed=2",
                      clip=ClipSpec(length=3, stride=2, start="centre"))
    assert isinstance(cut, ResampledSource) and len(cut) == 3
    np.testing.assert_array_equal(cut[1], ref[1][[1, 3, 5]])  # span 5 of 8: start (8-5)//2 = 1
    with pytest.raises(VidbenchError, match="needs 9"):
        open_source("shapes:num_videos=2,length=8,resolution=32", clip=ClipSpec(length=5, stride=2))


# ---------------------------------------------------------------- clip sampling

@pytest.fixture
def numbered_videos(tmp_path):
    """Videos a (20 frames), b (11), c (7); frame i holds the value i."""
    for name, n in (("a", 20), ("b", 11), ("c", 7)):
        write_frames(tmp_path / "vids" / name, numbered_clip(n, 4, 4))
    return tmp_path / "vids"


def _values(clip: np.ndarray) -> list[int]:
    return clip[:, 0, 0, 0].tolist()


def test_first_and_centre_starts_with_stride(numbered_videos):
    first = open_source(str(numbered_videos), clip=ClipSpec(length=3, stride=2))
    assert [_values(first[i]) for i in range(3)] == [[0, 2, 4]] * 3
    centre = open_source(str(numbered_videos), clip=ClipSpec(length=3, stride=2, start="centre"))
    # span 5: a (20) starts at 7, b (11) at 3, c (7) at 1
    assert [_values(centre[i]) for i in range(3)] == [[7, 9, 11], [3, 5, 7], [1, 3, 5]]
    whole = open_source(str(numbered_videos))
    assert [whole[i].shape[0] for i in range(3)] == [20, 11, 7]
    strided = open_source(str(numbered_videos), clip=ClipSpec(stride=3))
    assert _values(strided[1]) == [0, 3, 6, 9]


def test_random_starts_are_seeded_per_clip_and_independent_of_access_order(numbered_videos):
    spec = ClipSpec(length=4, stride=1, start="random", clips_per_video=5, seed=3)
    src = open_source(str(numbered_videos), clip=spec)
    assert len(src) == 15
    forward = [_values(src[i]) for i in range(len(src))]
    again = open_source(str(numbered_videos), clip=spec)
    backward = [_values(again[i]) for i in reversed(range(len(again)))][::-1]
    assert forward == backward
    for vals in forward:  # consecutive frames inside the video
        assert vals == list(range(vals[0], vals[0] + 4))
    assert len({tuple(v) for v in forward[:5]}) > 1  # clips of one video differ
    other = open_source(str(numbered_videos), clip=ClipSpec(length=4, start="random",
                                                            clips_per_video=5, seed=4))
    assert [_values(other[i]) for i in range(15)] != forward
    # a video's clips do not depend on which other videos are in the source
    only_b = VideoClipSource([src.videos[1]], name="b", reader=src.reader, clip=spec)
    assert [_values(only_b[i]) for i in range(5)] == forward[5:10]


def test_random_starts_cover_every_valid_start(numbered_videos):
    spec = ClipSpec(length=5, stride=2, start="random", clips_per_video=400, seed=0)
    src = open_source(str(numbered_videos / "b"), clip=spec)  # 11 frames, span 9: starts 0..2
    starts = {src.clip_frames(i)[1][0] for i in range(len(src))}
    assert starts == {0, 1, 2}


def test_min_frames_follows_mocogan_hd_rule(numbered_videos):
    # MoCoGAN-HD drops videos with <= length*stride frames: min_frames = length*stride + 1
    spec = ClipSpec(length=4, stride=2, min_frames=4 * 2 + 1)
    src = open_source(str(numbered_videos), clip=spec, skip_bad=True)
    assert [v.name for v in src.videos] == ["a", "b"]
    assert "too short: 7 frames" in src.skipped[0][1]
    with pytest.raises(BadInputError, match="needs 9"):
        open_source(str(numbered_videos), clip=spec)


@pytest.mark.parametrize("kwargs, words", [
    ({"start": "middle"}, "valid: first, centre, random"),
    ({"length": 0}, "length must be >= 1"),
    ({"stride": 0}, "stride must be >= 1"),
    ({"length": 4, "clips_per_video": 2}, "needs start='random'"),
])
def test_clip_spec_validation(kwargs, words):
    with pytest.raises(VidbenchError, match=words):
        ClipSpec(**kwargs)
    assert ClipSpec(start="center").start == "centre"


def test_paths_with_spaces_and_non_ascii(tmp_path):
    clip = numbered_clip(5, 3, 3)
    write_frames(tmp_path / "dir with spaces" / "vidéo ü", clip, "f {i}.png")
    src = open_source(str(tmp_path / "dir with spaces"))
    assert [v.name for v in src.videos] == ["vidéo ü"]
    np.testing.assert_array_equal(src[0], clip)
    np.save(tmp_path / "dir with spaces" / "échantillons.npy", clip[None])
    arr = open_source(str(tmp_path / "dir with spaces" / "échantillons.npy") + ":layout=NTHWC")
    np.testing.assert_array_equal(arr[0], clip)


def test_format_spec_is_parse_specs_inverse():
    assert format_spec("shapes", {}) == "shapes"
    spec = format_spec("sky", {"split": "test", "sky_first32": True, "scale": 0.5, "n": 3,
                               "shape": "circle+square"})
    assert spec == "sky:split=test,sky_first32=true,scale=0.5,n=3,shape=circle+square"
    assert parse_spec(spec) == ("sky", {"split": "test", "sky_first32": True, "scale": 0.5,
                                        "n": 3, "shape": "circle+square"})
