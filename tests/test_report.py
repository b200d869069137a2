"""`vidbench report`: the page is well formed and self-contained, shows every table cell of
vidbench.report.tables with its provenance, and every media file it names exists and shows what it
says (the scored samples, the disentanglement grids, long videos, the training log)."""
from __future__ import annotations

import json
import math
from html import escape
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence

from _motion_fixtures import one_thread  # noqa: F401 (autouse fixture)
from _report_fixtures import N_FRAMES, Page, make_store, one_torch_thread, record, train_tiny_run
from vidbench.evaluation import records as R
from vidbench.cli import main
from vidbench.utils.errors import BadInputError, VidbenchError
from vidbench.report.site import MANIFEST, build_report
from vidbench.report.media import MediaOptions
from vidbench.report.plots import line_plot_svg, log_series, nice_ticks
from vidbench.report.tables import TABLES, build_table

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    run = train_tiny_run(root)
    return {**make_store(root, run), "root": root, "run": run}


@pytest.fixture(scope="module")
def report(store):
    with one_torch_thread():
        index = build_report([store["path"]], store["root"] / "report", runs=store["runs"],
                             progress=False)
    return {"index": index, "dir": index.parent, "page": Page(index.read_text("utf-8")),
            "manifest": json.loads((index.parent / MANIFEST).read_text("utf-8"))}


def gallery(report, anchor):
    return next(g for g in report["manifest"]["galleries"] if g["anchor"] == anchor)


def gif_frames(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.stack([np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)])


def test_page_is_well_formed_and_self_contained(report):
    page = report["page"]
    assert page.errors == []
    assert len(page.ids) == len(set(page.ids))
    for href in page.links:
        assert href.startswith("#") and href[1:] in page.ids, href
    urls = [a.get("src", "") for _, a in page.tags] + page.links
    assert not [u for u in urls if "://" in u or u.startswith("//")]
    assert not [t for t, _ in page.tags if t in ("link", "iframe", "object")]
    scripts = [a for t, a in page.tags if t == "script"]
    assert len(scripts) == 1 and "src" not in scripts[0]
    assert "@import" not in report["index"].read_text("utf-8")


def test_every_table_cell_is_on_the_page(report, store):
    records, _ = R.read_many([store["path"]])
    page = report["page"]
    assert set(page.tables) == set(TABLES)
    for name in TABLES:
        table = build_table(name, records)
        header, *rows = page.tables[name]
        assert [c["text"] for c in header] == [table.spec.row_field] + [c.label
                                                                        for c in table.columns]
        assert len(rows) == len(table.rows)
        for (key, label), row in zip(table.rows, rows):
            cells = [table.cell(key, i) for i in range(len(table.columns))]
            assert [c["text"] for c in row] == [label] + [c.text for c in cells]
            assert [c["class"] for c in row[1:]] == [f"cell {c.kind}" for c in cells]
            assert all(c["text"] for c in row)
    # the measured cells the fixture wrote, as vidbench table shows them
    ablation = {c["text"] for row in page.tables["ablation"][1:] for c in row}
    assert {"790.25 ‡", "901.00"} <= ablation
    assert "1500.00" in {c["text"] for row in page.tables["ucf101"][1:] for c in row}


def test_cells_carry_their_provenance_on_hover_and_in_details(report):
    page = report["page"]
    rows = {row[0]["text"]: row for row in page.tables["ablation"][1:]}
    measured = [c for c in rows["Full-256"] if "measured" in c["class"]]
    assert len(measured) == 1
    title = measured[0]["title"]
    assert "timestamp: 2024-01-02T00:00:00+00:00" in title     # the latest of the two lines
    assert "protocol: mocogan-hd" in title and "git_commit: abc123def456" in title
    assert '"num_fake": 16' in title
    reported = [c for c in rows["Full-256"] if "reported" in c["class"]]
    assert reported and all(c["text"].endswith("†") for c in reported)
    assert all("paper: MoCoGAN-HD" in c["title"] and "printed: " in c["title"] for c in reported)
    text = report["index"].read_text("utf-8")
    assert text.count("Provenance of every cell") == len(TABLES)
    assert f"<pre>{escape(title)}</pre>" in text              # the details block


def test_every_media_file_exists_and_decodes(report):
    page, root = report["page"], report["dir"]
    srcs = [a["src"] for _, a in page.media]
    assert len(srcs) > 20 and len(set(srcs)) == len(srcs)
    for src in srcs:
        path = root / src
        assert path.is_file() and path.stat().st_size > 0, src
        if src.endswith(".gif"):
            with Image.open(path) as im:
                assert im.format == "GIF" and im.n_frames >= 1
        else:
            assert src.endswith(".svg") and ET.parse(path).getroot().tag == f"{SVG}svg"
    listed = {p for g in report["manifest"]["galleries"] for v in g["media"].values() for p in v}
    assert listed == set(srcs)
    full = gallery(report, "ablation--full-256")["media"]
    assert (len(full["real"]), len(full["generated"]), len(full["grids"]),
            len(full["long"])) == (4, 4, 2, 4)
    assert len(gallery(report, "ucf101--tganv2")["media"]["generated"]) == 3   # all it has


