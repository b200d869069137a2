"""The report in a real browser: headless Chromium (Debian's ``chromium`` package) loads the
page from disk, and the page itself says that every picture and video decoded and that no table
cell is empty; a screenshot is saved for a person to look at. A damaged copy (a clip removed, a
cell emptied) must be caught by the same check."""
from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
from PIL import Image

from _motion_fixtures import one_thread  # noqa: F401 (autouse fixture)
from _system import require_programs
from _report_fixtures import Page, make_store, one_torch_thread, record, train_tiny_run
from vidbench.evaluation import records as R
from vidbench.cli import main
from vidbench.report.site import build_report
from vidbench.report.browser import check_page, find_chromium, screenshot_page


@pytest.fixture(scope="module")
def chromium():
    """Debian's chromium: missing, it fails the test in CI and skips it elsewhere."""
    return require_programs("chromium", find=lambda name: find_chromium())["chromium"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    store = make_store(root, train_tiny_run(root))
    with one_torch_thread():
        index = build_report([store["path"]], root / "report", runs=store["runs"],
                             progress=False)
    return index


def expected(index):
    page = Page(index.read_text("utf-8"))
    cells = sum(len(row) for rows in page.tables.values() for row in rows)
    return page, cells


def test_every_cell_and_every_clip_loads_in_chromium(report, chromium, tmp_path):
    page, cells = expected(report)
    check = check_page(report, chromium=chromium)
    assert check.done, "the page's own check did not finish"
    assert check.broken == ()
    assert check.media_ok == check.media_total == len(page.media) > 20
    assert check.cells == cells and check.cells_empty == 0
    assert check.ok and check.page_height > 1000
    assert re.search(r'id="media-status"[^>]*>media loaded: (\d+) of \1;', check.dom)

    shot = screenshot_page(report, tmp_path / "screenshot.png", chromium=chromium,
                           height=check.page_height)
    print(f"report screenshot: {shot}")
    with Image.open(shot) as im:
        assert im.size == (1280, min(check.page_height, 12000))
        pixels = np.asarray(im.convert("RGB"))
    # measured cells are painted green (#e8f4ea); clips and plots make the page far from blank
    green = np.all(pixels == (0xE8, 0xF4, 0xEA), axis=-1)
    assert green.sum() > 500 and pixels.std() > 20


def test_a_missing_clip_and_an_empty_cell_are_caught(report, chromium, tmp_path):
    copy = tmp_path / "damaged"
    shutil.copytree(report.parent, copy)
    page, cells = expected(report)
    gone = next(a["src"] for _, a in page.media if a["src"].endswith(".gif"))
    (copy / gone).unlink()
    html = (copy / "index.html").read_text("utf-8")
    html, n = re.subn(r'(<td class="cell measured"[^>]*>)[^<]+(</td>)', r"\1\2", html, count=1)
    assert n == 1
    (copy / "index.html").write_text(html, "utf-8")
    check = check_page(copy / "index.html", chromium=chromium)
    assert check.done and not check.ok
    assert check.broken == (gone,) and check.media_ok == check.media_total - 1
    assert check.cells == cells and check.cells_empty == 1


def test_cli_checks_the_page_and_saves_a_screenshot(chromium, tmp_path, capsys):
    path = tmp_path / "small.jsonl"
    R.append_result(path, record("2024-01-01T00:00:00+00:00", experiment="ablation",
                                 dataset="shapes", variant="full-128", value=700.0))
    out = tmp_path / "report"
    assert main(["report", "--results", str(path), "--out", str(out), "--quiet",
                 "--tables", "ablation", "--screenshot", "--screenshot-height", "900"]) == 0
    assert "0 of 0 pictures and videos loaded" in capsys.readouterr().out
    with Image.open(out / "screenshot.png") as im:
        assert im.size == (1280, 900)
