"""``vidbench demo``: the whole pipeline on the built-in ``shapes`` set, on a CPU.

MoCoGAN-HD (Tian et al., ICLR 2021) at the ``tiny`` preset: make ``shapes`` (white shapes of
one size, upright, on black, moving; why one size: docs/demo-notes.md, *Why one size*), train
the image generator, compute the PCA of its W space, train the motion generator (Full and the
ablations), sample, and score FVD with the real I3D plus every other metric whose weights are
present, beside context rows (real vs real, untrained, random walk in W).

Two worker processes of one torch thread each do the independent work. Everything is written
into ``out_dir`` (``results.jsonl``, ``table.txt``, pictures, ``report/``, ``work/``). Steps,
workers and files: docs/demo-notes.md, *What the demo runs*.
"""
from __future__ import annotations

import json
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable

from tqdm import tqdm

from vidbench.experiments.demo import jobs as J
from vidbench.evaluation.records import read_results
from vidbench.experiments.demo.output import (ROW_LABELS, demo_checks, format_table,
                                              motion_notes, write_pictures, write_report)
from vidbench.utils.fileio import atomic_write_text
from vidbench.utils.provenance import provenance

DEFAULT_OUT = Path("results") / "demo"
# The shipped image generator's training data (its record's "data"): white circles, squares
# and triangles of one size, upright, on black, moving along lines and circles.
IMAGE_DATA = ("shapes:num_videos=256,length=40,resolution=64,shape=circle+square+triangle,"
              "motion=horizontal+vertical+diagonal+circular,scale=1.5,colour=white,"
              "background=black,orientation=upright,size=fixed")
# The videos the motion generators learn from and are scored against: the same set at half
# the pace (the same frames; a shape crosses the frame in twice the time). At full pace a
# shape moves about 5 px per clip frame, further than Eqn. 2's steps of at most λ·σ_k (λ =
# 0.2) take it in this image generator's W (docs/demo-notes.md, *Motion settings*).
DATA = IMAGE_DATA + ",speed=0.5"
VARIANTS = {"full": (), "no-eqn2": ("no-residual",), "no-image-disc": ("no-image-disc",),
            "no-video-disc": ("no-video-disc",), "no-mutual-info": ("no-mi",)}
DIVERSITY_ROWS = ("full", "no-mutual-info")      # App. D: Full against w/o L_mi
SAMPLING_SEEDS = 3                               # every row is scored at 3 sampling seeds
# The motion generators' settings over the `tiny` preset (dotted config keys): λ 0.3 (the
# paper's 0.2 gave Full a margin near 15 % over the random walk; the official README advises
# λ <= 0.5), a learning rate of 5e-3 (1e-4, the paper's, moves nothing in a few hundred steps),
# two clips per batch and one G step per D step (docs/demo-notes.md, *Motion settings*).
MOTION = {"motion.residual_scale": 0.3, "optim.lr": 0.005, "batch_size": 2, "g_steps": 1}
FULL = {"image_steps": 2500, "motion_steps": 150, "num_eval": 16, "pca_samples": 5000,
        "diversity_videos": 32}
QUICK = {"image_steps": 100, "motion_steps": 3, "num_eval": 16, "pca_samples": 2000,
         "diversity_videos": 4}


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                               initializer=J.init_worker)


def _gather(futures: dict, desc: str, progress: bool) -> dict[Any, Any]:
    out = {}
    for key, fut in tqdm(list(futures.items()), desc=desc, unit="job", disable=not progress):
        out[key] = fut.result()
    return out


def sampling_seeds(seed: int) -> list[int]:
    """The sampling seeds of training seed ``seed``: 0, 1, 2 (the same for every training
    seed, so runs differ only in their training)."""
    return list(range(SAMPLING_SEEDS))


