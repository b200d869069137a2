"""``vidbench train image``: train a StyleGAN2 image generator (rosinality layout).

Reference: Karras et al., "Analyzing and Improving the Image Quality of StyleGAN" (CVPR 2020) as
trained by rosinality/stylegan2-pytorch ``train.py``, whose checkpoint layout MoCoGAN-HD reads.
Path-length regularisation, style mixing and ADA are left out by choice; ``augment`` turns on
DiffAugment's translation and cutout of D's inputs (:mod:`vidbench.train.diffaugment`).

A run directory holds ``config.json``, ``log.jsonl``, a resumable ``checkpoint.pt`` and, at
the end, ``generator.pt`` with ``generator.json``, read by :func:`load_generator_from_run`.
Under a process group the ranks share every step's global batch and stay identical; a
checkpoint resumes only with the same number of processes. What is matched, the run files
and data parallelism: docs/official-code.md, *Image-generator training*.
"""
from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm import tqdm

from vidbench.models.stylegan2 import StyleGAN2Generator, load_stylegan2
from vidbench.models.safe_pickle import torch_load_weights
from vidbench.models.stylegan2_disc import StyleGAN2Discriminator
from vidbench.models.stylegan2_losses import (d_logistic_loss, ema_beta, ema_update,
                                              g_nonsaturating_loss, r1_penalty)
from vidbench.utils import distributed as ddp
from vidbench.data.convert import to_uint8
from vidbench.data.writers import write_grid
from vidbench.utils.errors import BadInputError, TrainingInterrupted, VidbenchError
from vidbench.utils.fileio import atomic_torch_save, atomic_write_text
from vidbench.utils.hashing import sha256_file
from vidbench.train.diffaugment import diff_augment, parse_policy
from vidbench.train.image_generator import RUN_GENERATOR, RUN_GENERATOR_JSON, read_run_generator
from vidbench.train.image_data import batch_indices, load_image_bank, make_batch
from vidbench.train.image_config import PRESETS, ImageTrainConfig, config_from_dict, preset
from vidbench.utils.provenance import provenance
from vidbench.utils.seeding import derive_seed

CHECKPOINT = "checkpoint.pt"
_G_INIT, _D_INIT, _TRAIN, _SAMPLE = 10, 11, 12, 13  # seed streams
FORMAT = "vidbench-stylegan2-run/1"


def _torch_gen(seed: int, stream: int, rank: int = 0) -> torch.Generator:
    """Rank 0's stream is the single-process one; rank r > 0 gets its own."""
    words = (seed, stream) if rank == 0 else (seed, stream, rank)
    return torch.Generator().manual_seed(derive_seed(*words))


def _rank_batch(batch: int, world: int) -> int:
    """Images per rank of a global ``batch`` split over ``world`` processes."""
    if batch % world:
        raise VidbenchError(f"train image: batch {batch} does not split over {world} processes")
    local = batch // world
    if local % min(4, local):
        raise VidbenchError(f"train image: {local} images per process (batch {batch} over "
                            f"{world}) is not divisible by the minibatch-stddev group "
                            f"{min(4, local)}")
    return local


def build_networks(c: ImageTrainConfig) -> tuple[StyleGAN2Generator, StyleGAN2Discriminator]:
    """The generator and discriminator of ``c``, initialised from the run's seed."""
    g = StyleGAN2Generator(c.size, c.style_dim, c.n_mlp, c.channel_multiplier, channels=c.channels,
                           max_channels=c.max_channels, generator=_torch_gen(c.seed, _G_INIT))
    d_channels = c.channels if c.d_channels is None else c.d_channels
    d = StyleGAN2Discriminator(c.size, c.channel_multiplier, channels=d_channels,
                               max_channels=c.max_channels, generator=_torch_gen(c.seed, _D_INIT))
    return g, d


def rosinality_args(c: ImageTrainConfig) -> dict:
    """``args`` as JSON data: the config plus rosinality ``train.py``'s names for its fields."""
    return {**asdict(c), "latent": c.style_dim, "iter": c.steps, "r1": c.r1_gamma,
            "d_reg_every": c.r1_every, "path_regularize": 0.0, "mixing": 0.0}


