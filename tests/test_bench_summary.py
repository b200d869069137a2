"""The benchmark summary (benchmarks/summary.py, benchmarks/ratios.py,
benchmarks/readme_table.py): ratios and targets worked by hand from a small pytest-benchmark
JSON, and the files it writes."""
from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest


def _benchmarks_module(name: str):
    """``benchmarks.<name>``: benchmarks/ is not an installed package, so the package is
    registered from its folder (once) and its modules imported from there."""
    folder = Path(__file__).resolve().parent.parent / "benchmarks"
    if "benchmarks" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "benchmarks", folder / "__init__.py", submodule_search_locations=[str(folder)])
        package = importlib.util.module_from_spec(spec)
        sys.modules["benchmarks"] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"benchmarks.{name}")


summary_module = _benchmarks_module("summary")
readme_table = _benchmarks_module("readme_table")
build_summary, write_summary = summary_module.build_summary, summary_module.write_summary
compute_ratios, figures_of = summary_module.compute_ratios, summary_module.figures_of


def numbers(unit: str, seconds: float, items: int = 1, flops: float | None = None,
            rss: int | None = None) -> dict:
    out = {"unit": unit, "seconds_min": seconds, f"{unit}_per_s": items / seconds,
           "items_per_round": items}
    if flops is not None:
        out["gflop_per_s"] = flops * items / seconds / 1e9
    if rss is not None:
        out["peak_rss_bytes"] = rss
    return out


def entry(figure: str, nearby: dict | None = None, **kw) -> dict:
    info = {"figure": figure, **numbers(**kw)}
    if nearby is not None:
        info["nearby"] = nearby
    return {"name": f"test_{figure}", "extra_info": info}


GIB = 2 ** 30
GEMMS = {"gemm.matmul": numbers("products", 0.2, flops=16e9),      # 80 GFLOP/s
         "gemm.onednn": numbers("products", 0.1, flops=16e9)}      # 160 GFLOP/s


@pytest.fixture
def bench_json() -> dict:
    return {"benchmarks": [
        # ours 4 clips in 2 s at 55.5e9 FLOP per clip = 111 GFLOP/s
        entry("i3d.ours", unit="clips", seconds=2.0, items=4, flops=55.5e9, nearby=GEMMS),
        # the JAX port in 8 s, ours timed in its rounds in 2.5 s
        entry("i3d.jax", unit="clips", seconds=8.0, items=4, flops=55.5e9,
              nearby={"i3d.ours": numbers("clips", 2.5, 4)}),
        entry("gemm.matmul", unit="products", seconds=0.25, flops=16e9),
        entry("gemm.onednn", unit="products", seconds=0.125, flops=16e9),
        entry("frechet.svd.400", unit="distances", seconds=0.04,
              nearby={"linalg.svd.400": numbers("svds", 0.016)}),
        entry("decode.decord.bikes", unit="frames", seconds=0.5, items=250),
        # eval fvd: 256 + 256 clips in 400 s, the network 16 clips in 10 s next to it, 2 GiB
        entry("fvd.e2e.256", unit="clips", seconds=400.0, items=512, rss=2 * GIB,
              nearby={"i3d.prepared": numbers("clips", 10.0, 16)}),
        # 2048 + 2048 clips in 3600 s, the network 16 clips in 11 s, 2.2 GiB
        entry("fvd.e2e.2048", unit="clips", seconds=3600.0, items=4096, rss=int(2.2 * GIB),
              nearby={"i3d.prepared": numbers("clips", 11.0, 16)}),
        # 2 training iterations in 6 s; one render of a batch in 0.25 s
        entry("train.motion.tiny", unit="iterations", seconds=6.0, items=2,
              nearby={"image.render_batch.tiny": numbers("batches", 0.25)}),
        # 256 frames sampled in 0.5 s; the image generator alone in 0.64 s
        entry("sample.generator_source.tiny", unit="frames", seconds=0.5, items=256,
              nearby={"image.render.tiny": numbers("frames", 0.64, 256)}),
        {"name": "test_without_figure", "extra_info": {}},
    ], "vidbench": {"date": "2026-01-01T00:00:00+00:00", "git_commit": "abc", "git_dirty": False,
                    "machine": {"cpu": "test cpu", "torch_threads": 2}, "versions": {}}}


