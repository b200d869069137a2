"""Outputs of the prediction experiment (:mod:`vidbench.sample.predict`): the output folder, the
PSNR/SSIM written into its manifest (predictions and Up-B), and the ground truth that
baselines' predictions are scored against.

Scores use the functions behind ``vidbench eval psnr-ssim``, so the manifest's numbers equal
that command's on the written folders. MDGAN's and DTVNet's predictions are min–max
normalised, so their ground truth must be too (docs/datasets.md, *Scoring MDGAN and DTVNet
predictions*).
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from vidbench.data.base import ClipSource
from vidbench.data.writers import write_frames
from vidbench.utils.errors import VidbenchError

OUTPUT_DIRS = {"pred": "pred", "real": "real", "inverted": "inverted",
               "first_frames": "first_frames"}
_OUTPUT_FILES = ("manifest.json", "latents.npz")
BASELINE_GT = ("dtvnet", "mdgan")


def prepare_out_dir(out_dir: str | Path, overwrite: bool) -> Path:
    """Create ``out_dir``; earlier prediction outputs there are an error unless ``overwrite``
    (then exactly those folders and files are removed, nothing else)."""
    out = Path(out_dir)
    present = [out / d for d in OUTPUT_DIRS.values() if (out / d).exists()]
    present += [out / f for f in _OUTPUT_FILES if (out / f).exists()]
    if present and not overwrite:
        raise VidbenchError(f"{out} already holds prediction outputs "
                            f"({', '.join(p.name for p in present)}); pass --overwrite to "
                            f"replace them")
    for p in present:
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    out.mkdir(parents=True, exist_ok=True)
    return out


def clip_names(source: ClipSource, n: int) -> list[str]:
    """The source's own name of each of its first ``n`` clips (its index when it has none)."""
    names = []
    for i in range(n):
        frames_of = getattr(source, "clip_frames", None)
        names.append(frames_of(i)[0].name if frames_of is not None else str(i))
    return names


class ScoreAccumulator:
    """Per-frame PSNR/SSIM of predictions and of inverted first frames (Up-B), batch by
    batch, under several presets."""

    def __init__(self, presets: tuple[str, ...]):
        self.presets = presets
        self.rows: dict[str, dict[str, list]] = {
            part: {p: [] for p in presets} for part in ("prediction", "up_b")}
        self.settings: dict[str, Any] = {}

    def add(self, pred: np.ndarray, real: np.ndarray, inverted: np.ndarray,
            first: np.ndarray) -> None:
        """``pred``/``real`` uint8 [B, T, S, S, 3]; ``inverted``/``first`` [B, S, S, 3]."""
        from vidbench.metrics.psnr_ssim import frame_values

        for preset in self.presets:
            for part, (a, b) in (("prediction", (pred, real)),
                                 ("up_b", (inverted[:, None], first[:, None]))):
                *values, settings = frame_values(a, b, preset)
                self.rows[part][preset].append(values)
                self.settings[preset] = settings

    def summary(self) -> dict[str, dict[str, Any]]:
        from vidbench.metrics.psnr_ssim import summarize

        out: dict[str, dict[str, Any]] = {}
        for part, by_preset in self.rows.items():
            out[part] = {}
            for preset, rows in by_preset.items():
                psnr, capped, ssim = (np.concatenate([r[k] for r in rows]) for k in range(3))
                res = summarize(psnr, capped, ssim, preset, self.settings[preset])
                res.pop("per_frame")
                res["per_frame_mean"] = {"psnr_capped": capped.mean(0).tolist(),
                                         "ssim": ssim.mean(0).tolist()}
                out[part][preset] = res
        return out


def ground_truth_for_baseline(baseline: str, *, outputs: str | None = None,
                              real: ClipSource | None = None) -> ClipSource:
    """The ground truth a baseline's predictions are scored against (docs/datasets.md, *Scoring
    MDGAN and DTVNet predictions*).

    ``dtvnet``: with ``real`` (e.g. a prediction run's ``real/`` folder at 128², 32 frames),
    those clips through DTVNet's per-frame min–max; else DTVNet's own ``<epoch>_r`` clips under
    ``outputs``. ``mdgan``: MDGAN's own ``real`` grids under ``outputs`` (``real`` cannot be
    paired with its shuffled batch and is refused).
    """
    from vidbench.baselines import dtvnet, open_baseline

    if baseline == "dtvnet":
        if real is not None:
            return dtvnet.normalised_source(real)
        if outputs is None:
            raise VidbenchError("dtvnet ground truth needs the real clips or DTVNet's outputs")
        return open_baseline("dtvnet", outputs, which="real")
    if baseline == "mdgan":
        if real is not None or outputs is None:
            raise VidbenchError("MDGAN predicts one shuffled batch of 48 test clips: its "
                                "predictions pair only with its own real grids; pass the "
                                "MDGAN output folder (outputs=...), not other real clips")
        return open_baseline("mdgan", outputs, which="real")
    raise VidbenchError(f"no ground-truth convention for baseline {baseline!r}; valid: "
                        f"{', '.join(BASELINE_GT)}")


def write_clips(source: ClipSource, out_dir: str | Path, overwrite: bool = False) -> Path:
    """Write every clip of ``source`` as a PNG folder ``out_dir/00000/``, … (lossless), so
    ``vidbench eval psnr-ssim`` can read it back as a source in the same order."""
    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise VidbenchError(f"{out} already exists; pass overwrite to replace it")
    if out.exists():
        shutil.rmtree(out)
    for i in range(len(source)):
        write_frames(out / f"{i:05d}", source[i])
    out.mkdir(parents=True, exist_ok=True)
    return out
