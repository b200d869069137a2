"""MoCoGAN-HD motion-generator training: the loop.

Reference: Tian et al., ICLR 2021, Eqns. 3-7; snap-research/MoCoGAN-HD ``train.py`` with
``train_func_in_domain.py`` / ``train_func_cross_domain.py`` (commit 27356ba), reimplemented.
Scope of the match: the networks, losses, weights, optimiser settings and schedule (per
iteration one real batch, ``g_steps`` = 5 generator steps each with fresh z and the same real
batch, then one D_3d step and one image-D step, then the image-D EMA; queues filled in
generator steps). Fixed on purpose: discriminators are frozen during generator steps,
optimiser and RNG states are saved, one process needs no DDP. docs/official-code.md explains
each (*Training loop and per-data-set settings*, *Behaviours kept or fixed*). Random numbers
come from seeded ``torch.Generator`` objects (``latent``: z, ε, noise maps; ``aug``: time flips,
frame choices, ``warp``, GP α; the data sampler's own), not Python's ``random``.

DDP: started by ``torchrun`` with more than one process, each rank draws its own latents
(generators seeded with the rank), reads its shard of every epoch (:mod:`vidbench.train.motion_data`)
and gradients are averaged over ranks (:mod:`vidbench.utils.distributed`); queue entries are gathered from all
ranks before each push; rank 0 writes logs and checkpoints.
"""
from __future__ import annotations

import contextlib
import json
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
from tqdm import tqdm

from vidbench.models.generator_api import pool_frames, render_video
from vidbench.models.image_disc import ContrastiveImageDiscriminator, PairDiscriminator
from vidbench.models.motion import MotionGenerator
from vidbench.models.video_disc import VideoDiscriminator
from vidbench.utils import distributed as ddp
from vidbench.train.checkpoint import (EXPORT_STEM, LATEST, export_motion_generator,
                                       load_official_weights, load_training_state,
                                       motion_constructor_args, save_training_state, snapshot_name,
                                       state_sha256)
from vidbench.train.motion_config import (MotionTrainConfig, config_diff, load_config,
                                          uses_biggan_image_disc)
from vidbench.utils.errors import TrainingInterrupted, VidbenchError
from vidbench.utils.fileio import atomic_write_text
from vidbench.train.image_generator import load_image_generator
from vidbench.train.pca import load_pca
from vidbench.utils.provenance import provenance
from vidbench.utils.seeding import stream_seed
from vidbench.train.motion_data import TrainClips
from vidbench.train.losses import LossSetup, g_losses, image_d_loss, video_d_loss

# Config keys that may change when a run is resumed.
RESUMABLE_KEYS = {"steps", "epochs", "log_every", "checkpoint_every", "snapshot_every",
                  "device", "data.num_workers", "data.root"}
QUEUE_BUFFERS = ("q_real", "q_fake", "q_ptr")


@contextlib.contextmanager
def deterministic_algorithms(enabled: bool) -> Iterator[None]:
    """Deterministic kernels inside the block (a warning, not an error, for ops that have
    none, e.g. CUDA ``grid_sample`` backward), restored after."""
    old = (torch.are_deterministic_algorithms_enabled(),
           torch.is_deterministic_algorithms_warn_only_enabled())
    if enabled:
        torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(old[0], warn_only=old[1])


def build_discriminators(cfg: MotionTrainConfig, generator: torch.Generator):
    """(D_3d or None, image D or None) for the config (docs/official-code.md, *In-domain and
    cross-domain modes*)."""
    d = cfg.disc
    patch = dict(ndf=d.ndf, ndf_max=d.ndf_max, n_layers=d.n_layers, num_scales=d.num_scales,
                 generator=generator)
    video = (VideoDiscriminator.for_mode(cfg.mode == "cross-domain", cfg.data.n_frames, **patch)
             if cfg.loss.video_disc else None)
    image = None
    if cfg.loss.image_disc and uses_biggan_image_disc(cfg):
        image = ContrastiveImageDiscriminator(
            d.frame_size, d.biggan_ch, proj_dim=d.proj_dim, queue_size=d.queue_size,
            global_batch=cfg.batch_size, momentum=d.ema_momentum, tau=d.tau, generator=generator)
    elif cfg.loss.image_disc:
        image = PairDiscriminator(6, **patch)
    return video, image


