"""The benchmark summary (benchmarks/summary.py): ratios worked by hand from a small
pytest-benchmark JSON, and the files it writes."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

# benchmarks/ is not an installed package: load the module from its file
_SPEC = importlib.util.spec_from_file_location(
    "benchmarks_summary", Path(__file__).resolve().parent.parent / "benchmarks" / "summary.py")
summary_module = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(summary_module)
build_summary, compute_ratios = summary_module.build_summary, summary_module.compute_ratios
figures_of, write_summary = summary_module.figures_of, summary_module.write_summary


def numbers(unit: str, seconds: float, items: int = 1, flops: float | None = None) -> dict:
    out = {"unit": unit, "seconds_min": seconds, f"{unit}_per_s": items / seconds,
           "items_per_round": items}
    if flops is not None:
        out["gflop_per_s"] = flops * items / seconds / 1e9
    return out


def entry(figure: str, nearby: dict | None = None, **kw) -> dict:
    info = {"figure": figure, **numbers(**kw)}
    if nearby is not None:
        info["nearby"] = nearby
    return {"name": f"test_{figure}", "extra_info": info}


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
