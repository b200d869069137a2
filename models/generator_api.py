"""The image-generator interface the motion generator and the sampler use.

MoCoGAN-HD (Tian et al., ICLR 2021) moves a latent code along a trajectory and renders each code
with a frozen image generator (docs/official-code.md, *The system in brief*). Anything
satisfying :class:`ImageGenerator` can be that renderer; two adapters are provided:

* :class:`StyleGAN2Adapter`: the motion lives in W. ``sample_latents`` maps z ~ N(0, I)
  through the mapping network; ``render`` broadcasts one w to every synthesis layer; noise
  maps are real (one per noise layer).
* :class:`BigGANAdapter`: the motion lives in z directly (z ~ N(0, I), paper §3); the class
  input is fixed (one class for every frame of every video); no noise maps.

:func:`render_video` renders a batch of trajectories [B, T, D] into frames [B, T, 3, S, S] with
the noise drawn once per video and repeated over its frames (docs/official-code.md, *Noise
maps per video*), and :func:`pool_frames` box-pools frames to the discriminator size
(*From generated frames to discriminator input*).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from torch import nn

from vidbench.models.biggan import BigGANGenerator
from vidbench.models.rng import randn, require_generator
from vidbench.models.stylegan2 import NoiseSpec, StyleGAN2Generator

NOISE_MODES = ("per_video", "per_frame", "none")


@runtime_checkable
class ImageGenerator(Protocol):
    """A frozen image generator seen from the motion model.

    ``latent_dim``: size D of the space the motion moves in. ``resolution``: output side S.
    ``sample_latents(n, generator)`` → [n, D] starting codes. ``sample_noise(n, generator)`` →
    one tensor [n, 1, h, w] per noise layer (empty for generators without noise).
    ``render(latents [N, D], noise, generator)`` → float [N, 3, S, S] in about [-1, 1], where
    ``noise`` is ``"none"``, ``"random"`` (fresh per image, needs ``generator``) or a list as
    returned by ``sample_noise``.
    """

    latent_dim: int
    resolution: int

    def sample_latents(self, n: int, generator: torch.Generator) -> torch.Tensor: ...

    def sample_noise(self, n: int, generator: torch.Generator) -> list[torch.Tensor]: ...

    def render(self, latents: torch.Tensor, noise: NoiseSpec = "none",
               generator: torch.Generator | None = None) -> torch.Tensor: ...


def _device(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


class StyleGAN2Adapter(nn.Module):
    """:class:`ImageGenerator` over a :class:`StyleGAN2Generator`; latents are w vectors."""

    def __init__(self, g: StyleGAN2Generator):
        super().__init__()
        self.g = g
        self.latent_dim, self.resolution = g.style_dim, g.size

    def sample_z(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """z ~ N(0, I) [n, style_dim] drawn from ``generator``."""
        return randn((n, self.latent_dim), generator, _device(self.g))

    def to_latent(self, z: torch.Tensor) -> torch.Tensor:
        """z → w through the mapping network."""
        return self.g.mapping(z)

    def sample_latents(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.to_latent(self.sample_z(n, generator))

    def sample_noise(self, n: int, generator: torch.Generator) -> list[torch.Tensor]:
        return self.g.make_noise(n, generator)

    def render(self, latents: torch.Tensor, noise: NoiseSpec = "none",
               generator: torch.Generator | None = None) -> torch.Tensor:
        return self.g.synthesis(latents, noise=noise, generator=generator)


class BigGANAdapter(nn.Module):
    """:class:`ImageGenerator` over a :class:`BigGANGenerator`; latents are z vectors.

    ``class_index``: the class every frame is rendered with (ignored by the class-free
    variant); the class input ``y`` stays fixed while the motion generator walks z.
    """

    def __init__(self, g: BigGANGenerator, class_index: int = 0):
        super().__init__()
        if g.n_classes and not 0 <= class_index < g.n_classes:
            raise ValueError(f"class_index {class_index} is not in 0..{g.n_classes - 1}")
        self.g, self.class_index = g, class_index
        self.latent_dim, self.resolution = g.dim_z, g.resolution

    def sample_z(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return randn((n, self.latent_dim), generator, _device(self.g))

    def to_latent(self, z: torch.Tensor) -> torch.Tensor:
        return z

    def sample_latents(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.sample_z(n, generator)

    def sample_noise(self, n: int, generator: torch.Generator) -> list[torch.Tensor]:
        return []

    def class_input(self, n: int) -> torch.Tensor | None:
        """The fixed class input ``y`` for ``n`` images (None for the class-free variant)."""
        classes = torch.full((n,), self.class_index, dtype=torch.long, device=_device(self.g))
        return self.g.class_input(classes)

    def render(self, latents: torch.Tensor, noise: NoiseSpec = "none",
               generator: torch.Generator | None = None) -> torch.Tensor:
        if not (isinstance(noise, str) and noise in ("none", "random")) and len(noise) != 0:
            raise ValueError("BigGAN has no noise layers: pass noise='none' or an empty list")
        return self.g(latents, self.class_input(latents.shape[0]))


def adapt(g: nn.Module) -> ImageGenerator:
    """Wrap a known generator module in its adapter (adapters pass through unchanged)."""
    if isinstance(g, StyleGAN2Generator):
        return StyleGAN2Adapter(g)
    if isinstance(g, BigGANGenerator):
        return BigGANAdapter(g)
    if isinstance(g, ImageGenerator):
        return g
    raise TypeError(f"no ImageGenerator adapter for {type(g).__name__}")


def render_video(gen: ImageGenerator, latents: torch.Tensor, noise: str = "per_video",
                 generator: torch.Generator | None = None,
                 chunk: int | None = None) -> torch.Tensor:
    """Render trajectories ``latents`` [B, T, D] into frames [B, T, 3, S, S].

    ``noise``: ``"per_video"`` draws one set of noise maps per video and repeats it over the
    video's T frames (MoCoGAN-HD's training and ``*_noise.mp4`` samples); ``"per_frame"`` draws
    fresh maps per frame; ``"none"`` skips the noise term. All maps are drawn up front from
    ``generator`` (one [B, 1, h, w] tensor per noise layer, layer by layer), so the result does
    not depend on ``chunk`` (frames rendered per call, to bound memory).
    """
    if latents.ndim != 3 or latents.shape[2] != gen.latent_dim:
        raise ValueError(f"latents must be [B, T, {gen.latent_dim}], got {tuple(latents.shape)}")
    if noise not in NOISE_MODES:
        raise ValueError(f"noise must be one of {NOISE_MODES}, got {noise!r}")
    b, t, d = latents.shape
    flat = latents.reshape(b * t, d)                       # batch-major: video 0 frames 0..T-1, …
    maps: Sequence[torch.Tensor] = []
    if noise == "per_video":
        maps = [m.repeat_interleave(t, dim=0)
                for m in gen.sample_noise(b, require_generator(generator, "noise='per_video'"))]
    elif noise == "per_frame":
        maps = gen.sample_noise(b * t, require_generator(generator, "noise='per_frame'"))
    step = chunk or b * t
    frames = []
    for start in range(0, b * t, step):
        part = [m[start:start + step] for m in maps]
        frames.append(gen.render(flat[start:start + step], noise=part if maps else "none"))
    out = torch.cat(frames, dim=0)
    return out.view(b, t, *out.shape[1:])


def pool_frames(video: torch.Tensor, size: int) -> torch.Tensor:
    """Box-pool frames [B, T, C, S, S] to [B, T, C, size, size] (kernel S/size)."""
    if video.ndim != 5 or video.shape[-1] != video.shape[-2]:
        raise ValueError(f"video must be [B, T, C, S, S], got {tuple(video.shape)}")
    s = video.shape[-1]
    if s % size:
        raise ValueError(f"frame side {s} is not a multiple of {size}")
    if s == size:
        return video
    b, t = video.shape[:2]
    pooled = F.avg_pool2d(video.flatten(0, 1), kernel_size=s // size)
    return pooled.view(b, t, *pooled.shape[1:])