def trainable(module: torch.nn.Module | None) -> list[torch.nn.Parameter]:
    if module is None:
        return []
    if isinstance(module, ContrastiveImageDiscriminator):
        return list(module.modelD.parameters())     # the EMA copy is never optimised
    return list(module.parameters())


def generate(image, motion, batch: int, n_frames: int, size: int, gen: torch.Generator):
    """Fresh z → G_M → G_I (noise per video) → box-pooled frames [B, T, 3, size, size]."""
    w1 = image.sample_latents(batch, gen)
    out = motion(w1, n_frames, generator=gen)
    frames = render_video(image, out.latents, noise="per_video", generator=gen)
    return pool_frames(frames, size), out


def _append_jsonl(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, default=str) + "\n")


def _check_resume(cfg: MotionTrainConfig, run_dir: Path) -> dict[str, Any]:
    saved = load_config(run_dir / "config.json")
    changed = {k: v for k, v in config_diff(saved, cfg).items() if k not in RESUMABLE_KEYS}
    if changed:
        listing = ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in sorted(changed.items()))
        raise VidbenchError(f"{run_dir}: --resume with a different config ({listing}); only "
                            f"{', '.join(sorted(RESUMABLE_KEYS))} may change")
    return {k: list(v) for k, v in config_diff(saved, cfg).items()}