def test_generated_clips_are_the_samples_the_metric_scored(report, store):
    from vidbench.evaluation.sources import open_any_source as open_source

    scored = open_source(store["ckpt"])          # the result line's own fake spec
    shown = gif_frames(report["dir"] / "media/ablation--full-256/generated_01.gif")
    assert shown.shape == (N_FRAMES, 32, 32, 3)
    err = [np.abs(shown.astype(float) - scored[i]).mean() for i in range(3)]
    assert err[1] < 6 and err[1] < min(err[0], err[2]) / 4       # GIF palette error only
    base = gif_frames(report["dir"] / "media/ucf101--tganv2/generated_02.gif")
    assert np.abs(base.astype(float) - store["baseline"][2]).mean() < 6


def test_grids_share_the_content_or_the_motion(report):
    def tiles(name, t):
        f = gif_frames(report["dir"] / f"media/ablation--full-256/{name}.gif")
        assert f.shape == (N_FRAMES, 36, 3 * 34 + 2, 3)
        return [f[t, 2:34, 2 + 34 * k:34 + 34 * k].astype(float) for k in range(3)]
    content = tiles("grid_content", 0)        # one w_1: the first frames are the same
    assert max(np.abs(c - content[0]).mean() for c in content) < 1
    motion = tiles("grid_motion", 0)          # k contents: the first frames differ
    assert min(np.abs(motion[k] - motion[0]).mean() for k in (1, 2)) > 10


def test_long_videos_have_the_long_lengths(report):
    root = report["dir"] / "media/ablation--full-256"
    for i in range(2):
        with Image.open(root / f"long_unroll_{i:02d}.gif") as im:
            assert im.n_frames == 2 * N_FRAMES
        with Image.open(root / f"long_interpolate_{i:02d}.gif") as im:
            assert im.n_frames == 2 * N_FRAMES - 1


def polylines(path: Path) -> dict[str, np.ndarray]:
    root = ET.parse(path).getroot()
    return {p.get("data-series"): np.array([[float(v) for v in xy.split(",")]
                                            for xy in p.get("points").split()])
            for p in root.iter(f"{SVG}polyline")}


def assert_affine(pixels: np.ndarray, data: np.ndarray) -> None:
    """Pixel = a * data + b per axis, a > 0 for x and a < 0 for y (y grows downwards)."""
    for axis, sign in ((0, 1), (1, -1)):
        A = np.stack([data[:, axis], np.ones(len(data))], 1)
        (a, b), *_ = np.linalg.lstsq(A, pixels[:, axis], rcond=None)
        if np.ptp(data[:, axis]) > 0:
            assert a * sign > 0
        assert np.allclose(A @ [a, b], pixels[:, axis], atol=0.02)


def test_training_plots_read_back_the_log(report, store):
    lines = [json.loads(x) for x in (store["run"] / "log.jsonl").read_text().splitlines()]
    steps = [x for x in lines if "event" not in x]
    plots = gallery(report, "ablation--full-256")["media"]["plots"]
    g = polylines(report["dir"] / next(p for p in plots if "generator-losses" in p))
    assert set(g) == {k for k in steps[0] if k.startswith("g/")}
    for name, pts in g.items():
        data = np.array([[x["step"], x[name]] for x in steps])
        assert len(pts) == len(data)
        assert_affine(pts, data)
    fvd = polylines(report["dir"] / next(p for p in plots if "result-lines" in p))
    assert list(fvd) == ["fvd [mocogan-hd]"]
    assert_affine(fvd["fvd [mocogan-hd]"], np.array([[2, 812.5], [3, 790.25]]))


def test_rows_without_videos_get_a_note_and_bad_lines_are_listed(report):
    gone = gallery(report, "other--custom--gone")
    assert gone["media"]["generated"] == [] and "no-such-run" in " ".join(gone["notes"])
    text = report["index"].read_text("utf-8")
    assert 'id="other"' in text and 'href="#other--custom--gone"' in text
    assert 'id="problems"' in text and "store.jsonl:6" in text


def test_nice_ticks_cover_the_range_at_round_steps():
    assert nice_ticks(0, 9.3) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(790.25, 812.5) == [790, 795, 800, 805, 810, 815]
    assert nice_ticks(3, 3) == pytest.approx([2.6, 2.8, 3.0, 3.2, 3.4])
    assert nice_ticks(1, 3) == [1, 1.5, 2, 2.5, 3] and nice_ticks(1, 3, integer=True) == [1, 2, 3]
    rng = np.random.default_rng(0)
    for lo, span in zip(rng.normal(0, 1e3, 200), 10.0 ** rng.uniform(-4, 6, 200)):
        t = nice_ticks(lo, lo + span)
        step = t[1] - t[0]
        mantissa = step / 10 ** math.floor(math.log10(step))
        assert t[0] <= lo + 1e-9 * span and t[-1] >= lo + span - 1e-9 * span
        assert 3 <= len(t) <= 12 and min(abs(mantissa - m) for m in (1, 2, 5, 10)) < 1e-6