def test_ratios_by_hand(bench_json):
    ratios = compute_ratios(figures_of(bench_json["benchmarks"]))
    # the peer timed in the JAX port's rounds, not the i3d.ours benchmark, is the numerator
    assert ratios["i3d.ours_vs_jax"]["value"] == pytest.approx(8.0 / 2.5)
    assert ratios["i3d.ours_vs_jax"]["figure"] == "i3d.jax"
    # the GEMM limit is the faster of the two GEMMs timed in the figure's rounds
    assert ratios["i3d.ours_of_gemm"]["denominator"] == "i3d.ours@gemm.onednn"
    assert ratios["i3d.ours_of_gemm"]["value"] == pytest.approx(111.0 / 160.0)
    assert ratios["i3d.ours_of_gemm_matmul"]["value"] == pytest.approx(111.0 / 80.0)
    assert "i3d.jax_of_gemm" not in ratios  # no GEMM was timed in its rounds
    assert ratios["gemm.onednn_vs_matmul"]["value"] == pytest.approx(2.0)
    assert ratios["frechet.svd_in_svds.400"]["value"] == pytest.approx(2.5)  # seconds / seconds
    # a ratio whose peer was not measured in this run is absent, never guessed
    assert "i3d.ours_vs_plain" not in ratios
    assert "decode.decord_vs_pyav.bikes" not in ratios


def test_summary_files(bench_json, tmp_path):
    path = tmp_path / "benchmarks.json"
    path.write_text(json.dumps(bench_json))
    summary = write_summary(path)
    loaded = json.loads((tmp_path / "summary.json").read_text())
    assert loaded == json.loads(json.dumps(summary))
    assert loaded["git_commit"] == "abc" and loaded["machine"]["cpu"] == "test cpu"
    assert loaded["figures"]["i3d.ours"]["clips_per_s"] == pytest.approx(2.0)
    md = (tmp_path / "summary.md").read_text()
    assert "| i3d.ours_vs_jax | 3.2 |" in md and "test cpu" in md


