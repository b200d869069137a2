"""Sampling videos from a model, frames/s on the CPU.

Figure ``sample.generator_source.tiny`` (ratio built in ``benchmarks/ratios.py``): reading
``NUM_VIDEOS`` clips from :class:`vidbench.sample.generate.GeneratorSource` (the source behind
``--fake checkpoint:RUN`` and ``vidbench sample``) of the model of
``benchmarks/_tiny_models.py`` (the tiny image generator, a motion generator of the preset
``tiny``; 16 frames at 32x32 per video, per-video noise maps): per video G_M, then G_I on its
frames, then uint8, one video per call so that a sample never depends on what else is drawn.

Peer timed in its rounds (``benchmarks/_common.py``): ``image.render.tiny``, the image
generator alone on the same latents and noise maps, every frame of every video in batches of
64 (``vidbench.sample.generate.render_frames``), checked to give the same frames.
"""
from __future__ import annotations

import numpy as np
import torch

from benchmarks._common import Peer
from benchmarks._tiny_models import video_model

NUM_VIDEOS = 16
ROUNDS = 3


def test_sampling(pedantic_with_peers, record_figure, tiny_setup):
    from vidbench.sample.generate import (GeneratorSource, draw_inputs, generate_videos,
                                          render_frames, to_clips)

    model = video_model(*tiny_setup)
    source = GeneratorSource(model, num_videos=NUM_VIDEOS, seed=0)
    frames_per_video = source.options["frames"]

    def sample() -> np.ndarray:
        return np.stack([source[i] for i in range(NUM_VIDEOS)])

    with torch.no_grad():
        expected, latents = generate_videos(model, range(NUM_VIDEOS), seed=0,
                                            return_latents=True)
    inputs = [draw_inputs(model, 0, i, frames_per_video) for i in range(NUM_VIDEOS)]
    maps = [torch.cat(layer) for layer in zip(*(noise for _, _, noise in inputs))]
    peer_frames: list[torch.Tensor] = []

    def render() -> None:
        with torch.no_grad():
            peer_frames[:] = [render_frames(model.image, latents, maps, chunk=64)]
    peers = {"image.render.tiny": Peer(render, "frames", NUM_VIDEOS * frames_per_video)}
    clips, nearby = pedantic_with_peers(sample, (), ROUNDS, peers)
    assert clips.dtype == np.uint8 and clips.shape == (NUM_VIDEOS, *expected.shape[1:2],
                                                       *expected.shape[3:], 3)
    np.testing.assert_array_equal(clips, to_clips(expected, source.options["convention"]))
    # batched rendering computes the same frames, up to float32 rounding
    torch.testing.assert_close(peer_frames[0], expected, rtol=0, atol=1e-4)
    record_figure("sample.generator_source.tiny", unit="frames",
                  items_per_round=NUM_VIDEOS * frames_per_video, nearby=nearby,
                  num_videos=NUM_VIDEOS, frames_per_video=frames_per_video,
                  frame_size=int(expected.shape[-1]), noise=source.options["noise"])
