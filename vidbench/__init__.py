"""vidbench: MoCoGAN-HD training/sampling and video-generation metrics under named protocols.

The Python API: :func:`fvd`, :func:`inception_score`, :func:`acd` and :func:`psnr_ssim`, each
returning a :class:`Result`; ``vidbench.torchmetrics`` holds the same metrics as
``torchmetrics.Metric`` classes for training loops.
"""

__version__ = "0.2.0"

from vidbench.api import Result, acd, fvd, inception_score, psnr_ssim  # noqa: E402

__all__ = ["__version__", "Result", "fvd", "inception_score", "acd", "psnr_ssim"]