def test_line_plot_svg_maps_points_affinely_and_escapes_names():
    a = [(0, 1.0), (10, 3.0), (5, -2.0)]
    svg = line_plot_svg({"a<b": a, "c": [(2, 0.5)]}, title="t & u")
    root = ET.fromstring(svg)
    lines = {p.get("data-series"): p for p in root.iter(f"{SVG}polyline")}
    assert set(lines) == {"a<b", "c"} and root.find(f"{SVG}title").text == "t & u"
    pts = np.array([[float(v) for v in xy.split(",")] for xy in lines["a<b"].get("points").split()])
    assert_affine(np.vstack([pts, [[float(v) for v in lines["c"].get("points").split(",")]]]),
                  np.array(sorted(a) + [(2, 0.5)]))
    with pytest.raises(ValueError):
        line_plot_svg({"x": [(0, float("nan"))]}, title="empty")


def test_log_series_skips_events_and_a_torn_last_line(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text('{"step": 1, "epoch": 0, "g/total": 2.0, "time": 5.0}\n'
                   '{"event": "checkpoint", "step": 1}\n'
                   '{"step": 2, "metric": "fvd", "protocol": "p", "value": 9.5}\n'
                   '{"step": 3, "g/total": 1.5, "ok": true}\n{"step": 4, "g/')
    assert log_series(log) == {"g/total": [(1.0, 2.0), (3.0, 1.5)], "fvd [p]": [(2.0, 9.5)]}
    log.write_text('{"step": 1, "a": 1}\nnot json\n{"step": 2, "a": 2}\n')
    with pytest.raises(BadInputError, match="line 2"):
        log_series(log)


def small_store(tmp_path) -> Path:
    path = tmp_path / "small.jsonl"
    R.append_result(path, record("2024-01-01T00:00:00+00:00", experiment="ablation",
                                 dataset="shapes", variant="full-128", value=700.0))
    return path


def test_an_earlier_report_is_replaced_and_other_folders_are_refused(tmp_path):
    path, out = small_store(tmp_path), tmp_path / "out"
    build_report([path], out, tables=["ablation"], progress=False)
    (out / "media" / "stale.gif").parent.mkdir(parents=True, exist_ok=True)
    (out / "media" / "stale.gif").write_bytes(b"x")
    index = build_report([path], out, tables=["ablation"], progress=False)
    assert index == out / "index.html" and not (out / "media" / "stale.gif").exists()
    page = Page(index.read_text("utf-8"))
    assert list(page.tables) == ["ablation"] and not page.errors
    assert "no model or clip source recorded" in index.read_text("utf-8")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(VidbenchError, match="not a vidbench report"):
        build_report([path], mine, progress=False)
    assert (mine / "notes.txt").read_text() == "keep"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    with pytest.raises(VidbenchError, match="report media format"):
        MediaOptions(fmt="avi")


def test_mp4_clips_are_video_elements(store, tmp_path):
    with one_torch_thread():
        index = build_report([store["path"]], tmp_path / "r", tables=["ablation"],
                             options=MediaOptions(num_videos=2, grid_size=2, num_long=0,
                                                  fmt="mp4"), progress=False)
    page = Page(index.read_text("utf-8"))
    videos = [a for t, a in page.media if t == "video"]
    assert videos and all(a["src"].endswith(".mp4") and "loop" in a and "muted" in a
                          for a in videos)
    assert all((index.parent / a["src"]).stat().st_size > 0 for a in videos)
    assert all(a["src"].endswith(".svg") for t, a in page.media if t == "img")


def test_cli(tmp_path, capsys):
    path = small_store(tmp_path)
    assert main(["report", "--results", str(path), "--out", str(tmp_path / "r"), "--quiet",
                 "--tables", "ablation", "cross-domain"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert list(Page((tmp_path / "r/index.html").read_text("utf-8")).tables) == \
        ["ablation", "cross-domain"]
    assert main(["report", "--results", str(path), "--out", str(tmp_path / "x"), "--run",
                 "no-equals-sign"]) == 2
    assert "ROW=RUN_DIR" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    assert "example:\n  vidbench report" in capsys.readouterr().out


def test_a_folder_holding_only_a_committed_screenshot_is_replaced(tmp_path):
    """A fresh clone has results/demo/report/screenshot.png and nothing else there."""
    path, out = small_store(tmp_path), tmp_path / "report"
    out.mkdir()
    (out / "screenshot.png").write_bytes(b"old")
    index = build_report([path], out, tables=["ablation"], progress=False)
    assert index.is_file() and not (out / "screenshot.png").exists()
    (out / "screenshot.png").unlink(missing_ok=True)
    other = tmp_path / "other"
    other.mkdir()
    (other / "screenshot.png").write_bytes(b"x")
    (other / "notes.txt").write_text("keep")
    with pytest.raises(VidbenchError, match="not a vidbench report"):
        build_report([path], other, progress=False)
