"""Experiment cells and their content keys (keys are content addresses, never paths or names).

A *cell* is one row of one experiment at one training seed: what a cluster job runs. It knows
its prerequisites (an image generator, its PCA basis, a motion-training config) and the result
lines it will write. Every artefact and every result line is keyed by the SHA-256 of canonical
JSON over what decides it, never by a path or a name:

* image generator: the image-training config (minus the data root) + the image data's
  fingerprint, or the sha256 of a given generator file;
* PCA basis: the image key + sample count + seed;
* motion run: the resolved motion config (minus paths, device, logging) + image and PCA keys +
  the video data's fingerprint;
* result line: experiment, data set, row, seeds, the model's key (or the given clips'
  fingerprint), metric, protocol, counts and the real data's fingerprint.

So a re-run finds finished work by key (artefacts under ``WORK/<kind>/<key[:16]>``, result
lines by their ``cell_key``), and a change of any setting makes new keys instead of reusing
stale work.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from vidbench.train.motion_config import MotionTrainConfig, resolve_config
from vidbench.data.base import fingerprint_of
from vidbench.utils.errors import VidbenchError
from vidbench.experiments.scales import Scale
from vidbench.experiments.specs import ExperimentSpec, MetricSpec, Row

KEY_FORMAT = "vidbench-experiment-keys/1"
KEY_CHARS = 16                      # characters of a key in folder names
# Motion-config keys that do not change what is trained.
MODEL_METRICS = ("diversity", "psnr-ssim")     # need a trained model, not just clips
UNKEYED_MOTION = ("generator", "pca", "device", "log_every", "checkpoint_every",
                  "snapshot_every", "data.root", "data.num_workers")


@dataclass(frozen=True)
class ImagePlan:
    slot: str
    key: str
    dir: Path
    config: Any = None              # ImageTrainConfig to train, or None for a given file
    file: str | None = None         # a given generator file

    def describe(self) -> dict[str, Any]:
        return {"slot": self.slot, "key": self.key, "dir": str(self.dir), "file": self.file,
                "config": None if self.config is None else asdict(self.config)}


@dataclass(frozen=True)
class PCAPlan:
    key: str
    dir: Path
    num_samples: int
    seed: int = 0


@dataclass(frozen=True)
class ResultPlan:
    """One result line a cell writes."""

    row: str                        # the table row it fills (Up-B rows come from the model's)
    metric: str                     # fvd, is, acd, diversity; psnr or ssim (prediction)
    protocol: str
    counts: Mapping[str, Any]
    key: str
    cell: str                       # readable id
    part: str = ""                  # prediction: "prediction" or "up_b"


@dataclass(frozen=True)
class Cell:
    experiment: str
    dataset: str                    # data set name written to the results
    row: Row
    row_field: str
    seed: int                       # training seed
    data_spec: str                  # training videos and real clips
    data_fingerprint: str
    image: ImagePlan | None
    pca: PCAPlan | None
    motion: MotionTrainConfig | None
    model_key: str                  # motion key, given clips' fingerprint, or "gt"
    motion_dir: Path | None
    results: tuple[ResultPlan, ...]
    id: str
    key: str


def key_of(kind: str, payload: Mapping[str, Any]) -> str:
    return fingerprint_of({"format": KEY_FORMAT, "kind": kind, **payload})


def motion_key_config(cfg: MotionTrainConfig) -> dict[str, Any]:
    """The config as keyed: :data:`UNKEYED_MOTION` removed."""
    data = cfg.to_dict()
    for dotted in UNKEYED_MOTION:
        node, parts = data, dotted.split(".")
        for part in parts[:-1]:
            node = node[part]
        node.pop(parts[-1], None)
    return data


def dataset_name(dataset: str) -> str:
    from vidbench.data.sources import parse_spec

    return parse_spec(dataset)[0] if not dataset.startswith("baselines:") else dataset


def source_fingerprint(spec: str, root: str | None) -> str:
    from vidbench.evaluation.sources import open_any_source

    return open_any_source(spec, root=root).fingerprint



def metric_counts(metric: MetricSpec, scale: Scale) -> dict[str, Any]:
    """The sample counts a metric runs with at ``scale`` (None: the protocol's)."""
    counts = {"fvd": {"num_fake": scale.num_fake, "num_real": scale.num_real},
              "is": {"num_samples": scale.is_samples, "num_runs": scale.is_runs},
              "acd": {"num_videos": scale.acd_videos},
              "psnr-ssim": {"num_videos": scale.predict.get("limit"),
                            "num_frames": scale.predict.get("num_frames")},
              "diversity": {"num_videos": scale.diversity_videos}}
    if metric.metric not in counts:
        raise VidbenchError(f"unknown metric {metric.metric!r} in an experiment spec")
    return {k: v for k, v in counts[metric.metric].items() if v is not None}


def _image_plan(slot: str, scale: Scale, image_spec: str, image_fp: str, root: str | None,
                work: Path, given: Mapping[str, str]) -> ImagePlan:
    from vidbench.utils.hashing import sha256_file
    from vidbench.train.image_config import preset

    if slot in given:
        key = key_of("image-file", {"sha256": sha256_file(given[slot])})
        return ImagePlan(slot, key, Path(given[slot]).parent, file=str(given[slot]))
    config = preset(scale.image_preset, **{"size": scale.image_sizes[slot],
                                           "dataset": image_spec, "root": root,
                                           **dict(scale.image)})
    keyed = {k: v for k, v in asdict(config).items() if k != "root"}
    key = key_of("image", {"config": keyed, "data": image_fp})
    return ImagePlan(slot, key, work / "image" / key[:KEY_CHARS], config=config)


def _motion_config(spec: ExperimentSpec, row: Row, scale: Scale, data_spec: str,
                   root: str | None, seed: int) -> MotionTrainConfig:
    overrides = {"data.dataset": data_spec, "data.root": root, "seed": seed, "mode": spec.mode,
                 **dict(scale.slot_motion.get(row.image, {})), **dict(row.overrides),
                 **dict(scale.motion)}
    return resolve_config(scale.motion_preset, ablations=row.ablations, overrides=overrides)


def plan_cells(spec: ExperimentSpec, dataset: str, scale: Scale, *, work: str | Path,
               root: str | None = None, generators: Mapping[str, str] | None = None,
               missing: list[dict[str, str]] | None = None) -> list[Cell]:
    """Every cell of ``spec`` on ``dataset`` at ``scale``, in row-then-seed order.

    Data that cannot be opened is an error, unless ``missing`` is a list: then each such
    source is appended to it (``spec``, ``root``, ``reason``) and stands in the keys as
    ``"missing"`` (a plan to print, e.g. ``--dry-run`` before the data is on disk; the real
    keys come once the data is there)."""
    work, given = Path(work), dict(generators or {})

    def fingerprint(source: str, root: str | None) -> str:
        try:
            return source_fingerprint(source, root)
        except VidbenchError as exc:
            if missing is None:
                raise
            if not any(m["spec"] == source for m in missing):
                missing.append({"spec": source, "root": root, "reason": str(exc)})
            return "missing"

    name = dataset_name(dataset)
    data_spec = scale.data_spec(dataset)
    trains = [r for r in spec.rows if r.kind == "train"]
    image_spec = data_spec
    if trains and spec.image_domain == "other":
        missing = [r.image for r in trains if r.image not in given]
        if missing and name not in scale.other_domain:
            raise VidbenchError(f"{spec.name} on {name}: the image generator comes from "
                                f"another domain; give --generator {missing[0]}=FILE (e.g. an "
                                f"FFHQ StyleGAN2) or use a data set with an other-domain entry "
                                f"at this preset ({', '.join(scale.other_domain)})")
        image_spec = scale.other_domain.get(name, data_spec)
    data_fp = fingerprint(data_spec, root)
    images: dict[str, ImagePlan] = {}
    pcas: dict[str, PCAPlan] = {}
    if trains:
        image_fp = fingerprint(image_spec, root) if any(
            r.image not in given for r in trains) else ""
        for slot in dict.fromkeys(r.image for r in trains):
            plan = _image_plan(slot, scale, image_spec, image_fp, root, work, given)
            images[slot] = plan
            pkey = key_of("pca", {"image": plan.key, "num_samples": scale.pca_samples, "seed": 0})
            pcas[slot] = PCAPlan(pkey, work / "pca" / pkey[:KEY_CHARS], scale.pca_samples)
    cells = []
    for row in spec.rows:
        for seed in spec.seeds:
            cfg = motion_dir = image = pca = None
            if row.kind == "train":
                image, pca = images[row.image], pcas[row.image]
                cfg = _motion_config(spec, row, scale, data_spec, root, seed)
                model_key = key_of("motion", {"config": motion_key_config(cfg),
                                              "image": image.key, "pca": pca.key,
                                              "data": data_fp})
                motion_dir = work / "motion" / model_key[:KEY_CHARS]
            elif row.kind == "source":
                model_key = key_of("source", {"fingerprint": fingerprint(row.source, None)})
            else:
                model_key = key_of("gt", {"data": data_fp})
            cell_id = f"{spec.name}/{name}/{row.key}/seed{seed}"
            results = []
            for m in spec.metrics:
                if (m.rows is not None and row.key not in m.rows) or (
                        row.kind != "train" and m.metric in MODEL_METRICS):
                    continue
                counts = metric_counts(m, scale)
                outputs = [(part, out_row, metric) for part, out_row in
                           (("prediction", row.key), ("up_b", "up-b"))
                           for metric in ("psnr", "ssim")] if m.metric == "psnr-ssim" \
                    else [("", row.key, m.metric)]
                for part, out_row, metric in outputs:
                    key = key_of("result", {
                        "experiment": spec.name, "dataset": name, "row": out_row, "seed": seed,
                        "model": model_key, "metric": metric, "protocol": m.protocol,
                        "counts": counts, "eval_seed": scale.eval_seed, "real": data_fp,
                        "part": part, "predict": dict(scale.predict) if part else None,
                        "inversion": dict(scale.inversion) if part else None})
                    results.append(ResultPlan(out_row, metric, m.protocol, counts, key,
                                              f"{spec.name}/{name}/{out_row}/seed{seed}/"
                                              f"{metric}/{m.protocol}", part))
            key = key_of("cell", {"model": model_key, "results": [r.key for r in results]})
            cells.append(Cell(spec.name, name, row, spec.row_field, seed, data_spec, data_fp,
                              image, pca, cfg, model_key, motion_dir, tuple(results), cell_id,
                              key))
    return cells


def shard_cells(cells: list[Cell], shard: tuple[int, int]) -> list[Cell]:
    """Cells ``i, i + n, i + 2n, ...`` of shard ``i/n`` (0-based): disjoint, covering."""
    i, n = shard
    if n < 1 or not 0 <= i < n:
        raise VidbenchError(f"shard {i}/{n}: need 0 <= i < n (shards are numbered from 0)")
    return cells[i::n]


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` -> ``(i, n)``; shards are numbered 0 … n − 1."""
    head, slash, tail = text.partition("/")
    try:
        shard = (int(head), int(tail))
    except ValueError:
        raise VidbenchError(f"--shard {text!r}: expected i/n, e.g. 0/4") from None
    if not slash or shard[1] < 1 or not 0 <= shard[0] < shard[1]:
        raise VidbenchError(f"--shard {text!r}: need 0 <= i < n (shards are numbered from 0)")
    return shard


def metric_group(result: ResultPlan) -> str:
    """The ``eval`` stage a result line belongs to: its metric, ``psnr-ssim`` for PSNR and
    SSIM (one prediction run gives both)."""
    return "psnr-ssim" if result.metric in ("psnr", "ssim") else result.metric


def metric_groups(cell: Cell) -> dict[str, tuple[ResultPlan, ...]]:
    """The cell's result lines by ``eval`` stage, in the experiment's metric order."""
    groups: dict[str, list[ResultPlan]] = {}
    for r in cell.results:
        groups.setdefault(metric_group(r), []).append(r)
    return {k: tuple(v) for k, v in groups.items()}


def cell_status_file(work: Path, cell: Cell, metric: str = "") -> Path:
    """``WORK/cells/<cell key>.json`` (the local launcher: all metrics) or
    ``WORK/cells/<cell key>-<metric>.json`` (one ``eval`` stage)."""
    return work / "cells" / (f"{cell.key[:KEY_CHARS]}-{metric}.json" if metric
                             else f"{cell.key[:KEY_CHARS]}.json")