def test_not_a_benchmark_json(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a pytest-benchmark JSON"):
        write_summary(path)
    assert build_summary({"benchmarks": []})["ratios"] == {}


def test_fvd_train_and_sample_ratios_by_hand(bench_json):
    ratios = compute_ratios(figures_of(bench_json["benchmarks"]))
    # the largest count: (4096 / 3600 clips/s) / (16 / 11 clips/s) = 45056 / 57600
    assert ratios["fvd.e2e_of_network"]["value"] == pytest.approx(45056 / 57600)
    assert ratios["fvd.e2e_of_network"]["denominator"] == "fvd.e2e.2048@i3d.prepared"
    # the smaller count has its own name: (512 / 400) / (16 / 10) = 1.28 / 1.6
    assert ratios["fvd.e2e_of_network.256"]["value"] == pytest.approx(0.8)
    assert ratios["fvd.peak_rss_2048_vs_256"]["value"] == pytest.approx(1.1, rel=1e-9)
    # seconds per item: (6 s / 2 iterations) / (0.25 s / 1 batch)
    assert ratios["train.motion_step_in_renders"]["value"] == pytest.approx(12.0)
    # (256 / 0.5 frames/s) / (256 / 0.64 frames/s)
    assert ratios["sample.of_render"]["value"] == pytest.approx(1.28)


def test_targets_by_hand(bench_json):
    ratios = compute_ratios(figures_of(bench_json["benchmarks"]))
    # 3.2 >= 2.0; 111 / 160 = 0.694 >= 0.65; 0.782 < 0.85; 1.1 <= 1.2
    expected = {"i3d.ours_vs_jax": (">= 2.0", True), "i3d.ours_of_gemm": (">= 0.65", True),
                "fvd.e2e_of_network": (">= 0.85", False),
                "fvd.peak_rss_2048_vs_256": ("<= 1.2", True)}
    for name, (target, met) in expected.items():
        assert (ratios[name]["target"], ratios[name]["met"]) == (target, met), name
    assert "target" not in ratios["fvd.e2e_of_network.256"]
    summary = build_summary(bench_json)
    assert {name: (t["target"], t["met"]) for name, t in summary["targets"].items()} == expected
    assert summary["targets"]["fvd.e2e_of_network"]["value"] == pytest.approx(45056 / 57600)


def test_fvd_ratios_follow_the_counts_measured(bench_json):
    """Smoke counts give their own names: no ratio is named for counts not measured."""
    run = [e for e in bench_json["benchmarks"] if not e["name"].startswith("test_fvd")]
    run += [entry("fvd.e2e.16", unit="clips", seconds=40.0, items=32, rss=2 * GIB,
                  nearby={"i3d.prepared": numbers("clips", 10.0, 16)}),
            entry("fvd.e2e.64", unit="clips", seconds=100.0, items=128, rss=3 * GIB,
                  nearby={"i3d.prepared": numbers("clips", 10.0, 16)})]
    ratios = compute_ratios(figures_of(run))
    assert ratios["fvd.e2e_of_network"]["value"] == pytest.approx(1.28 / 1.6)  # at 64
    assert ratios["fvd.e2e_of_network.16"]["value"] == pytest.approx(0.8 / 1.6)
    assert ratios["fvd.peak_rss_64_vs_16"]["value"] == pytest.approx(1.5)
    assert "fvd.peak_rss_2048_vs_256" not in ratios and "target" not in ratios[
        "fvd.peak_rss_64_vs_16"]
    targets = build_summary({"benchmarks": run})["targets"]
    assert targets["fvd.peak_rss_2048_vs_256"] == {"value": None, "target": "<= 1.2",
                                                   "met": None}
    one = compute_ratios(figures_of(run[:-1]))        # one count: no memory ratio
    assert "fvd.e2e_of_network" in one and not any("peak_rss" in n for n in one)


def test_summary_markdown_targets(bench_json, tmp_path):
    path = tmp_path / "benchmarks.json"
    path.write_text(json.dumps(bench_json))
    write_summary(path)
    md = (tmp_path / "summary.md").read_text()
    assert "| i3d.ours_vs_jax | >= 2.0 | 3.2 | yes |" in md
    assert "| fvd.e2e_of_network | >= 0.85 | 0.782 | no |" in md
    assert "| fvd.e2e_of_network | 0.782 | >= 0.85: not met |" in md
    assert "| fvd.e2e.2048 | 3600 | 1.138 clips/s |  | 2253 |" in md  # 2.2 GiB in MiB


README = """# project

intro

<!-- benchmarks:begin (generated: python -m benchmarks.readme_table) -->
old table
<!-- benchmarks:end -->

after
"""


def test_readme_table_block(bench_json, tmp_path):
    summary = build_summary(bench_json)
    readme = tmp_path / "README.md"
    readme.write_text(README)
    assert readme_table.update_readme(readme, summary) is True
    text = readme.read_text()
    before, _, rest = text.partition(readme_table.BEGIN)
    block, _, after = rest.partition(readme_table.END)
    assert before == "# project\n\nintro\n\n" and after == "\n\nafter\n"
    assert "old table" not in block and "test cpu" in block
    assert "| `i3d.ours_vs_jax` | 3.2 | >= 2.0 (met) |" in block
    assert "| `fvd.e2e_of_network` | 0.782 | >= 0.85 (not met) |" in block
    assert "Not measured" not in block                    # every target was measured
    assert readme_table.update_readme(readme, summary) is False   # idempotent
    readme.write_text("# no markers\n")
    with pytest.raises(ValueError, match="benchmarks:begin"):
        readme_table.update_readme(readme, summary)


def test_readme_table_from_a_summary_without_targets(bench_json):
    """A summary.json written before targets existed gets them checked from TARGETS."""
    summary = build_summary(bench_json)
    for r in summary["ratios"].values():
        r.pop("target", None), r.pop("met", None)
    del summary["targets"], summary["ratios"]["fvd.peak_rss_2048_vs_256"]
    block = readme_table.render_readme_table(summary)
    assert "| `i3d.ours_of_gemm` | 0.694 | >= 0.65 (met) |" in block
    assert "Not measured in this run: `fvd.peak_rss_2048_vs_256` (target <= 1.2)." in block
