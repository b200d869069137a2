"""The MoCoGAN-HD paper's experiments as data: which rows, metrics, protocols and seeds.

Reference: Tian et al., ICLR 2021 (arXiv 2104.15069), Tabs. 2, 3 and 5 and App. D. Rows use the
row keys of :mod:`vidbench.baselines.reported`, so :mod:`vidbench.report.tables` puts measured
and reported numbers side by side.

An :class:`ExperimentSpec` says *what* is measured; a :class:`~vidbench.experiments.scales.Scale`
(``tiny`` or ``paper``) says *how big*, and every count that differs from a protocol's is
recorded as an override. The experiments and the ``tiny`` substitutions: docs/datasets.md,
*The paper's experiments as data*.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from vidbench.utils.errors import VidbenchError

ROW_KINDS = ("train", "gt", "source")
TASKS = ("generate", "predict", "diversity")


def _frozen(d: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(d or {}))


@dataclass(frozen=True)
class Row:
    """One table row: a trained variant, the ground truth, or given clips (a baseline)."""

    key: str                               # results-store row name (vidbench.baselines.reported row_key)
    label: str                             # as the paper prints it
    kind: str = "train"                    # train | gt | source
    ablations: tuple[str, ...] = ()        # vidbench.train.motion_config.ABLATIONS switches
    overrides: Mapping[str, Any] = field(default_factory=_frozen)  # dotted motion-config keys
    image: str = "high"                    # image-generator slot (Scale.image_sizes)
    source: str | None = None              # kind "source": the clip source spec
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ROW_KINDS:
            raise VidbenchError(f"row {self.key}: kind must be one of {ROW_KINDS}")
        if (self.kind == "source") != (self.source is not None):
            raise VidbenchError(f"row {self.key}: a source row (and only it) names a source")
        object.__setattr__(self, "overrides", _frozen(self.overrides))


@dataclass(frozen=True)
class MetricSpec:
    """One metric under one named protocol (CLI metric names: fvd, is, acd, psnr-ssim,
    diversity)."""

    metric: str
    protocol: str
    rows: tuple[str, ...] | None = None    # only these rows (None: every row)


@dataclass(frozen=True)
class ExperimentSpec:
    """One of the paper's tables as data."""

    name: str                              # results-store ``experiment`` (a table family)
    title: str
    table: str                             # vidbench.report.tables name that renders it
    row_field: str                         # "variant" or "method"
    rows: tuple[Row, ...]
    metrics: tuple[MetricSpec, ...]
    mode: str = "in-domain"                # motion-training mode
    seeds: tuple[int, ...] = (0,)          # training seeds (one cell per row and seed)
    task: str = "generate"                 # generate | predict | diversity
    image_domain: str = "same"             # "same": G_I trained on the videos; "other"
    paper_dataset: str = ""

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise VidbenchError(f"{self.name}: task must be one of {TASKS}")
        keys = [r.key for r in self.rows]
        if len(set(keys)) != len(keys):
            raise VidbenchError(f"{self.name}: duplicate rows {keys}")

    def row(self, key: str) -> Row:
        for r in self.rows:
            if r.key == key:
                return r
        raise VidbenchError(f"{self.name}: unknown row {key!r}; rows: "
                            f"{', '.join(r.key for r in self.rows)}")


_OURS = Row("mocogan-hd", "Ours")
_GT = Row("gt", "GT", kind="gt", note="two disjoint seeded sets of real clips")
_FVD = MetricSpec("fvd", "mocogan-hd")
_IS = MetricSpec("is", "mocogan-hd")
_ACD = MetricSpec("acd", "mocogan-hd-all")
_DIVERSITY = MetricSpec("diversity", "last-frame-std")

ABLATION = ExperimentSpec(
    name="ablation", title="Tab. 5 — UCF-101 ablation", table="ablation", row_field="variant",
    paper_dataset="ucf101", metrics=(_IS, _FVD),
    rows=(Row("no-eqn2", "w/o Eqn. 2", ablations=("no-residual",)),
          Row("no-image-disc", "w/o D_I", ablations=("no-image-disc",)),
          Row("no-video-disc", "w/o D_V", ablations=("no-video-disc",)),
          Row("full-128", "Full-128", image="low",
              note="image generator at the low resolution (128², tiny: 16²)"),
          Row("full-256", "Full-256", image="high")))