def generator_kwargs(c: ImageTrainConfig) -> dict:
    """Constructor arguments of the trained generator (stored in ``generator.json``)."""
    return {"size": c.size, "style_dim": c.style_dim, "n_mlp": c.n_mlp,
            "channel_multiplier": c.channel_multiplier, "channels": c.channels,
            "max_channels": c.max_channels, "lr_mlp": 0.01}


def _optimizers(c: ImageTrainConfig, g, d) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    ratio = c.r1_every / (c.r1_every + 1)
    g_optim = torch.optim.Adam(g.parameters(), lr=c.lr, betas=(0.0, 0.99))
    d_optim = torch.optim.Adam(d.parameters(), lr=c.lr * ratio, betas=(0.0, 0.99 ** ratio))
    return g_optim, d_optim


def _check_resumable(saved: ImageTrainConfig, given: ImageTrainConfig, path: Path) -> None:
    diff = [k for k, v in asdict(given).items() if k != "steps" and asdict(saved)[k] != v]
    if diff:
        raise BadInputError(path, "cannot resume with a different config; changed: " + ", ".join(
            f"{k} {asdict(saved)[k]!r} -> {asdict(given)[k]!r}" for k in diff))


def _write_samples(g_ema, z: torch.Tensor, path: Path, rows: int) -> None:
    with torch.no_grad():
        img = g_ema(z, noise="const").clamp(-1, 1)
    img = to_uint8(img.permute(0, 2, 3, 1).cpu().numpy().astype(np.float32))
    write_grid(path, img.reshape(rows, -1, *img.shape[1:]), pad=1)


def _save_checkpoint(path: Path, c, step, g, d, g_ema, g_optim, d_optim, rng) -> None:
    """Collective under DDP (every rank's random state is gathered); rank 0 writes."""
    rngs = ddp.gather_objects(rng.get_state())
    if not ddp.is_main():
        return
    state = {"g": g.state_dict(), "d": d.state_dict(), "g_ema": g_ema.state_dict(),
             "g_optim": g_optim.state_dict(), "d_optim": d_optim.state_dict(),
             "args": rosinality_args(c), "step": step, "train_rng": rngs[0],
             "world_size": len(rngs), "format": FORMAT}
    if len(rngs) > 1:
        state["train_rng_ranks"] = rngs
    atomic_torch_save(state, path)


def _export(run: Path, c: ImageTrainConfig, g_ema, step: int, data: dict) -> Path:
    out = run / RUN_GENERATOR
    atomic_torch_save({"g_ema": g_ema.state_dict(), "args": rosinality_args(c)}, out)
    meta = {"format": "rosinality-stylegan2", "key": "g_ema", "file": RUN_GENERATOR,
            "sha256": sha256_file(out), "kwargs": generator_kwargs(c),
            "step": step, "images_seen": step * c.batch,
            "data_fingerprint": data["source"].get("fingerprint"), "config": asdict(c)}
    atomic_write_text(run / RUN_GENERATOR_JSON, json.dumps(meta, indent=1) + "\n")
    return out


def _trim_log(path: Path, step: int) -> None:
    if path.exists():
        keep = [ln for ln in path.read_text().splitlines()
                if ln.strip() and json.loads(ln)["step"] <= step]
        atomic_write_text(path, "".join(ln + "\n" for ln in keep))


def _d_step(c: ImageTrainConfig, g, d, d_optim, real: torch.Tensor, rng: torch.Generator,
            regularize: bool) -> dict:
    """One discriminator update (logistic loss), then, if ``regularize``, the lazy R1 update
    on the same reals weighted γ/2·k."""
    g.requires_grad_(False)
    d.requires_grad_(True)
    with torch.no_grad():
        z = torch.randn(len(real), c.style_dim, generator=rng).to(real.device)
        fake = g(z, noise="random", generator=rng)
    policy = parse_policy(c.augment)
    real_pred = d(diff_augment(real, policy, rng))
    fake_pred = d(diff_augment(fake, policy, rng))
    d_loss = d_logistic_loss(real_pred, fake_pred)
    d_optim.zero_grad(set_to_none=True)
    d_loss.backward()
    ddp.allreduce_grads(d.parameters())
    d_optim.step()
    stats = {"d_loss": d_loss.item(), "real_score": real_pred.detach().mean().item(),
             "fake_score": fake_pred.detach().mean().item()}
    if regularize:
        real = real.detach().requires_grad_(True)
        r1 = r1_penalty(d(diff_augment(real, policy, rng)), real)
        d_optim.zero_grad(set_to_none=True)
        (c.r1_gamma / 2 * c.r1_every * r1).backward()
        ddp.allreduce_grads(d.parameters())
        d_optim.step()
        stats["r1"] = r1.item()
    return stats


