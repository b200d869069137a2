"""Opening a report in headless Chromium: what the page says about itself, and a screenshot.

The report's inline check (:data:`vidbench.report.html.CHECK_SCRIPT`) writes its findings
onto ``<body>`` once the page has loaded; :func:`check_page` runs Chromium with
``--dump-dom`` (under a virtual-time budget, so animations and media loading run to
completion without waiting in real time) and reads them back from the serialised DOM.
:func:`screenshot_page` takes a whole-page PNG (the window is made as tall as the page said
it is, capped at ``max_height``). Chromium runs with a throw-away profile, no network
services, no GPU and no sandbox (so that it runs as root in containers); nothing here
installs a browser: :func:`find_chromium` only looks for one (Debian's ``chromium``).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from vidbench.utils.errors import VidbenchError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "install Debian's chromium package: apt-get install -y chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio")


def find_chromium() -> str | None:
    """The Chromium executable on ``PATH`` (or ``/usr/bin/chromium``), or None."""
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


@dataclass(frozen=True)
class PageCheck:
    """What the report page found about itself in the browser."""

    media_ok: int
    media_total: int
    broken: tuple[str, ...]         # src of every picture or video that did not load
    cells: int                      # cells of the results tables (headers included)
    cells_empty: int
    page_height: int                # CSS pixels
    done: bool                      # the check ran to its end
    dom: str                        # the serialised DOM

    @property
    def ok(self) -> bool:
        return (self.done and self.media_ok == self.media_total and not self.broken
                and self.cells_empty == 0)


class _BodyAttrs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.attrs: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "body" and self.attrs is None:
            self.attrs = {k: v or "" for k, v in attrs}


def _run(chromium: str | None, args: list[str], timeout: float) -> subprocess.CompletedProcess:
    exe = chromium or find_chromium()
    if exe is None:
        raise VidbenchError(f"no Chromium found on PATH; {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="vidbench-chromium-") as profile:
        try:
            proc = subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", *args],
                                  capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise VidbenchError(f"{exe} did not finish within {timeout:g} s") from None
    if proc.returncode != 0:
        raise VidbenchError(f"{exe} exited with status {proc.returncode}: "
                            f"{proc.stderr.decode(errors='replace')[-1500:]}")
    return proc


def _url(index: str | os.PathLike) -> str:
    path = Path(index).resolve()
    if not path.is_file():
        raise VidbenchError(f"{path}: no such report page")
    return path.as_uri()


def check_page(index: str | os.PathLike, *, chromium: str | None = None,
               budget_ms: int = 15000, timeout: float = 120.0) -> PageCheck:
    """Load ``index`` (a report's ``index.html``) headless and read the page's own check."""
    proc = _run(chromium, [f"--virtual-time-budget={int(budget_ms)}", "--dump-dom",
                           _url(index)], timeout)
    dom = proc.stdout.decode("utf-8", errors="replace")
    parser = _BodyAttrs()
    parser.feed(dom)
    a = parser.attrs or {}
    ok, _, total = a.get("data-media-ok", "0/0").partition("/")
    return PageCheck(int(ok or 0), int(total or 0),
                     tuple(s for s in a.get("data-media-broken", "").split() if s),
                     int(a.get("data-cells", 0) or 0), int(a.get("data-cells-empty", 0) or 0),
                     int(a.get("data-page-height", 0) or 0), a.get("data-check") == "done", dom)


def screenshot_page(index: str | os.PathLike, out: str | os.PathLike, *, width: int = 1280,
                    height: int | None = None, max_height: int = 12000,
                    chromium: str | None = None, budget_ms: int = 15000,
                    timeout: float = 120.0) -> Path:
    """A PNG of the page ``width`` CSS pixels wide and ``height`` tall (default: the whole
    page, as its check measured it, at most ``max_height``)."""
    if height is None:
        height = check_page(index, chromium=chromium, budget_ms=budget_ms,
                            timeout=timeout).page_height or 2000
    height = max(200, min(int(height), max_height))
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".shot-", dir=out.parent) as tmp:
        shot = Path(tmp) / "screenshot.png"
        _run(chromium, [f"--virtual-time-budget={int(budget_ms)}",
                        f"--window-size={int(width)},{height}", f"--screenshot={shot}",
                        _url(index)], timeout)
        if not shot.is_file() or shot.stat().st_size == 0:
            raise VidbenchError(f"Chromium wrote no screenshot of {index}")
        os.replace(shot, out)
    return out


__all__ = ["find_chromium", "PageCheck", "check_page", "screenshot_page", "INSTALL_HINT"]