def run_demo(out_dir: str | Path = DEFAULT_OUT, quick: bool = False, seed: int = 0,
             progress: bool = True, workers: int = 2, train_image: bool = False,
             motion_steps: int | None = None,
             log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the whole demo (docs/demo-notes.md, *What the demo runs*); return the summary (also
    in summary.json). ``motion_steps`` replaces the iterations of every motion generator
    (Full and the ablations alike; default 150, ``quick`` 3)."""
    t0 = time.time()
    out = Path(out_dir)
    work = out / "work"
    sizes = dict(QUICK if quick else FULL)
    if motion_steps is not None:
        if motion_steps < 1:
            raise ValueError(f"motion_steps must be >= 1, got {motion_steps}")
        sizes["motion_steps"] = int(motion_steps)
    data = f"{DATA},seed={seed}"             # motion training data and the real side of FVD
    others = {s: f"{DATA},seed={seed + 1000 + s}" for s in sampling_seeds(seed)}
    n = sizes["num_eval"]
    results = out / "results.jsonl"
    if results.exists():
        results.unlink()                     # one demo run, one table
    if work.exists():                        # the demo always trains its motion generators
        import shutil

        shutil.rmtree(work)
    timings: dict[str, float] = {}
    shipped, record = J.shipped_generator()

    with _pool(workers) as pool:
        t = time.time()
        if train_image:
            log(f"[1/5] image generator from scratch ({sizes['image_steps']} steps)")
            generator = pool.submit(J.train_image_job, f"{IMAGE_DATA},seed={seed}",
                                    sizes["image_steps"], seed,
                                    str(work / "image"), progress, record["config"]).result()
        else:
            log(f"[1/5] image generator: the pre-trained {J.IMAGE_WEIGHTS} "
                f"({record['steps']} steps; sha256 {record['sha256'][:12]}… checked)")
            generator = shipped
        timings["image_generator"] = time.time() - t

        log(f"[2/5] PCA of {sizes['pca_samples']} W samples")
        t = time.time()
        pca = J.pca_job(generator, str(work / "pca"), sizes["pca_samples"], seed, progress)
        timings["pca"] = time.time() - t

        log(f"[3/5] motion generator: {', '.join(VARIANTS)} ({sizes['motion_steps']} steps "
            f"each), and real vs real at {len(others)} seeds")
        t = time.time()
        runs = {v: str(work / "motion" / v) for v in VARIANTS}
        futs = {("real-vs-real", s): pool.submit(
                    J.score_job, {"row": "real-vs-real", "kind": "source", "spec": spec},
                    data, n, seed, s, False) for s, spec in others.items()}
        futs.update({v: pool.submit(J.train_motion_job, generator, pca, data, abl,
                                    sizes["motion_steps"], seed, runs[v], False, MOTION)
                     for v, abl in VARIANTS.items()})
        scored = {k: v for k, v in _gather(futs, "motion variants + real", progress).items()
                  if isinstance(k, tuple)}
        timings["motion_and_real_stats"] = time.time() - t

        jobs = {v: {"row": v, "kind": "run", "run": runs[v]} for v in VARIANTS}
        jobs["untrained"] = {"row": "untrained", "kind": "untrained", "run": runs["full"],
                             "seed": seed}
        jobs["random-walk-w"] = {"row": "random-walk-w", "kind": "random-walk",
                                 "run": runs["full"]}
        log(f"[4/5] scoring {len(jobs)} rows at sampling seeds {sampling_seeds(seed)} "
            f"({n} clips each) and motion diversity of {', '.join(DIVERSITY_ROWS)}")
        t = time.time()
        futs = {(k, s): pool.submit(J.score_job, job, data, n, seed, s, False)
                for s in sampling_seeds(seed) for k, job in jobs.items()}
        futs.update({("diversity", k): pool.submit(J.diversity_job, jobs[k],
                                                   sizes["diversity_videos"], seed)
                     for k in DIVERSITY_ROWS})
        done = _gather(futs, "scoring", progress)
        scored.update({k: v for k, v in done.items() if k[0] != "diversity"})
        diversity = {k: v for (d, k), v in done.items() if d == "diversity"}
        timings["evaluate"] = time.time() - t

    log("[5/5] table, motion, pictures and report")
    t = time.time()
    skipped, motion = write_results(results, scored, diversity, seed, runs)
    table = format_table(results, skipped, motion)
    atomic_write_text(out / "table.txt", table + "\n")
    first = sampling_seeds(seed)[0]
    shown = write_pictures(out, runs["full"], others[first], first,
                           scored[("real-vs-real", first)]["motions"],
                           scored[("full", first)]["motions"])
    pictures = {k: v for k, v in shown.items() if k != "shown"}
    report = write_report(results, out / "report", runs, data, progress,
                          row_notes=motion_notes(motion))
    timings["outputs"] = time.time() - t
    timings["total"] = time.time() - t0
    summary = {"format": "vidbench-demo/3", "quick": quick, "seed": seed,
               "training_seed": seed, "sampling_seeds": sampling_seeds(seed), "data": data,
               "real": data, "real_vs_real": others,
               "image_generator": ({"trained_here": True, "steps": sizes["image_steps"]}
                                   if train_image else
                                   {"weights": J.IMAGE_WEIGHTS, "sha256": record["sha256"],
                                    "steps": record["steps"], "command": record["command"]}),
               "sizes": sizes, "motion_settings": MOTION,
               "random_walk_sigma": MOTION["motion.residual_scale"],
               "motion": motion, "shown": shown["shown"],
               "checks": demo_checks({r["variant"]: r for r in read_results(results)[0]
                                      if r["metric"] == "fvd"}, motion),
               "files": {"results": str(results), "table": str(out / "table.txt"),
                         **pictures, **report, "image_generator": generator, "pca": pca,
                         **{f"motion/{k}": v for k, v in runs.items()}},
               "table": table, "skipped": skipped,
               "seconds": {k: round(v, 1) for k, v in timings.items()}, **provenance()}
    summary["files"]["summary"] = str(out / "summary.json")
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, default=str) + "\n")
    return summary


def write_results(results: Path, scored: dict[tuple[str, int], dict[str, Any]],
                  diversity: dict[str, dict[str, Any]], seed: int, runs: dict[str, str]
                  ) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """One result line per (row, metric): the mean ± std over the sampling seeds, each seed's
    value and fake clips; one line per diversity row. Returns the skipped metrics and each
    row's motion summary over all its clips (every sampling seed)."""
    from vidbench.evaluation import records as R
    from vidbench.metrics.clip_motion import motion_summary

    def row_fields(row: str) -> dict[str, Any]:
        return {R.KEY_DATASET: "shapes", R.KEY_VARIANT: row, R.KEY_ROW_LABEL: ROW_LABELS[row],
                "preset": "tiny", "run_dir": runs.get(row)}

    skipped: dict[str, str] = {}
    per_row: dict[str, dict[int, dict[str, Any]]] = {}
    for (row, s), got in scored.items():
        per_row.setdefault(row, {})[s] = got
    motion = {}
    for row in ROW_LABELS:
        if row not in per_row:
            continue
        by_seed = dict(sorted(per_row[row].items()))
        motion[row] = motion_summary([m for got in by_seed.values() for m in got["motions"]])
        first = next(iter(by_seed.values()))["entries"]
        for i, entry in enumerate(first):
            if entry.get("status") == "skipped":
                skipped[f"{entry['metric']} [{entry['protocol']}]"] = entry["reason"]
                continue
            values = [got["entries"][i][R.KEY_VALUE] for got in by_seed.values()]
            rec = {**entry, **R.run_summary(values),
                   "training_seed": seed, "sampling_seeds": list(by_seed),
                   "by_sampling_seed": [{"sampling_seed": s, R.KEY_VALUE: got["entries"][i][
                       R.KEY_VALUE], R.KEY_FAKE: got["entries"][i].get(R.KEY_FAKE)}
                       for s, got in by_seed.items()],
                   R.KEY_EXPERIMENT: "ablation", **row_fields(row)}
            R.append_result(results, R.complete_record(rec))
    for row, rec in diversity.items():
        R.append_result(results, R.complete_record({
            **rec, "training_seed": seed, R.KEY_EXPERIMENT: "diversity", **row_fields(row)}))
    return skipped, motion
