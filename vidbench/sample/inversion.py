"""GAN inversion: find the latent code whose rendering reproduces a given frame.

Reference: MoCoGAN-HD (Tian et al., ICLR 2021) §4.1 and Eqn. 8 invert the first frame x_1 of
a Sky Time-lapse test clip into w_1 by minimising a reconstruction term plus λ_vgg times a VGG
perceptual term; the paper does not state λ_vgg, the iterations, the optimiser, the VGG layers
or whether w is one vector or one per layer, and no code was released (docs/official-code.md,
*Video prediction and inversion*).
vidbench starts from Abdal et al., "Image2StyleGAN" (ICCV 2019): Adam (lr 0.01, betas 0.9 /
0.999, eps 1e-8) for 5000 iterations from the mean w, loss = MSE(pixels) + perceptual, with
VGG16 conv1_1, conv1_2, conv3_2, conv4_2 (:mod:`vidbench.models.vgg`). Unlike Image2StyleGAN (which
optimises W+), the default space is W, one 512-d w: the motion generator starts from a single
w_1. Every setting is recorded in :attr:`InversionResult.settings`.

Per frame i the loss is ``lambda_mse · mean((G(w_i) − x_i)²) + lambda_vgg · P(G(w_i), x_i)``
with images in [-1, 1] and P the perceptual distance of :meth:`VGG16Features.distance`. The
batch loss is the *sum* over frames, so each frame's code gets the gradient of its own loss
and, Adam acting element-wise, the result does not depend on how frames are batched.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from vidbench.models.generator_api import StyleGAN2Adapter, adapt
from vidbench.models.vgg import IMAGE2STYLEGAN_LAYERS, VGG16Features, load_vgg16
from vidbench.utils.errors import MissingWeightsError, VidbenchError

SPACES = ("w", "w+")
PERCEPTUAL = ("vgg16", "none")
NOISE = ("none", "fixed")
_MEAN_CHUNK = 4096


@dataclass(frozen=True)
class InversionSettings:
    """Everything that decides an inversion (defaults: Image2StyleGAN's recipe in W)."""

    space: str = "w"                       # "w": one code [D]; "w+": one per synthesis slot
    steps: int = 5000                      # Adam iterations
    lr: float = 0.01                       # Adam learning rate (constant)
    betas: tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-8
    perceptual: str = "vgg16"              # "vgg16" or "none" (pixel loss only)
    lambda_vgg: float = 1.0                # weight of the perceptual term (Eqn. 8's λ_vgg)
    lambda_mse: float = 1.0                # weight of the pixel MSE
    vgg_layers: tuple[str, ...] = IMAGE2STYLEGAN_LAYERS
    mean_samples: int = 10_000             # z draws averaged (through the mapping) for the start
    mean_seed: int = 0                     # seed of those z draws
    noise: str = "none"                    # "none" | "fixed": one set of maps per frame
    batch_size: int = 16                   # frames optimised together (does not change results)

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        object.__setattr__(self, "vgg_layers", tuple(self.vgg_layers))
        checks = [(self.space in SPACES, f"space must be one of {SPACES}"),
                  (self.perceptual in PERCEPTUAL, f"perceptual must be one of {PERCEPTUAL}"),
                  (self.noise in NOISE, f"noise must be one of {NOISE}"),
                  (self.steps >= 0, "steps must be >= 0"), (self.lr > 0, "lr must be > 0"),
                  (self.lambda_vgg >= 0 and self.lambda_mse >= 0, "loss weights must be >= 0"),
                  (self.mean_samples >= 1, "mean_samples must be >= 1"),
                  (self.batch_size >= 1, "batch_size must be >= 1")]
        for ok, message in checks:
            if not ok:
                raise VidbenchError(f"inversion settings: {message} (got {self})")

    def describe(self) -> dict[str, Any]:
        """The settings as JSON data, with the conventions that are not numbers spelled out."""
        uses_vgg = self.perceptual == "vgg16" and self.lambda_vgg > 0
        return {
            **dataclasses.asdict(self),
            "optimizer": "Adam", "init": f"mean of mapping(z) over {self.mean_samples} z ~ N(0, I) "
                                         f"(seed {self.mean_seed})",
            "pixel_loss": "mean squared error over pixels and channels, images in [-1, 1]",
            "perceptual_loss": ("VGG16 (torchvision ImageNet weights): sum over layers of the mean "
                                "squared feature difference; input [-1,1] -> [0,1] -> ImageNet "
                                "mean/std, no resize" if uses_vgg else
                                "none: pixel loss only"),
            "batch_loss": "sum over frames (per-frame results do not depend on batching)",
            "result": "final iterate",
            "reference": "Image2StyleGAN (Abdal et al., ICCV 2019) recipe; MoCoGAN-HD's own "
                         "settings are unstated (paper Eqn. 8)",
        }


@dataclass
class InversionResult:
    """What :func:`invert` returns; all tensors on the CPU.

    ``losses``/``pixel_losses``/``perceptual_losses`` are [steps + 1, N]: row s is the loss of
    each frame at the codes before update s, the last row at the final codes.
    """

    latents: torch.Tensor                 # [N, D] (w) or [N, n_latent, D] (w+)
    reconstructions: torch.Tensor         # float [N, 3, S, S], rendered from ``latents``
    losses: np.ndarray
    pixel_losses: np.ndarray
    perceptual_losses: np.ndarray
    settings: dict[str, Any]
    noise: list[torch.Tensor] | None = field(default=None)   # "fixed": [N, 1, h, w] per layer


def frames_to_float(frames: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 [N, H, W, 3] → float [N, 3, H, W] in [-1, 1] (x / 127.5 − 1); float input must
    already be [N, 3, H, W] in [-1, 1] and is returned as float32."""
    if isinstance(frames, np.ndarray):
        frames = torch.from_numpy(np.ascontiguousarray(frames))
    if frames.dtype == torch.uint8:
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise VidbenchError(f"uint8 frames must be [N, H, W, 3], got {list(frames.shape)}")
        return frames.permute(0, 3, 1, 2).to(torch.float32) / 127.5 - 1.0
    if not frames.is_floating_point() or frames.ndim != 4 or frames.shape[1] != 3:
        raise VidbenchError(f"frames must be uint8 [N, H, W, 3] or float [N, 3, H, W], got "
                            f"{frames.dtype} {list(frames.shape)}")
    if frames.numel() and (frames.min() < -1.0 - 1e-6 or frames.max() > 1.0 + 1e-6):
        raise VidbenchError("float frames must lie in [-1, 1]")
    return frames.to(torch.float32)


@torch.no_grad()
def mean_latent(gen, samples: int, seed: int) -> torch.Tensor:
    """Mean of ``gen.sample_latents`` over ``samples`` draws from a CPU generator seeded
    ``seed`` (drawn in chunks; the chunking does not change the draws), float64 sum."""
    rng = torch.Generator().manual_seed(seed)
    total = None
    done = 0
    while done < samples:
        n = min(_MEAN_CHUNK, samples - done)
        part = gen.sample_latents(n, rng).to(torch.float64).sum(0)
        total = part if total is None else total + part
        done += n
    return (total / samples).to(torch.float32)


def load_perceptual(s: InversionSettings,
                    vgg: VGG16Features | None = None) -> VGG16Features | None:
    """The perceptual network ``s`` needs: None for ``perceptual="none"`` (or λ_vgg = 0),
    ``vgg`` when given (it must have the layers), else the published VGG16 from
    ``$VIDBENCH_HOME/weights`` (a missing file raises :class:`MissingWeightsError` that also
    names the ``perceptual=none`` alternative). Load it once for many :func:`invert` calls."""
    if s.perceptual == "none" or s.lambda_vgg == 0:
        return None
    if vgg is not None:
        missing = [n for n in s.vgg_layers if n not in vgg.layers]
        if missing:
            raise VidbenchError(f"the VGG given lacks layers {missing}")
        return vgg
    try:
        return load_vgg16(s.vgg_layers)
    except MissingWeightsError as exc:
        raise MissingWeightsError(f"{exc}. The inversion's perceptual term (perceptual=vgg16) "
                                  f"needs it; perceptual=none (`--perceptual none`) inverts "
                                  f"with the pixel loss only") from None


def _render(gen, latents: torch.Tensor, noise: list[torch.Tensor] | None) -> torch.Tensor:
    spec = noise if noise is not None else "none"
    if latents.ndim == 3:
        return gen.g.synthesis(latents, noise=spec)
    return gen.render(latents, noise=spec)


def _frame_losses(image: torch.Tensor, target: torch.Tensor, vgg: VGG16Features | None,
                  target_features) -> tuple[torch.Tensor, torch.Tensor]:
    pixel = (image - target).pow(2).flatten(1).mean(1)
    if vgg is None:
        return pixel, torch.zeros_like(pixel)
    return pixel, vgg.distance(image, target_features)


def invert(generator, frames: np.ndarray | torch.Tensor, *,
           settings: InversionSettings | None = None, vgg: VGG16Features | None = None,
           generator_rng: torch.Generator | None = None,
           noise_maps: list[torch.Tensor] | None = None, progress: bool = True,
           **fields: Any) -> InversionResult:
    """Invert ``frames`` (uint8 [N, H, W, 3] or float [N, 3, H, W] in [-1, 1], H = W = the
    generator's resolution) into latent codes of ``generator`` (a StyleGAN2 generator or any
    :class:`vidbench.models.generator_api.ImageGenerator`).

    ``settings`` (default :class:`InversionSettings`) may be overridden field by field, e.g.
    ``invert(g, x, steps=300, lr=0.1, perceptual="none")``; an unknown field is an error.
    ``vgg`` supplies the perceptual network (default: the published VGG16 from
    ``$VIDBENCH_HOME/weights``). With ``noise="fixed"`` every frame keeps one set of noise
    maps throughout: ``noise_maps`` (one [N, 1, h, w] tensor per noise layer) or drawn from
    ``generator_rng``; they are returned in :attr:`InversionResult.noise`.
    """
    try:
        s = dataclasses.replace(settings or InversionSettings(), **fields)
    except TypeError as exc:
        valid = ", ".join(f.name for f in dataclasses.fields(InversionSettings))
        raise VidbenchError(f"invert: {exc}; valid settings: {valid}") from None
    gen = adapt(generator)
    if s.space == "w+" and not isinstance(gen, StyleGAN2Adapter):
        raise VidbenchError("space='w+' needs a StyleGAN2 generator")
    target_all = frames_to_float(frames)
    n, size = target_all.shape[0], gen.resolution
    if target_all.shape[2:] != (size, size):
        raise VidbenchError(f"frames are {tuple(target_all.shape[2:])}, the generator renders "
                            f"{size}x{size}: resize them first")
    device = next(gen.parameters()).device
    net = load_perceptual(s, vgg)
    if net is not None:
        net = net.to(device)
    w_mean = mean_latent(gen, s.mean_samples, s.mean_seed).to(device)
    noise_all = None
    if s.noise == "fixed" and noise_maps is not None:
        noise_all = [m.cpu() for m in noise_maps]
        if any(m.shape[0] != n for m in noise_all):
            raise VidbenchError(f"noise_maps must hold {n} maps per layer (one per frame)")
    elif s.noise == "fixed":
        if generator_rng is None:
            raise VidbenchError("noise='fixed' draws noise maps: pass noise_maps or a seeded "
                                "generator_rng")
        noise_all = [m.cpu() for m in gen.sample_noise(n, generator_rng)]

    latents, recons = [], []
    losses = np.zeros((3, s.steps + 1, n))
    batches = range(0, n, s.batch_size)
    bar = tqdm(total=len(batches) * s.steps, desc="invert", unit="step", disable=not progress,
               leave=False)
    for start in batches:
        stop = min(start + s.batch_size, n)
        target = target_all[start:stop].to(device)
        noise = None if noise_all is None else [m[start:stop].to(device) for m in noise_all]
        init = w_mean.expand(stop - start, -1)
        if s.space == "w+":
            init = init[:, None].expand(-1, gen.g.n_latent, -1)
        code = init.clone().requires_grad_(True)
        opt = torch.optim.Adam([code], lr=s.lr, betas=s.betas, eps=s.adam_eps)
        with torch.no_grad():
            target_features = net(target) if net is not None else None
        for step in range(s.steps + 1):
            with torch.set_grad_enabled(step < s.steps):
                image = _render(gen, code, noise)
                pixel, perc = _frame_losses(image, target, net, target_features)
                total = s.lambda_mse * pixel + s.lambda_vgg * perc
            for k, v in enumerate((total, pixel, perc)):
                losses[k, step, start:stop] = v.detach().cpu().numpy()
            if step == s.steps:
                recons.append(image.detach().cpu())
                break
            (grad,) = torch.autograd.grad(total.sum(), code)
            code.grad = grad
            opt.step()
            bar.update(1)
            if step % 50 == 0:
                bar.set_postfix(loss=f"{float(total.detach().mean()):.4g}")
        latents.append(code.detach().cpu())
    bar.close()
    return InversionResult(latents=torch.cat(latents), reconstructions=torch.cat(recons),
                           losses=losses[0], pixel_losses=losses[1],
                           perceptual_losses=losses[2], noise=noise_all,
                           settings={**s.describe(),
                                     "vgg_weights": getattr(net, "weights_file", None)})


__all__ = ["InversionSettings", "InversionResult", "invert", "load_perceptual", "mean_latent",
           "frames_to_float", "SPACES", "PERCEPTUAL", "NOISE"]
