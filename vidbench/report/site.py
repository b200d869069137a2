"""``vidbench report``: a self-contained static HTML page of the results store and its videos.

Modelled on the page the MoCoGAN-HD authors published next to their paper (tables, then the
videos behind them), built only from what vidbench recorded: the paper's tables as
:mod:`vidbench.report.tables` builds them, and for every measured row a gallery of real and
generated clips, grids, long videos and training curves.

The folder (``index.html``, ``media/``, ``report.json``) fetches nothing from elsewhere and
is renamed into place when complete. Contents, how a row's model is chosen and the folder
rules: docs/protocols.md, *The HTML report*.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from tqdm import tqdm

from vidbench.evaluation import records as R
from vidbench.utils.errors import VidbenchError
from vidbench.report.html import render_page, row_of
from vidbench.report.media import Media, MediaOptions, MediaWriter, model_media, source_clips
from vidbench.report.plots import group_series, line_plot_svg, log_series
from vidbench.report.tables import TABLES, Table, build_table, measured_dataset

DEFAULT_OUT = Path("results") / "report"
INDEX = "index.html"
MANIFEST = "report.json"
REPORT_FORMAT = "vidbench-report/1"


@dataclass
class Gallery:
    """One measured row (or one given run) and the media shown for it."""

    anchor: str
    title: str
    keys: tuple[str, ...]                       # names a ``runs`` entry may use
    records: list[dict[str, Any]]
    table: str | None = None                    # the paper's table that shows the row
    row: str = ""
    run_dir: str | None = None
    fake_spec: str | None = None
    real_spec: str | None = None
    sample: dict[str, Any] = field(default_factory=dict)   # seed, noise, convention, frames
    media: dict[str, list[Media]] = field(default_factory=dict)
    described: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "row"


def _latest(records: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    if not records:
        return None
    return max(enumerate(records), key=lambda p: (str(p[1].get(R.KEY_TIMESTAMP, "")), p[0]))[1]


def _spec_of(side: Any) -> str | None:
    if isinstance(side, dict) and isinstance(side.get("spec"), str):
        return side["spec"]
    return side if isinstance(side, str) else None


def _resolve(g: Gallery, runs: Mapping[str, Any], real_spec: str | None) -> None:
    """Fill the gallery's model, sample options and real clips' spec (docs/protocols.md, *The
    HTML report*: which model a row's gallery shows)."""
    from vidbench.data.sources import parse_spec
    from vidbench.sample.generate import is_checkpoint_path, strip_scheme

    latest = _latest(g.records) or {}
    given = next((runs[k] for k in g.keys if k in runs), None)
    model = latest.get("model") if isinstance(latest.get("model"), dict) else {}
    built = model.get("motion") if isinstance(model.get("motion"), dict) else {}
    run = given or latest.get("run_dir") or latest.get("motion_dir") or built.get("dir")
    spec = _spec_of(latest.get(R.KEY_FAKE))
    options: dict[str, Any] = {}
    if spec is not None:
        head, parsed = parse_spec(spec)
        if head.startswith("checkpoint:") or is_checkpoint_path(head):
            options = parsed
            run = run or strip_scheme(head)
    if run is not None:
        g.run_dir = str(run)
        g.sample = {"seed": int(options.get("seed", latest.get(R.KEY_SEED) or 0)),
                    "noise": options.get("noise", "per_video"),
                    "convention": options.get("convention", "round"),
                    "frames": options.get("frames")}
    else:
        g.fake_spec = spec
    g.real_spec = real_spec or _spec_of(latest.get(R.KEY_REAL))


def _table_records(table: Table, records: Sequence[dict[str, Any]]
                   ) -> list[tuple[dict[str, Any], str]]:
    """(record, data set) of the lines ``table`` places in a row (its own selection rule)."""
    spec = table.spec
    out = []
    for r in records:
        ds = measured_dataset(r, spec) if r.get(R.KEY_METRIC) in spec.metrics else None
        if ds is not None and isinstance(r.get(spec.row_field), str) and r[spec.row_field]:
            out.append((r, ds))
    return out


def _table_galleries(table: Table, records: Sequence[dict[str, Any]]) -> list[Gallery]:
    """One gallery per measured row and data set of ``table``."""
    spec = table.spec
    mine = _table_records(table, records)
    out = []
    for key, label in table.rows:
        if not any(table.cell(key, i).kind == "measured" for i in range(len(table.columns))):
            continue
        by_dataset: dict[str, list[dict[str, Any]]] = {}
        for r, ds in mine:
            if r[spec.row_field] == key:
                by_dataset.setdefault(ds, []).append(r)
        for ds, recs in by_dataset.items():
            own = ds == spec.dataset or len(by_dataset) == 1
            suffix = "" if own else f" (on {ds})"
            anchor = f"{_slug(spec.name)}--{_slug(key)}" + ("" if own else f"--{_slug(ds)}")
            out.append(Gallery(anchor, f"{spec.title} — {label}{suffix}",
                               (f"{spec.name}/{key}", f"{recs[-1][R.KEY_EXPERIMENT]}/{key}", key),
                               recs, table=spec.name, row=key))
    return out


def _unplaced(tables: Sequence[Table], records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    placed = {id(r) for t in tables for r, _ in _table_records(t, records)}
    return [r for r in records if id(r) not in placed]


def _metric_steps(records: Sequence[dict[str, Any]]) -> dict[str, list[tuple[float, float]]]:
    """``METRIC [protocol]`` -> (training step, value) of result lines that know their step
    (``step``, or the scored model's ``fake.motion.step``)."""
    out: dict[str, list[tuple[float, float]]] = {}
    for r in records:
        fake = r.get(R.KEY_FAKE) if isinstance(r.get(R.KEY_FAKE), dict) else {}
        step = r.get("step", (fake.get("motion") or {}).get("step")
                     if isinstance(fake.get("motion"), dict) else None)
        if isinstance(step, (int, float)) and not isinstance(step, bool):
            out.setdefault(f"{r[R.KEY_METRIC]} [{r[R.KEY_PROTOCOL]}]", []).append(
                (float(step), float(r[R.KEY_VALUE])))
    return out


def _plots(g: Gallery, root: Path) -> list[Media]:
    def curve(pts: Sequence[tuple[float, float]]) -> bool:
        return len({x for x, _ in pts}) >= 2        # one step is a number, not a curve

    groups: dict[str, dict[str, Any]] = {}
    if g.run_dir and (Path(g.run_dir) / "log.jsonl").is_file():
        logged = log_series(Path(g.run_dir) / "log.jsonl")
        groups.update(group_series({k: v for k, v in logged.items() if curve(v)}))
        if logged and not groups:
            g.notes.append("the training log has a single step: no curve to plot")
    for name, pts in _metric_steps(g.records).items():
        if curve(pts):
            groups[f"{name} of the result lines"] = {name: pts}
    out = []
    for i, (title, series) in enumerate(groups.items()):
        rel = f"media/{g.anchor}/plot_{i:02d}_{_slug(title)}.svg"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(line_plot_svg(series, title=title, ylabel=title), "utf-8")
        out.append(Media(rel, f"{title} against the training step", "plot"))
    return out


def _fill(g: Gallery, writer: MediaWriter, *, root: str | None, device: str) -> None:
    o = writer.options
    g.media = {"real": [], "generated": [], "grids": [], "long": [], "plots": []}
    if g.run_dir is not None:
        try:
            media, g.described["model"] = model_media(g.run_dir, writer, g.anchor,
                                                      device=device, **g.sample)
            g.media.update(media)
        except (VidbenchError, OSError) as exc:
            g.notes.append(f"generated samples unavailable: {exc}")
    elif g.fake_spec is not None:
        try:
            clips, g.described["fake"] = source_clips(g.fake_spec, o.num_videos, o, root=root)
            g.media["generated"] = [writer.clip(g.anchor, f"generated_{i:02d}", c,
                                                f"clip {i}")
                                    for i, c in enumerate(clips)]
        except (VidbenchError, OSError) as exc:
            g.notes.append(f"clips of {g.fake_spec} unavailable: {exc}")
    else:
        g.notes.append("no model or clip source recorded for this row (give --run ROW=RUN_DIR)")
    if g.real_spec is not None:
        shown = [m.frames for m in g.media["generated"] if m.frames]
        try:    # real clips as long as the generated ones beside them
            clips, g.described["real"] = source_clips(g.real_spec, o.num_videos, o, root=root,
                                                      frames=max(shown, default=None))
            g.media["real"] = [writer.clip(g.anchor, f"real_{i:02d}", c, f"real clip {i}")
                               for i, c in enumerate(clips)]
        except (VidbenchError, OSError) as exc:
            g.notes.append(f"real clips of {g.real_spec} unavailable: {exc}")
    try:
        g.media["plots"] = _plots(g, writer.root)
    except (VidbenchError, OSError, ValueError) as exc:
        g.notes.append(f"training plots unavailable: {exc}")


# A folder holding only a screenshot of an earlier report (as committed in results/demo/report/)
# is the report's own place, not someone else's files.
OWN_FILES = {"screenshot.png"}


def _check_replaceable(out: Path) -> None:
    if out.exists() and (not out.is_dir() or ({p.name for p in out.iterdir()} - OWN_FILES
                                              and not (out / MANIFEST).is_file())):
        raise VidbenchError(f"{out} exists and is not a vidbench report (no {MANIFEST}); "
                            "choose another --out or remove it")


def _replace_folder(tmp: Path, out: Path) -> None:
    _check_replaceable(out)
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
        os.replace(out, old / "x")
        os.replace(tmp, out)
        shutil.rmtree(old)
    else:
        os.replace(tmp, out)


def build_report(results_paths: Iterable[str | os.PathLike],
                 out_dir: str | os.PathLike = DEFAULT_OUT, *,
                 runs: Mapping[str, str | os.PathLike] | None = None,
                 real_spec: str | None = None,
                 root: str | None = None,                 # data set root for real clips
                 tables: Sequence[str] | None = None,     # default: every table
                 options: MediaOptions | None = None,
                 title: str = "vidbench report",
                 device: str = "cpu",
                 progress: bool = True,
                 row_notes: Mapping[str, Sequence[str]] | None = None) -> Path:
    """Write the report folder ``out_dir`` (docs/protocols.md, *The HTML report*); return its
    ``index.html``. ``row_notes``: lines shown under a row's videos, by row name."""
    from vidbench.utils.provenance import provenance

    options = options or MediaOptions()
    out = Path(out_dir)
    _check_replaceable(out)                          # before any work
    runs = {k: str(v) for k, v in (runs or {}).items()}
    if isinstance(results_paths, (str, os.PathLike)):
        results_paths = [results_paths]
    paths = [Path(p) for p in results_paths]
    records, problems = R.read_many(paths)
    built = [build_table(name, records) for name in (tables or list(TABLES))]
    # tables with measured cells first (in the paper's order), then the paper-only ones
    built.sort(key=lambda t: not any(c.kind == "measured" for c in t.cells.values()))
    galleries = [g for t in built for g in _table_galleries(t, records)]
    unplaced = _unplaced(built, records)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in unplaced:
        groups.setdefault((str(r.get(R.KEY_EXPERIMENT, "")), row_of(r)), []).append(r)
    for (exp, row), recs in groups.items():
        galleries.append(Gallery(f"other--{_slug(exp)}--{_slug(row)}",
                                 f"{exp or '(no experiment)'} — {row}", (f"{exp}/{row}", row),
                                 recs, row=row))
    used = {k for g in galleries for k in g.keys if k in runs}
    for key in (k for k in runs if k not in used):
        galleries.append(Gallery(f"run--{_slug(key)}", f"run {key}", (key,), [], row=key))
    seen: set[str] = set()
    for g in galleries:                              # anchors (and media folders) are unique
        base, n = g.anchor, 1
        while g.anchor in seen:
            n += 1
            g.anchor = f"{base}-{n}"
        seen.add(g.anchor)
        _resolve(g, runs, real_spec)
        g.notes.extend((row_notes or {}).get(g.row, ()))

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        writer = MediaWriter(tmp, options)
        for g in tqdm(galleries, desc="report", unit="row", disable=not progress):
            _fill(g, writer, root=root, device=device)
        prov = provenance(device)
        page = render_page(title=title, tables=built, galleries=galleries, unplaced=unplaced,
                           problems=[str(p) for p in problems], sources=[str(p) for p in paths],
                           provenance=prov)
        (tmp / INDEX).write_text(page, encoding="utf-8")
        manifest = {"format": REPORT_FORMAT, "title": title, "results": [str(p) for p in paths],
                    "num_records": len(records), "problems": [str(p) for p in problems],
                    "tables": [t.spec.name for t in built],
                    "galleries": [{"anchor": g.anchor, "title": g.title, "run_dir": g.run_dir,
                                   "fake_spec": g.fake_spec, "real_spec": g.real_spec,
                                   "sample": g.sample, "notes": g.notes,
                                   "media": {k: [m.path for m in v] for k, v in g.media.items()}}
                                  for g in galleries],
                    "options": asdict(options), **prov}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, default=str) + "\n", "utf-8")
        _replace_folder(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out / INDEX


__all__ = ["DEFAULT_OUT", "INDEX", "MANIFEST", "Gallery", "build_report", "row_of",
           "MediaOptions"]
