"""Scoring clips under named protocols: one function per metric, and every metric at once.

Each entry point returns one self-describing result record (value, protocol, counts, seeds,
source fingerprints, weight hashes, provenance). All of them draw clips through
:mod:`~vidbench.evaluation.draws` and get features from the shared passes of
:mod:`~vidbench.evaluation.passes`.
"""
from vidbench.evaluation.fvd import evaluate_fvd
from vidbench.evaluation.is_acd import evaluate_acd, evaluate_is
from vidbench.evaluation.psnr_ssim import evaluate_psnr_ssim
from vidbench.evaluation.suite import evaluate_all

__all__ = ["evaluate_fvd", "evaluate_is", "evaluate_acd", "evaluate_psnr_ssim", "evaluate_all"]