CROSS_DOMAIN = ExperimentSpec(
    name="cross-domain", title="Tab. 5 — (FFHQ, VoxCeleb) ablation and App. D motion diversity",
    table="cross-domain", row_field="variant", paper_dataset="voxceleb", mode="cross-domain",
    image_domain="other", metrics=(_ACD, _DIVERSITY),
    rows=(Row("no-contrastive", "w/o L_contr", ablations=("no-contrastive",)),
          Row("no-mutual-info", "w/o L_mi", ablations=("no-mi",)),
          Row("full", "Full")))

DIVERSITY = ExperimentSpec(
    name="diversity", title="App. D — motion diversity (Full vs w/o L_mi, noise off)",
    table="cross-domain", row_field="variant", paper_dataset="ucf101", task="diversity",
    metrics=(_DIVERSITY,),
    rows=(Row("no-mutual-info", "w/o L_mi", ablations=("no-mi",)), Row("full", "Full")))

PREDICTION = ExperimentSpec(
    name="prediction", title="Tab. 3 — Sky Time-lapse video prediction (PSNR, SSIM, Up-B)",
    table="sky", row_field="method", paper_dataset="sky", task="predict",
    metrics=(MetricSpec("psnr-ssim", "wang"),), rows=(_OURS,))

# Tab. 2 / Tab. 3 benchmark rows per data set; other data sets use the UCF-101 layout.
BENCHMARKS: dict[str, ExperimentSpec] = {
    "ucf101": ExperimentSpec(
        name="benchmark", title="Tab. 2 — UCF-101", table="ucf101", row_field="method",
        paper_dataset="ucf101", metrics=(_IS, _FVD), rows=(_OURS,)),
    "faceforensics": ExperimentSpec(
        name="benchmark", title="Tab. 2 — FaceForensics", table="faceforensics",
        row_field="method", paper_dataset="faceforensics",
        metrics=(_FVD, _ACD), rows=(_GT, _OURS)),
    "sky": ExperimentSpec(
        name="benchmark", title="Tab. 3 — Sky Time-lapse (FVD)", table="sky",
        row_field="method", paper_dataset="sky", metrics=(_FVD,), rows=(_OURS,)),
}
EXPERIMENT_NAMES = ("ablation", "benchmark", "prediction", "cross-domain", "diversity")


def experiment_spec(name: str, dataset: str, *, rows: tuple[str, ...] | None = None,
                    seeds: tuple[int, ...] | None = None,
                    methods: Mapping[str, str] | None = None) -> ExperimentSpec:
    """The spec of experiment ``name`` on data set ``dataset`` (a name such as ``shapes``),
    narrowed to ``rows``, with training ``seeds`` and, for ``benchmark``, extra ``methods``
    (row key -> clip source spec, e.g. a baseline's samples)."""
    specs = {"ablation": ABLATION, "prediction": PREDICTION, "cross-domain": CROSS_DOMAIN,
             "diversity": DIVERSITY}
    if name == "benchmark":
        spec = BENCHMARKS.get(dataset, dataclasses.replace(BENCHMARKS["ucf101"],
                                                           title="Tab. 2 layout (IS, FVD)"))
    elif name in specs:
        spec = specs[name]
    else:
        raise VidbenchError(f"unknown experiment {name!r}; valid: {', '.join(EXPERIMENT_NAMES)}")
    if methods:
        if name != "benchmark":
            raise VidbenchError("extra methods (given clip sources) belong to `run benchmark`")
        extra = tuple(Row(k, k, kind="source", source=v) for k, v in methods.items())
        spec = dataclasses.replace(spec, rows=spec.rows + extra)
    if rows:
        spec = dataclasses.replace(spec, rows=tuple(spec.row(k) for k in rows))
    if seeds:
        spec = dataclasses.replace(spec, seeds=tuple(int(s) for s in seeds))
    return spec
