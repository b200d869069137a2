"""Every number in the MoCoGAN-HD paper's tables, as printed, with its provenance.

Source: Tian et al., "A Good Image Generator Is What You Need for High-Resolution Video
Synthesis", ICLR 2021, arXiv 2104.15069 (docs/datasets.md, *The paper's reported numbers*).
Side-by-side sub-tables share one number, as in the paper's text (UCF-101 and FaceForensics are
both "Tab. 2"; both ablations are "Tab. 5"). ``printed`` is the cell exactly as printed
(``± .47`` keeps its missing zero); ``value`` and ``pm`` are its numbers. ``origin`` says who
measured it (docs/datasets.md): the paper's authors (:data:`MEASURED`), an earlier paper quoted
(:data:`QUOTED`, [inferred]), or not stated (:data:`UNSTATED`). Column labels whose symbols were
lost in the paper's text are marked ``[inferred]`` in ``note``. These are constants for display,
always shown marked as reported; vidbench never mixes them with its own measurements.
"""
from __future__ import annotations

from dataclasses import dataclass

PAPER = "MoCoGAN-HD (Tian et al., ICLR 2021, arXiv 2104.15069)"
MEASURED = "measured-by-authors"
QUOTED = "quoted-from-earlier-paper"
UNSTATED = "source-not-stated"
ORIGINS = (MEASURED, QUOTED, UNSTATED)


@dataclass(frozen=True)
class ReportedNumber:
    """One printed table cell of the paper."""

    table_id: str          # e.g. "tab2-ucf101"
    table: str             # as the paper refers to it, e.g. "Tab. 2 (UCF-101)"
    row: str               # row label as printed (or described)
    row_key: str           # the method/variant name vidbench uses for the same row
    column: str            # column label, e.g. "IS", "FVD"
    metric: str            # vidbench metric name: isv, fvd, acd, psnr, ssim, fid, amt
    value: float
    pm: float | None       # the ± as printed, None when none is printed
    printed: str           # the cell exactly as printed
    origin: str            # MEASURED, QUOTED or UNSTATED
    higher_is_better: bool
    note: str = ""
    paper: str = PAPER


def _n(table_id: str, table: str, row: str, row_key: str, column: str, metric: str,
       printed: str, origin: str, higher: bool, note: str = "") -> ReportedNumber:
    """An entry whose value and ± are parsed from the printed cell (so they cannot drift)."""
    head, _, tail = printed.partition("±")
    return ReportedNumber(table_id, table, row, row_key, column, metric, float(head),
                          float(tail) if tail.strip() else None, printed, origin, higher, note)


_T2U, _T2UL = "tab2-ucf101", "Tab. 2 (UCF-101)"
_T2F, _T2FL = "tab2-faceforensics", "Tab. 2 (FaceForensics)"
_T3, _T3L = "tab3-sky", "Tab. 3 (Sky Time-lapse)"
_T5A, _T5AL = "tab5-ablation-ucf101", "Tab. 5 (UCF-101 ablation; all frames resized to 128² for evaluation)"
_T5C, _T5CL = "tab5-cross-domain", "Tab. 5 ((FFHQ, VoxCeleb) ablation)"
_T7, _T7L = "tab7-fid", "Tab. 7 (FID of the StyleGAN2 image generators)"
_AMT = "human preference (AMT), percent of votes"
_TGANV2_UCF = ("differs from the tgan2 README's 25.07 ± 0.47; may be the TGANv2 IJCV value or "
               "the authors' retrained model (App. B) [unverified]")

