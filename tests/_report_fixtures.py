"""A small results store with a tiny motion run behind it, for the report tests (seconds)."""
from __future__ import annotations

import contextlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import torch

from _motion_fixtures import make_tiny_setup
from vidbench.evaluation import records as R

PROV = {"git_commit": "abc123def456", "git_dirty": False, "versions": {"numpy": "2.0"},
        "device": "cpu:test"}
REAL = "shapes:num_videos=8,length=8,resolution=32,seed=1"
TRAIN_STEPS = 3
N_FRAMES = 8


def train_tiny_run(root: Path) -> Path:
    """A 3-step motion run (8-frame clips, a 32² random StyleGAN2), logged every step."""
    from vidbench.train.motion_config import resolve_config
    from vidbench.train.motion import train_motion

    gen, pca = make_tiny_setup(root, num_samples=1000)
    cfg = resolve_config("tiny", overrides={"generator": str(gen), "pca": str(pca),
                                            "steps": TRAIN_STEPS, "log_every": 1,
                                            "batch_size": 2, "data.n_frames": N_FRAMES})
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_motion(cfg, root / "run", progress=False)
    finally:
        torch.set_num_threads(old)
    return root / "run"


def record(ts: str, **fields: Any) -> dict[str, Any]:
    return {"metric": "fvd", "protocol": "mocogan-hd", "timestamp": ts, **PROV, **fields}


def make_store(root: Path, run: Path) -> dict[str, Any]:
    """Result lines: two ablation rows scored through ``checkpoint:RUN`` (one at two training
    steps), a benchmark row scored on an array of clips, a row no table shows (its model is
    gone), one line given by ``runs`` only, and a damaged line."""
    from vidbench.data.sources import open_source
    from vidbench.data.writers import write_array
    import numpy as np

    baseline = open_source("shapes:num_videos=3,length=8,resolution=32,seed=5")
    clips = np.stack([baseline[i] for i in range(3)])
    write_array(root / "baseline.npy", clips)
    ckpt = f"checkpoint:{run}:num_videos=16,seed=0,convention=round"
    lines = [
        record("2024-01-01T00:00:00+00:00", experiment="ablation", dataset="shapes",
               variant="full-256", value=812.5, num_fake=16, num_real=16, seed=0,
               overrides={"num_fake": 16, "num_real": 16}, cell="ablation/full-256/fvd",
               fake={"spec": ckpt, "motion": {"step": 2}}, real={"spec": REAL}),
        record("2024-01-02T00:00:00+00:00", experiment="ablation", dataset="shapes",
               variant="full-256", value=790.25, num_fake=16, num_real=16, seed=0,
               overrides={"num_fake": 16, "num_real": 16}, cell="ablation/full-256/fvd",
               fake={"spec": ckpt, "motion": {"step": 3}}, real={"spec": REAL}),
        record("2024-01-03T00:00:00+00:00", experiment="ablation", dataset="shapes",
               variant="no-eqn2", value=901.0, cell="ablation/no-eqn2/fvd"),
        record("2024-01-04T00:00:00+00:00", experiment="benchmark", dataset="ucf101",
               method="tganv2", value=1500.0, cell="benchmark/tganv2/fvd",
               fake={"spec": str(root / "baseline.npy")}, real={"spec": REAL}),
        record("2024-01-05T00:00:00+00:00", experiment="custom", variant="gone", value=5.0,
               fake={"spec": f"checkpoint:{root / 'no-such-run'}:seed=0"}),
    ]
    path = root / "results" / "store.jsonl"
    for line in lines:
        R.append_result(path, line)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"metric": "fvd", "protocol"\n')                  # a damaged line
    return {"path": path, "records": lines, "runs": {"no-eqn2": str(run)},
            "baseline": clips, "ckpt": ckpt}


@contextlib.contextmanager
def one_torch_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Page(HTMLParser):
    """A report page read back: nesting errors, ids, links, media and the results tables."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.links: list[str] = []
        self.media: list[tuple[str, dict[str, str]]] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.tables: dict[str, list[list[dict[str, str]]]] = {}
        self._table: str | None = None
        self._cell: dict[str, str] | None = None
        self.feed(text)
        self.close()
        if self.stack:
            self.errors.append(f"unclosed at the end: {self.stack}")

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag not in VOID:
            self.stack.append(tag)
        if "id" in a:
            self.ids.append(a["id"])
        if "href" in a:
            self.links.append(a["href"])
        if tag in ("img", "video", "source", "audio", "iframe", "embed"):
            self.media.append((tag, a))
        if tag == "table" and "results" in a.get("class", "").split():
            self._table = a["data-table"]
            self.tables[self._table] = []
        elif self._table and tag == "tr":
            self.tables[self._table].append([])
        elif self._table and tag in ("td", "th"):
            self._cell = {"tag": tag, "class": a.get("class", ""),
                          "title": a.get("title", ""), "text": ""}

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()
        if tag == "table":
            self._table = None
        if tag in ("td", "th") and self._cell is not None:
            self._cell["text"] = self._cell["text"].strip()
            self.tables[self._table][-1].append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data
