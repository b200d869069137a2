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
from vidbench.experiments.demo.output import format_table, write_pictures, write_report
from vidbench.utils.fileio import atomic_write_text
from vidbench.utils.provenance import provenance

DEFAULT_OUT = Path("results") / "demo"
DATA = ("shapes:num_videos=256,length=40,resolution=32,shape=circle+square+triangle,"
        "motion=horizontal+vertical+diagonal+circular,scale=2,colour=white,"
        "background=black,orientation=upright,size=fixed")
IMAGE_R1_GAMMA = 0.1   # the tiny preset's 1.0 rounds corners off at 2500 steps on this set
VARIANTS = {"full": (), "no-eqn2": ("no-residual",), "no-image-disc": ("no-image-disc",),
            "no-video-disc": ("no-video-disc",)}
FULL = {"image_steps": 2500, "motion_steps": 120, "num_eval": 96, "pca_samples": 5000}
QUICK = {"image_steps": 100, "motion_steps": 3, "num_eval": 16, "pca_samples": 2000}


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                               initializer=J.init_worker)


def _gather(futures: dict, desc: str, progress: bool) -> dict[str, Any]:
    out = {}
    for key, fut in tqdm(list(futures.items()), desc=desc, unit="job", disable=not progress):
        out[key] = fut.result()
    return out


def run_demo(out_dir: str | Path = DEFAULT_OUT, quick: bool = False, seed: int = 0,
             progress: bool = True, workers: int = 2,
             log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the whole demo (docs/demo-notes.md, *What the demo runs*); return the summary (also
    in summary.json)."""
    t0 = time.time()
    out = Path(out_dir)
    work = out / "work"
    sizes = QUICK if quick else FULL
    data = f"{DATA},seed={seed}"
    real = f"{data}"                         # scored against; real-vs-real uses seed + 1000
    other = data.replace(f"seed={seed}", f"seed={seed + 1000}")
    n = sizes["num_eval"]
    results = out / "results.jsonl"
    if results.exists():
        results.unlink()                     # one demo run, one table
    if work.exists():                        # the demo always trains from scratch
        import shutil

        shutil.rmtree(work)
    timings: dict[str, float] = {}

    with _pool(workers) as pool:
        log(f"[1/5] image generator ({sizes['image_steps']} steps) and the real I3D statistics")
        t = time.time()
        futs = {"image": pool.submit(J.train_image_job, data, sizes["image_steps"], seed,
                                     str(work / "image"), progress, IMAGE_R1_GAMMA),
                "real": pool.submit(J.eval_job, {"row": "real-vs-real", "kind": "source",
                                                 "spec": other}, real, n, seed, progress)}
        first = _gather(futs, "image + real statistics", progress)
        generator, rows = first["image"], {"real-vs-real": first["real"]}
        timings["image_and_real_stats"] = time.time() - t

        log(f"[2/5] PCA of {sizes['pca_samples']} W samples")
        t = time.time()
        pca = J.pca_job(generator, str(work / "pca"), sizes["pca_samples"], seed, progress)
        timings["pca"] = time.time() - t

        log(f"[3/5] motion generator: {', '.join(VARIANTS)} ({sizes['motion_steps']} steps each)")
        t = time.time()
        runs = {v: str(work / "motion" / v) for v in VARIANTS}
        futs = {v: pool.submit(J.train_motion_job, generator, pca, data, abl,
                               sizes["motion_steps"], seed, runs[v], False)
                for v, abl in VARIANTS.items()}
        _gather(futs, "motion variants", progress)
        timings["motion"] = time.time() - t

        log(f"[4/5] scoring {len(VARIANTS) + 2} rows ({n} clips each)")
        t = time.time()
        jobs = {v: {"row": v, "kind": "run", "run": runs[v]} for v in VARIANTS}
        jobs["untrained"] = {"row": "untrained", "kind": "untrained", "run": runs["full"],
                             "seed": seed}
        jobs["random-walk-w"] = {"row": "random-walk-w", "kind": "random-walk",
                                 "run": runs["full"]}
        futs = {k: pool.submit(J.eval_job, job, real, n, seed, False) for k, job in jobs.items()}
        rows.update(_gather(futs, "FVD rows", progress))
        timings["evaluate"] = time.time() - t

    log("[5/5] table, pictures and report")
    t = time.time()
    from vidbench.evaluation import records as R

    skipped: dict[str, str] = {}
    for row, entries in rows.items():
        for rec in entries:
            if rec.get("status") == "skipped":
                skipped[f"{rec['metric']} [{rec['protocol']}]"] = rec["reason"]
            else:
                rec = {**rec, R.KEY_EXPERIMENT: "demo", R.KEY_DATASET: "shapes",
                       R.KEY_VARIANT: row, "preset": "tiny", "run_dir": runs.get(row)}
                R.append_result(results, R.complete_record(rec))
    table = format_table(results, skipped)
    atomic_write_text(out / "table.txt", table + "\n")
    pictures = write_pictures(out, runs["full"], real, seed)
    report = write_report(results, out / "report", runs, real, progress)
    timings["outputs"] = time.time() - t
    timings["total"] = time.time() - t0
    summary = {"format": "vidbench-demo/2", "quick": quick, "seed": seed, "data": data,
               "real": real, "real_vs_real": other, "sizes": sizes,
               "image_r1_gamma": IMAGE_R1_GAMMA,
               "random_walk_sigma": J.RANDOM_WALK_SIGMA,
               "files": {"results": str(results), "table": str(out / "table.txt"),
                         **pictures, **report, "image_generator": generator, "pca": pca,
                         **{f"motion/{k}": v for k, v in runs.items()}},
               "table": table, "skipped": skipped,
               "seconds": {k: round(v, 1) for k, v in timings.items()}, **provenance()}
    summary["files"]["summary"] = str(out / "summary.json")
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, default=str) + "\n")
    return summary