def _g_step(c: ImageTrainConfig, g, d, g_optim, rng: torch.Generator, n: int, device) -> float:
    """One generator update on ``n`` latents with the non-saturating loss; returns the loss."""
    g.requires_grad_(True)
    d.requires_grad_(False)
    z = torch.randn(n, c.style_dim, generator=rng).to(device)
    fake = g(z, noise="random", generator=rng)
    g_loss = g_nonsaturating_loss(d(diff_augment(fake, parse_policy(c.augment), rng)))
    g_optim.zero_grad(set_to_none=True)
    g_loss.backward()
    ddp.allreduce_grads(g.parameters())
    g_optim.step()
    return g_loss.item()


def _log_line(step: int, batch: int, beta: float, window: list[dict], device="cpu") -> dict:
    """Means over the steps since the last line (R1: over the steps that computed it) and,
    under DDP, over ranks (a collective: every rank calls it at the same steps)."""
    keys = ("d_loss", "g_loss", "r1", "real_score", "fake_score", "sec", "cpu")
    local = {k: float(np.mean(v)) for k in keys
             if (v := [w[k] for w in window if k in w])}
    means = ddp.all_mean(local, device)   # on the device: NCCL reduces CUDA tensors only

    def mean(key: str) -> float | None:
        return round(means[key], 6) if key in means else None

    return {"step": step, "images_seen": step * batch, "d_loss": mean("d_loss"),
            "g_loss": mean("g_loss"), "r1": mean("r1"), "real_score": mean("real_score"),
            "fake_score": mean("fake_score"), "ema_beta": round(beta, 6),
            "sec_per_step": mean("sec"), "cpu_sec_per_step": mean("cpu")}