def train_motion(cfg: MotionTrainConfig, run_dir: str | Path, *, resume: bool = False,
                 progress: bool = True, stop: Callable[[], bool] | None = None
                 ) -> dict[str, Any]:
    """Train G_M as ``cfg`` says; write logs, checkpoints and exports to ``run_dir``.

    Keyword arguments::

        resume     continue from run_dir/checkpoint-latest.pt (config must match, see
                   RESUMABLE_KEYS); the resume is recorded in log.jsonl and resume.json
        progress   show a tqdm bar (rank 0)
        stop       asked after every step (rank 0's answer counts); True writes the
                   checkpoint now and raises TrainingInterrupted (a preempted job)

    Returns a summary: final step, paths of the checkpoint and export, last losses.
    """
    run_dir = Path(run_dir)
    rank, world = ddp.dist_info()
    main = rank == 0
    if cfg.generator is None or cfg.pca is None:
        raise VidbenchError("motion training needs an image generator file and a PCA folder")
    latest = run_dir / LATEST
    changes: dict[str, Any] = {}
    if resume:
        if not latest.is_file():
            raise VidbenchError(f"{run_dir}: nothing to resume (no {LATEST})")
        changes = _check_resume(cfg, run_dir)
    elif latest.exists():
        raise VidbenchError(f"{run_dir} already holds a run ({LATEST}); pass --resume to continue "
                            "it or choose another --out")
    device = torch.device(cfg.device)
    loaded = load_image_generator(cfg.generator, config=cfg.generator_config,
                                  device=device)
    image = loaded.adapter
    pca = load_pca(cfg.pca)
    if pca.components.shape[1] != image.latent_dim or pca.components.shape[0] < cfg.motion.n_pca:
        raise VidbenchError(f"{pca.directory}: basis {tuple(pca.components.shape)} does not fit "
                            f"latent size {image.latent_dim} with n_pca {cfg.motion.n_pca}")
    if image.resolution % cfg.disc.frame_size:
        raise VidbenchError(f"generator size {image.resolution} is not a multiple of the "
                            f"discriminator frame size {cfg.disc.frame_size}")
    if not cfg.motion.residual and pca.mean is None:
        raise VidbenchError(f"{pca.directory}: --no-residual needs style_mean.npy")
    init = torch.Generator().manual_seed(stream_seed(cfg.seed, "init"))
    motion = MotionGenerator(image.latent_dim, cfg.motion.hidden_dim, cfg.motion.n_pca,
                             residual_scale=cfg.motion.residual_scale,
                             residual=cfg.motion.residual, generator=init)
    motion.set_pca(pca.components, pca.stdev, mean=pca.mean)
    video_disc, image_disc = build_discriminators(cfg, init)
    nets = {"motion": motion, "video_disc": video_disc, "image_disc": image_disc}
    nets = {k: v.to(device).train() for k, v in nets.items() if v is not None}
    o = cfg.optim
    opts = {"motion": torch.optim.Adam(motion.parameters(), o.lr, o.betas, o.eps)}
    if video_disc is not None:
        opts["video_disc"] = torch.optim.Adam(video_disc.parameters(), o.lr, o.betas, o.eps)
    if image_disc is not None:
        opts["image_disc"] = torch.optim.Adam(trainable(image_disc), o.lr, o.image_betas,
                                              o.image_eps)
    rngs = {"latent": torch.Generator(device).manual_seed(stream_seed(cfg.seed, "latent", rank)),
            "aug": torch.Generator().manual_seed(stream_seed(cfg.seed, "aug", rank))}
    data = TrainClips(cfg.data.dataset, root=cfg.data.root, n_frames=cfg.data.n_frames,
                      time_step=cfg.data.time_step, size=cfg.disc.frame_size,
                      batch_size=cfg.batch_size, seed=stream_seed(cfg.seed, "data"), rank=rank,
                      world=world, num_workers=cfg.data.num_workers)
    total_steps = cfg.steps or cfg.epochs * data.iters_per_epoch
    if main and data.skipped:   # short videos are dropped, but never silently
        warnings.warn(f"{len(data.skipped)} videos skipped (listed in run.json), e.g. "
                      f"{data.skipped[0][0]}: {data.skipped[0][1]}")
    step, init_files = 0, []
    export_meta = {"pca": pca.describe(), "image_generator": loaded.describe(),
                   "n_frames": cfg.data.n_frames, "constructor": motion_constructor_args(motion)}
    if resume:
        state = load_training_state(latest)
        if state["world_size"] != world:
            raise VidbenchError(f"{latest}: written by {state['world_size']} processes; resume "
                                f"with the same number (now {world})")
        if torch.device(state["config"]["device"]).type != device.type:
            raise VidbenchError(f"{latest}: written on {state['config']['device']}; resume on "
                                f"the same kind of device (RNG states differ), not {device}")
        for name, net in nets.items():
            net.load_state_dict(state["models"][name])
        for name, opt in opts.items():
            opt.load_state_dict(state["optimizers"][name])
        for name, gen in rngs.items():
            gen.set_state(state["rng"][name][rank])
        data.load_state_dict(state["data"])
        step = int(state["step"])
    else:
        if cfg.init_from:
            init_files = load_official_weights(nets, cfg.init_from, cfg.init_tag)
        for net in nets.values():
            ddp.broadcast_module(net)
    if main:
        run_dir.mkdir(parents=True, exist_ok=True)
        if resume:
            record = {"event": "resume", "from_step": step, "world_size": world,
                      "config_changes": changes, "time": time.time()}
            _append_jsonl(run_dir / "log.jsonl", record)
            history = []
            if (run_dir / "resume.json").is_file():
                history = json.loads((run_dir / "resume.json").read_text())["resumes"]
            atomic_write_text(run_dir / "resume.json", json.dumps(
                {"resumes": history + [record]}, indent=2))
        else:
            atomic_write_text(run_dir / "log.jsonl", "")     # a fresh run starts a fresh log
            atomic_write_text(run_dir / "config.json", cfg.to_json())
            atomic_write_text(run_dir / "run.json", json.dumps(
                {"provenance": provenance(device), "world_size": world, "total_steps": total_steps,
                 "initialised_from": init_files, "data": data.describe(), **export_meta},
                indent=2, default=str))
    setup = LossSetup(cfg.mode, cfg.image_disc_variant, cfg.loss)
    d_params = trainable(video_disc) + trainable(image_disc)
    size, n_frames = cfg.disc.frame_size, cfg.data.n_frames
    local_batch = data.local_batch

    def sync_d_buffers() -> None:
        for d in (video_disc, image_disc):
            if d is not None:
                ddp.sync_buffers(d, exclude=QUEUE_BUFFERS)

    def optimise(name: str, loss: torch.Tensor, params: list[torch.nn.Parameter]) -> None:
        opts[name].zero_grad(set_to_none=True)
        loss.backward()
        ddp.allreduce_grads(params)
        opts[name].step()

    def push(pair) -> None:
        if pair is not None:
            image_disc.push(ddp.all_gather_rows(pair[0]), ddp.all_gather_rows(pair[1]))

    def save(step: int) -> None:
        rng_all = {name: ddp.gather_objects(gen.get_state()) for name, gen in rngs.items()}
        replicas = ddp.gather_objects(state_sha256(motion.state_dict()))
        if not main:
            return
        _append_jsonl(run_dir / "log.jsonl", {"event": "checkpoint", "step": step,
                                              "motion_sha256": replicas, "time": time.time()})
        if len(set(replicas)) > 1:
            warnings.warn(f"step {step}: the motion generator differs between ranks")
        state = {"step": step, "world_size": world, "config": cfg.to_dict(),
                 "models": {k: v.state_dict() for k, v in nets.items()},
                 "optimizers": {k: v.state_dict() for k, v in opts.items()},
                 "rng": rng_all, "data": data.state_dict(), "export_meta": export_meta}
        save_training_state(latest, state)
        if cfg.snapshot_every and step % cfg.snapshot_every == 0:
            save_training_state(run_dir / snapshot_name(step), state)
        export_motion_generator(motion, run_dir / f"{EXPORT_STEM}.pth", step=step,
                                config=cfg.to_dict(), pca=export_meta["pca"],
                                image_generator=export_meta["image_generator"],
                                n_frames=n_frames)

    batches = iter(data)
    logged: dict[str, float] = {}
    t_last, steps_since = time.perf_counter(), 0
    bar = tqdm(total=total_steps, initial=step, desc="train motion", unit="it",
               disable=not (progress and main))
    with deterministic_algorithms(cfg.deterministic):
        while step < total_steps:
            real = next(batches).to(device)
            for p in d_params:
                p.requires_grad_(False)                      # D frozen in G steps (a fix)
            for _ in range(cfg.g_steps):
                sync_d_buffers()
                fake, out = generate(image, motion, local_batch, n_frames, size, rngs["latent"])
                g = g_losses(setup, video_disc, image_disc, real, fake, out, rngs["aug"])
                optimise("motion", g.total, list(motion.parameters()))
                push(g.push)
            for p in d_params:
                p.requires_grad_(True)
            sync_d_buffers()
            with torch.no_grad():
                fake, _ = generate(image, motion, local_batch, n_frames, size, rngs["latent"])
            terms = {f"g/{k}": v.detach().item() for k, v in g.terms.items()}
            if video_disc is not None:
                dv = video_d_loss(setup, video_disc, real, fake, rngs["aug"])
                optimise("video_disc", dv.total, trainable(video_disc))
                terms.update({f"d/{k}": v.detach().item() for k, v in dv.terms.items()})
            if image_disc is not None:
                di = image_d_loss(setup, image_disc, real, fake, rngs["aug"])
                optimise("image_disc", di.total, trainable(image_disc))
                terms.update({f"d/{k}": v.detach().item() for k, v in di.terms.items()})
                if isinstance(image_disc, ContrastiveImageDiscriminator):
                    image_disc.update_ema()
                    push(di.push)
            step += 1
            steps_since += 1
            bar.update(1)
            if step % cfg.log_every == 0 or step == total_steps:
                logged = ddp.all_mean(terms, device)
                now = time.perf_counter()
                record = {"step": step, "epoch": data.epoch, **logged,
                          "step_time": (now - t_last) / steps_since, "time": time.time()}
                t_last, steps_since = now, 0
                if not all(np.isfinite(v) for v in logged.values()):
                    raise FloatingPointError(f"non-finite loss at step {step}: {logged}")
                if main:
                    _append_jsonl(run_dir / "log.jsonl", record)
                    bar.set_postfix(g=f"{logged.get('g/total', 0):.3f}")
            if step % cfg.checkpoint_every == 0 or step == total_steps:
                save(step)
            elif ddp.stop_requested(stop):
                save(step)
                bar.close()
                ddp.barrier()
                raise TrainingInterrupted(run_dir, step)
    bar.close()
    ddp.barrier()
    return {"step": step, "run_dir": str(run_dir), "checkpoint": str(latest),
            "export": str(run_dir / f"{EXPORT_STEM}.pth"), "losses": logged,
            "motion_sha256": state_sha256(motion.state_dict())}
