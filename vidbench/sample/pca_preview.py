"""What the motion generator can do: the image along each PCA direction of the latent space.

MoCoGAN-HD's G_M moves a latent code only along the first ``n_pca`` principal directions of
W, by at most λ·σ_k a step along direction k (Eqn. 2), so what those directions change in the
image (position, size, shape, colour, ...) bounds the motions it can make. The preview
renders, for a few content codes w, the images of ``w + k·σ_c·v_c`` for k in
``-span … +span`` (``steps`` values) along each of the first ``num_components`` directions
``v_c`` (GANSpace-style traversals, Härkönen et al., NeurIPS 2020), StyleGAN2 noise off.

Writes ``preview.png`` (rows = content code × direction, columns = k from −span to +span) and
``preview.json`` (other names on request): per direction its σ, variance ratio and the mean
absolute pixel change between the two ends (uint8 frames as x/255, averaged over pixels,
channels and content codes), which ranks the directions by how much they change the picture.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidbench.models.generator_api import ImageGenerator
from vidbench.utils.errors import VidbenchError
from vidbench.utils.fileio import atomic_write_text
from vidbench.utils.provenance import provenance

PREVIEW_FORMAT = "vidbench-pca-preview/1"


def traversal_latents(w: torch.Tensor, components: torch.Tensor, stdev: torch.Tensor,
                      span: float = 3.0, steps: int = 9) -> torch.Tensor:
    """Latents ``[N, C, steps, D]``: ``w[n] + k·stdev[c]·components[c]`` for ``steps``
    values of k evenly spaced from ``-span`` to ``+span`` (``w`` [N, D], ``components`` [C, D]
    unit rows, ``stdev`` [C])."""
    if w.ndim != 2 or components.ndim != 2 or components.shape[1] != w.shape[1] \
            or stdev.shape != components.shape[:1]:
        raise VidbenchError(f"traversal needs w [N, D], components [C, D], stdev [C]; got "
                            f"{list(w.shape)}, {list(components.shape)}, {list(stdev.shape)}")
    if steps < 2 or not span > 0:
        raise VidbenchError(f"traversal needs steps >= 2 and span > 0, got {steps}, {span}")
    ks = torch.linspace(-span, span, steps, dtype=w.dtype, device=w.device)
    moves = ks[None, :, None] * (stdev[:, None] * components)[:, None, :]    # [C, steps, D]
    return w[:, None, None, :] + moves[None]


def pixel_change(clips: np.ndarray) -> np.ndarray:
    """Mean |last − first| frame of uint8 rows ``[N, C, steps, H, W, 3]`` as x/255, averaged
    over content codes, pixels and channels: one value per direction, ``[C]``."""
    ends = clips[:, :, [0, -1]].astype(np.int16)
    return np.abs(ends[:, :, 1] - ends[:, :, 0]).mean(axis=(0, 2, 3, 4)) / 255.0


def pca_preview(gen: ImageGenerator, components: torch.Tensor, stdev: torch.Tensor,
                out_dir: str | os.PathLike, *, var_ratio: np.ndarray | None = None,
                num_components: int = 16, contents: int = 2, span: float = 3.0,
                steps: int = 9, seed: int = 0, zoom: int = 1, name: str = "preview",
                source: dict[str, Any] | None = None) -> dict[str, Any]:
    """Render the traversals (module docstring) into ``out_dir/<name>.png`` and
    ``<name>.json``; return the JSON's content. ``zoom`` repeats pixels (small images);
    ``source`` says which generator and basis these are (hashes), recorded in the JSON with the
    git commit, versions and device."""
    from vidbench.data.writers import write_grid
    from vidbench.sample.generate import render_frames, to_clips

    if not 1 <= num_components <= components.shape[0]:
        raise VidbenchError(f"--preview: {num_components} directions asked, the basis has "
                            f"{components.shape[0]}")
    if contents < 1 or zoom < 1:
        raise VidbenchError(f"preview needs contents >= 1 and zoom >= 1, got {contents}, {zoom}")
    with torch.no_grad():
        w = gen.sample_latents(contents, torch.Generator().manual_seed(seed))
        comp = torch.as_tensor(components[:num_components], dtype=w.dtype).to(w.device)
        sd = torch.as_tensor(stdev[:num_components], dtype=w.dtype).to(w.device)
        lat = traversal_latents(w, comp, sd, span, steps)                 # [N, C, S, D]
        frames = render_frames(gen, lat.reshape(contents * num_components, steps, -1), None)
    clips = to_clips(frames.cpu(), where="preview")                        # [N·C, S, H, W, 3]
    change = pixel_change(clips.reshape(contents, num_components, *clips.shape[1:]))
    if zoom > 1:
        clips = clips.repeat(zoom, axis=2).repeat(zoom, axis=3)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    png = write_grid(out / f"{name}.png", clips, pad=2)
    info = {"format": PREVIEW_FORMAT, "png": str(png), "seed": seed, "contents": contents,
            "span_sigma": span, "steps": steps, "noise": "none",
            "rows": "content-major: content 0 directions 1..C, then content 1, ...",
            "directions": [{"component": c + 1, "stdev": float(sd[c]),
                            "var_ratio": None if var_ratio is None else float(var_ratio[c]),
                            "pixel_change": float(change[c])}
                           for c in range(num_components)],
            "source": source or {}, **provenance(w.device)}
    atomic_write_text(out / f"{name}.json", json.dumps(info, indent=2) + "\n")
    return info