def train_image(config: ImageTrainConfig, out_dir: str | Path, resume: bool = False,
                progress: bool = True, device: str = "cpu",
                stop: Callable[[], bool] | None = None) -> Path:
    """Train (or, with ``resume``, continue) a run in ``out_dir``; return ``generator.pt``.

    Resuming needs ``out_dir/checkpoint.pt`` and the same config (only ``steps`` may grow);
    it continues from the checkpointed step and gives the same weights as an uninterrupted run.
    Without ``resume`` a directory that already holds a run is an error. ``stop`` is asked
    after every step (rank 0's answer counts): True writes the checkpoint now and raises
    :class:`~vidbench.utils.errors.TrainingInterrupted` (a preempted job).
    """
    c, run = config, Path(out_dir)
    rank, world = ddp.dist_info()
    main = rank == 0
    local = _rank_batch(c.batch, world)
    ckpt_path, log_path = run / CHECKPOINT, run / "log.jsonl"
    if resume and not ckpt_path.exists():
        raise BadInputError(ckpt_path, "nothing to resume: no checkpoint in this run directory")
    if not resume and (ckpt_path.exists() or (run / RUN_GENERATOR).exists()):
        raise VidbenchError(f"{run} already holds a run; pass --resume to continue it or "
                            f"choose another --out")
    state = torch_load_weights(ckpt_path, "a checkpoint written by `vidbench train image` "
                                          "(resume the run that wrote it, or train again)") \
        if resume else None
    if state is not None:
        _check_resumable(config_from_dict({k: v for k, v in state["args"].items()
                                           if k in ImageTrainConfig.__dataclass_fields__}),
                         c, ckpt_path)
        if state.get("world_size", 1) != world:
            raise BadInputError(ckpt_path, f"written by {state.get('world_size', 1)} "
                                           f"process(es); resume with the same number (now "
                                           f"{world})")
    images, data_desc = load_image_bank(c.dataset, root=c.root, size=c.size, resize=c.resize,
                                        frame_step=c.frame_step, max_images=c.max_images,
                                        progress=progress and main)
    g, d = build_networks(c)
    g_ema = copy.deepcopy(g).eval().requires_grad_(False)
    g_optim, d_optim = _optimizers(c, g, d)
    rng, step = _torch_gen(c.seed, _TRAIN, rank), 0
    if state is not None:
        for module, key in ((g, "g"), (d, "d"), (g_ema, "g_ema")):
            module.load_state_dict(state[key], strict=True)
        g_optim.load_state_dict(state["g_optim"])
        d_optim.load_state_dict(state["d_optim"])
        rng.set_state(state["train_rng_ranks"][rank] if world > 1 else state["train_rng"])
        step = int(state["step"])
        if step > c.steps:
            raise BadInputError(ckpt_path, f"the run is at step {step}, past steps={c.steps}")
        if main:
            _trim_log(log_path, step)
    g, d, g_ema = g.to(device), d.to(device), g_ema.to(device)
    for opt in (g_optim, d_optim):  # optimiser state follows its parameters' device
        for s in opt.state.values():
            for k, v in s.items():
                if isinstance(v, torch.Tensor) and k != "step":
                    s[k] = v.to(device)
    for module in (g, d, g_ema):   # identical by construction; made certain
        ddp.broadcast_module(module)
    if main:
        run.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run / "config.json", json.dumps(
            {"config": asdict(c), "data": data_desc, "resumed_from_step": step if resume else None,
             "world_size": world, "provenance": provenance(device)},
            indent=1, default=str) + "\n")
    rows = c.sample_grid
    sample_z = torch.randn(rows * rows, c.style_dim,
                           generator=_torch_gen(c.seed, _SAMPLE)).to(device)
    bar = tqdm(total=c.steps, initial=step, desc="train image", unit="step",
               disable=not (progress and main))
    window: list[dict] = []
    while step < c.steps:
        t0, cpu0 = time.perf_counter(), time.process_time()
        indices = batch_indices(len(images), c.batch, step, c.seed)
        real = make_batch(images, indices, hflip=c.hflip, step=step, seed=c.seed,
                          device=device)[rank * local:(rank + 1) * local]
        stats = _d_step(c, g, d, d_optim, real, rng, regularize=step % c.r1_every == 0)
        stats["g_loss"] = _g_step(c, g, d, g_optim, rng, local, device)
        step += 1
        beta = ema_beta(c.batch, c.ema_half_life, step * c.batch, c.ema_rampup)
        ema_update(g_ema, g, beta)
        window.append({**stats, "sec": time.perf_counter() - t0, "cpu": time.process_time() - cpu0})
        bar.update(1)
        if step % c.log_every == 0 or step == c.steps:
            line = _log_line(step, c.batch, beta, window, device)
            if main:
                with open(log_path, "a") as fh:
                    fh.write(json.dumps(line) + "\n")
            bar.set_postfix(d=f"{line['d_loss']:.3f}", g=f"{line['g_loss']:.3f}")
            window = []
        if step % c.checkpoint_every == 0 or step == c.steps:
            _save_checkpoint(ckpt_path, c, step, g, d, g_ema, g_optim, d_optim, rng)
            if main:
                _write_samples(g_ema, sample_z, run / "samples" / f"step_{step:06d}.png", rows)
        elif ddp.stop_requested(stop):
            _save_checkpoint(ckpt_path, c, step, g, d, g_ema, g_optim, d_optim, rng)
            bar.close()
            ddp.barrier()
            raise TrainingInterrupted(run, step)
    bar.close()
    path = _export(run, c, g_ema, step, data_desc) if main else run / RUN_GENERATOR
    ddp.barrier()
    return path


def load_generator_from_run(path: str | Path, frozen: bool = True) -> StyleGAN2Generator:
    """Rebuild the generator of a run from ``generator.json`` + ``generator.pt``.

    ``path`` is the run directory or its ``generator.json``. The weight file's sha256 must
    match the one recorded; the state dict is loaded strictly (:func:`load_stylegan2`).
    """
    meta_path, pt, meta = read_run_generator(path)
    kw = meta["kwargs"]
    if kw.get("lr_mlp", 0.01) != 0.01:
        raise BadInputError(meta_path, f"lr_mlp {kw['lr_mlp']} unsupported (rosinality uses 0.01)")
    return load_stylegan2(pt, kw["size"], kw["channel_multiplier"], style_dim=kw["style_dim"],
                          n_mlp=kw["n_mlp"], key=meta.get("key", "g_ema"),
                          channels=kw["channels"], max_channels=kw["max_channels"], frozen=frozen)


__all__ = ["ImageTrainConfig", "PRESETS", "preset", "config_from_dict", "train_image",
           "load_generator_from_run", "build_networks", "generator_kwargs", "CHECKPOINT"]