REPORTED: tuple[ReportedNumber, ...] = (
    # Tab. 2, UCF-101: IS (up), FVD (down)
    _n(_T2U, _T2UL, "VGAN", "vgan", "IS", "isv", "8.31 ± .09", QUOTED, True),
    _n(_T2U, _T2UL, "TGAN", "tgan", "IS", "isv", "11.85 ± .07", QUOTED, True,
       "matches the tgan2 README"),
    _n(_T2U, _T2UL, "MoCoGAN", "mocogan", "IS", "isv", "12.42 ± .07", QUOTED, True),
    _n(_T2U, _T2UL, "ProgressiveVGAN", "progressive-vgan", "IS", "isv", "14.56 ± .05", QUOTED, True),
    _n(_T2U, _T2UL, "LDVD-GAN", "ldvd-gan", "IS", "isv", "22.91 ± .19", QUOTED, True),
    _n(_T2U, _T2UL, "TGANv2", "tganv2", "IS", "isv", "26.60 ± .47", UNSTATED, True, _TGANV2_UCF),
    _n(_T2U, _T2UL, "TGANv2", "tganv2", "FVD", "fvd", "1209 ± 28", UNSTATED, False,
       "the source of this FVD is not stated"),
    _n(_T2U, _T2UL, "DVD-GAN", "dvd-gan", "IS", "isv", "27.38 ± .53", QUOTED, True),
    _n(_T2U, _T2UL, "Ours", "mocogan-hd", "IS", "isv", "33.95 ± .25", MEASURED, True,
       "generated at 256"),
    _n(_T2U, _T2UL, "Ours", "mocogan-hd", "FVD", "fvd", "700 ± 24", MEASURED, False,
       "generated at 256"),
    # Tab. 2, FaceForensics: FVD (down), ACD (down)
    _n(_T2F, _T2FL, "GT", "gt", "FVD", "fvd", "9.02", MEASURED, False,
       "two randomly sampled groups of real videos"),
    _n(_T2F, _T2FL, "GT", "gt", "ACD", "acd", "0.2935", MEASURED, False),
    _n(_T2F, _T2FL, "TGANv2", "tganv2", "FVD", "fvd", "58.03", MEASURED, False,
       "TGANv2 retrained by the authors with its released code (App. B) [inferred]"),
    _n(_T2F, _T2FL, "TGANv2", "tganv2", "ACD", "acd", "0.4914", MEASURED, False),
    _n(_T2F, _T2FL, "Ours", "mocogan-hd", "FVD", "fvd", "53.26", MEASURED, False),
    _n(_T2F, _T2FL, "Ours", "mocogan-hd", "ACD", "acd", "0.3300", MEASURED, False),
    _n("tab2-faceforensics-amt", "Tab. 2 (FaceForensics, AMT)", "Ours", "mocogan-hd",
       "preferred over TGANv2 (%)", "amt", "73.6", MEASURED, True, _AMT),
    _n("tab2-faceforensics-amt", "Tab. 2 (FaceForensics, AMT)", "TGANv2", "tganv2",
       "preferred over Ours (%)", "amt", "26.4", MEASURED, True, _AMT),
    # Tab. 3, Sky Time-lapse: FVD (down); video prediction PSNR, SSIM (up)
    _n(_T3, _T3L, "Up-B", "up-b", "PSNR", "psnr", "25.367", MEASURED, True,
       "upper bound: inversion of the first frame"),
    _n(_T3, _T3L, "Up-B", "up-b", "SSIM", "ssim", "0.781", MEASURED, True,
       "upper bound: inversion of the first frame"),
    _n(_T3, _T3L, "MDGAN", "mdgan", "FVD", "fvd", "840.95", MEASURED, False,
       "run from the ground-truth first frame (§4.1)"),
    _n(_T3, _T3L, "MDGAN", "mdgan", "PSNR", "psnr", "13.840", MEASURED, True),
    _n(_T3, _T3L, "MDGAN", "mdgan", "SSIM", "ssim", "0.581", MEASURED, True),
    _n(_T3, _T3L, "DTVNet", "dtvnet", "FVD", "fvd", "451.14", MEASURED, False,
       "run from the ground-truth first frame (§4.1)"),
    _n(_T3, _T3L, "DTVNet", "dtvnet", "PSNR", "psnr", "21.953", MEASURED, True),
    _n(_T3, _T3L, "DTVNet", "dtvnet", "SSIM", "ssim", "0.531", MEASURED, True),
    _n(_T3, _T3L, "Ours", "mocogan-hd", "FVD", "fvd", "77.77", MEASURED, False),
    _n(_T3, _T3L, "Ours", "mocogan-hd", "PSNR", "psnr", "22.286", MEASURED, True),
    _n(_T3, _T3L, "Ours", "mocogan-hd", "SSIM", "ssim", "0.688", MEASURED, True),
    # Tab. 5, UCF-101 ablation: IS (up), FVD (down)
    _n(_T5A, _T5AL, "w/o Eqn. 2", "no-eqn2", "IS", "isv", "28.20", MEASURED, True,
       "h_t used instead of the PCA residual"),
    _n(_T5A, _T5AL, "w/o Eqn. 2", "no-eqn2", "FVD", "fvd", "790.87", MEASURED, False),
    _n(_T5A, _T5AL, "w/o D_I", "no-image-disc", "IS", "isv", "33.22", MEASURED, True,
       "no image discriminator [inferred label]"),
    _n(_T5A, _T5AL, "w/o D_I", "no-image-disc", "FVD", "fvd", "796.67", MEASURED, False,
       "no image discriminator [inferred label]"),
    _n(_T5A, _T5AL, "w/o D_V", "no-video-disc", "IS", "isv", "33.84", MEASURED, True,
       "no video discriminator [inferred label]"),
    _n(_T5A, _T5AL, "w/o D_V", "no-video-disc", "FVD", "fvd", "867.43", MEASURED, False,
       "no video discriminator [inferred label]"),
    _n(_T5A, _T5AL, "Full-128", "full-128", "IS", "isv", "32.36", MEASURED, True),
    _n(_T5A, _T5AL, "Full-128", "full-128", "FVD", "fvd", "838.09", MEASURED, False),
    _n(_T5A, _T5AL, "Full-256", "full-256", "IS", "isv", "33.95", MEASURED, True),
    _n(_T5A, _T5AL, "Full-256", "full-256", "FVD", "fvd", "700.00", MEASURED, False),
    # Tab. 5, (FFHQ, VoxCeleb) ablation: ACD (down); labels from the prose order [inferred]
    _n(_T5C, _T5CL, "w/o L_contr", "no-contrastive", "ACD", "acd", "0.5328", MEASURED, False,
       "[inferred label]"),
    _n(_T5C, _T5CL, "w/o L_mi", "no-mutual-info", "ACD", "acd", "0.5158", MEASURED, False,
       "[inferred label]"),
    _n(_T5C, _T5CL, "Full", "full", "ACD", "acd", "0.4353", MEASURED, False),
    _n("tab5-cross-domain-amt", "Tab. 5 ((FFHQ, VoxCeleb), AMT)", "Full vs w/o L_contr",
       "full", "realism, Full preferred (%)", "amt", "68.3", MEASURED, True,
       _AMT + "; labels from App. B order [inferred]"),
    _n("tab5-cross-domain-amt", "Tab. 5 ((FFHQ, VoxCeleb), AMT)", "Full vs w/o L_contr",
       "no-contrastive", "realism, w/o L_contr preferred (%)", "amt", "31.7", MEASURED, True,
       _AMT + "; labels from App. B order [inferred]"),
    _n("tab5-cross-domain-amt", "Tab. 5 ((FFHQ, VoxCeleb), AMT)", "Full vs w/o L_mi", "full",
       "motion diversity, Full preferred (%)", "amt", "64.4", MEASURED, True,
       _AMT + "; labels from App. B order [inferred]"),
    _n("tab5-cross-domain-amt", "Tab. 5 ((FFHQ, VoxCeleb), AMT)", "Full vs w/o L_mi",
       "no-mutual-info", "motion diversity, w/o L_mi preferred (%)", "amt", "35.6", MEASURED,
       True, _AMT + "; labels from App. B order [inferred]"),
    # Tab. 7: FID of the image generators
    _n(_T7, _T7L, "UCF-101", "ucf101", "FID", "fid", "45.63", MEASURED, False,
       "the checkpoint file name says 41.6761"),
    _n(_T7, _T7L, "FaceForensics", "faceforensics", "FID", "fid", "10.99", MEASURED, False),
    _n(_T7, _T7L, "Sky Time-lapse", "sky", "FID", "fid", "10.80", MEASURED, False),
    _n(_T7, _T7L, "AFHQ-Dog", "afhq-dog", "FID", "fid", "7.85", MEASURED, False),
    # Tab. 8: Sky Time-lapse prediction, human preference
    _n("tab8-sky-amt", "Tab. 8 (Sky Time-lapse prediction, AMT)", "Ours", "mocogan-hd",
       "preferred over DTVNet (%)", "amt", "77.3", MEASURED, True, _AMT),
    _n("tab8-sky-amt", "Tab. 8 (Sky Time-lapse prediction, AMT)", "DTVNet", "dtvnet",
       "preferred over Ours (%)", "amt", "22.7", MEASURED, True, _AMT),
)


def reported(table_id: str | None = None, metric: str | None = None,
             row_key: str | None = None) -> list[ReportedNumber]:
    """The reported numbers matching every given filter, in the paper's order."""
    return [r for r in REPORTED
            if (table_id is None or r.table_id == table_id)
            and (metric is None or r.metric == metric)
            and (row_key is None or r.row_key == row_key)]


def table_ids() -> list[str]:
    return list(dict.fromkeys(r.table_id for r in REPORTED))
