"""The MoCoGAN-HD paper's tables, rendered from result lines and the paper's reported numbers.

A pure renderer: it reads records of the results store (:mod:`vidbench.evaluation.records`)
and the constants of :mod:`vidbench.baselines.reported`, and computes nothing. A column is one
(metric, protocol), so numbers under different protocols never share a column; reported
cells are marked ``†``.

How measured lines are placed in rows and columns, marks and renderers: docs/protocols.md,
*How the tables place numbers*; docs/datasets.md, *How reported numbers are shown*.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence

from vidbench.baselines.reported import MEASURED, PAPER, QUOTED, ReportedNumber, reported
from vidbench.evaluation import records as R
from vidbench.report.formats import MISSING, count_notes, render_csv, render_latex, table_grid
from vidbench.utils.errors import VidbenchError

FORMATS = ("text", "markdown", "md", "csv", "latex", "json")
EXTENSIONS = {"text": "txt", "markdown": "md", "md": "md", "csv": "csv", "latex": "tex",
              "json": "json"}
REPORTED_MARK = "†"
OVERRIDE_MARK = "‡"
METRIC_LABELS = {"isv": "IS", "fvd": "FVD", "acd": "ACD", "psnr": "PSNR", "ssim": "SSIM",
                 "fid": "FID", "diversity": "Diversity"}
HIGHER_IS_BETTER = {"isv": True, "fvd": False, "acd": False, "psnr": True, "ssim": True,
                    "fid": False, "diversity": True}
DECIMALS = {"isv": 2, "fvd": 2, "acd": 4, "psnr": 3, "ssim": 3, "fid": 2, "diversity": 4}
PROVENANCE_FIELDS = (R.KEY_PROTOCOL, R.KEY_CELL, R.KEY_NUM_FAKE, R.KEY_NUM_REAL, R.KEY_SEED,
                     R.KEY_NUM_RUNS, R.KEY_STD, R.KEY_OVERRIDES, R.KEY_TIMESTAMP,
                     R.KEY_GIT_COMMIT, R.KEY_GIT_DIRTY, R.KEY_DEVICE)


@dataclass(frozen=True)
class TableSpec:
    """One of the paper's tables: which reported numbers and which result lines fill it."""

    name: str
    aliases: tuple[str, ...]
    title: str
    table_id: str                 # vidbench.baselines.reported table id
    experiment: str               # result lines with this "experiment"
    row_field: str                # "method", "variant" or "dataset"
    metrics: tuple[str, ...]      # column groups, in order
    families: tuple[str, ...] = ()  # `vidbench run` experiments whose lines it shows
    dataset: str = ""             # the paper's data set for it


TABLES: dict[str, TableSpec] = {t.name: t for t in (
    TableSpec("ucf101", ("fvd", "is"), "Tab. 2 — UCF-101", "tab2-ucf101", "ucf101", "method",
              ("isv", "fvd"), ("benchmark",), "ucf101"),
    TableSpec("faceforensics", ("acd",), "Tab. 2 — FaceForensics", "tab2-faceforensics",
              "faceforensics", "method", ("fvd", "acd"), ("benchmark",), "faceforensics"),
    TableSpec("sky", ("prediction",), "Tab. 3 — Sky Time-lapse (FVD; video prediction PSNR, "
              "SSIM)", "tab3-sky", "sky", "method", ("fvd", "psnr", "ssim"),
              ("benchmark", "prediction"), "sky"),
    TableSpec("ablation", (), "Tab. 5 — UCF-101 ablation (frames resized to 128² for evaluation)",
              "tab5-ablation-ucf101", "ablation-ucf101", "variant", ("isv", "fvd"),
              ("ablation",), "ucf101"),
    TableSpec("cross-domain", (), "Tab. 5 — (FFHQ, VoxCeleb) ablation", "tab5-cross-domain",
              "cross-domain-ffhq-voxceleb", "variant", ("acd", "diversity"),
              ("cross-domain", "diversity"), "voxceleb"),
    TableSpec("image-fid", (), "Tab. 7 — FID of the StyleGAN2 image generators", "tab7-fid",
              "image-generators", "dataset", ("fid",)),
)}


def get_table(name: str) -> TableSpec:
    for spec in TABLES.values():
        if name == spec.name or name in spec.aliases:
            return spec
    names = [n for s in TABLES.values() for n in (s.name, *s.aliases)]
    raise VidbenchError(f"unknown table {name!r}; valid: {', '.join(names)}, list")


@dataclass(frozen=True)
class Column:
    metric: str
    protocol: str | None          # None: the paper's reported numbers
    dataset: str | None = None    # None: the table's own data set

    @property
    def kind(self) -> str:
        return "reported" if self.protocol is None else "measured"

    @property
    def label(self) -> str:
        name = METRIC_LABELS.get(self.metric, self.metric.upper())
        arrow = {True: " ↑", False: " ↓"}.get(HIGHER_IS_BETTER.get(self.metric), "")
        if self.protocol is None:
            return f"{name}{arrow} (paper)"
        return f"{name}{arrow} [{self.protocol}" + (f", {self.dataset}]" if self.dataset else "]")


@dataclass(frozen=True)
class TableCell:
    text: str                     # as displayed, markers included
    kind: str                     # reported | measured | empty
    value: float | None = None
    std: float | None = None
    provenance: dict[str, Any] = field(default_factory=dict)


@dataclass
class Table:
    spec: TableSpec
    columns: list[Column]
    rows: list[tuple[str, str]]                     # (row key, label)
    cells: dict[tuple[str, int], TableCell]
    legend: list[str]
    notes: list[str]

    def cell(self, row_key: str, column: int) -> TableCell:
        return self.cells.get((row_key, column), TableCell(MISSING, "empty"))


def _reported_cell(r: ReportedNumber) -> TableCell:
    return TableCell(f"{r.printed} {REPORTED_MARK}", "reported", r.value, r.pm,
                     {"paper": r.paper, "table": r.table, "row": r.row, "column": r.column,
                      "printed": r.printed, "origin": r.origin,
                      **({"note": r.note} if r.note else {})})


def _measured_cell(rec: dict[str, Any]) -> TableCell:
    metric, value = rec[R.KEY_METRIC], float(rec[R.KEY_VALUE])
    d = DECIMALS.get(metric, 4)
    std = rec.get(R.KEY_STD) if (rec.get(R.KEY_NUM_RUNS) or 1) > 1 else None
    text = f"{value:.{d}f}" + (f" ± {float(std):.{d}f}" if std is not None else "")
    if rec.get(R.KEY_OVERRIDES):
        text += f" {OVERRIDE_MARK}"
    return TableCell(text, "measured", value, None if std is None else float(std),
                     {k: rec[k] for k in PROVENANCE_FIELDS if k in rec})


def _rows(names: list[str]) -> str:
    return ("row " if len(names) == 1 else "rows ") + ", ".join(names)


def measured_dataset(rec: dict[str, Any], spec: TableSpec) -> str | None:
    """The data set a result line measured, when the line belongs in table ``spec``."""
    exp = rec.get(R.KEY_EXPERIMENT)
    if exp == spec.experiment:
        return rec.get(R.KEY_DATASET) or spec.dataset
    if exp not in spec.families or not isinstance(rec.get(R.KEY_DATASET), str):
        return None
    ds = rec[R.KEY_DATASET]
    # A data set with its own table in this family (faceforensics in a `benchmark` line)
    # belongs there; any other data set (shapes) is shown in every table of the family.
    elsewhere = {t.dataset for t in TABLES.values() if t is not spec and exp in t.families}
    return None if ds != spec.dataset and ds in elsewhere else ds


def build_table(name: str, records: Sequence[dict[str, Any]], dataset: str | None = None
                ) -> Table:
    """The table ``name`` from result ``records`` and the paper's numbers (docs/protocols.md,
    *How the tables place numbers*);
    ``dataset`` keeps only the lines measured on that data set."""
    spec = get_table(name)
    paper = [r for r in reported(spec.table_id) if r.metric in spec.metrics]
    mine: list[tuple[str | None, dict[str, Any]]] = []
    for r in records:
        ds = measured_dataset(r, spec) if r.get(R.KEY_METRIC) in spec.metrics else None
        if ds is not None and (dataset is None or ds == dataset):
            own = ds == spec.dataset or spec.row_field == R.KEY_DATASET
            # a line made at a reduced preset (the demo's `tiny`) says so in its column
            tag = f"{ds}, {r['preset']}" if isinstance(r.get("preset"), str) else ds
            mine.append((None if own else tag, r))
    notes: list[str] = []
    unplaced: dict[str, int] = {}
    for _, r in mine:
        if not (isinstance(r.get(spec.row_field), str) and r[spec.row_field]):
            unplaced[r[R.KEY_EXPERIMENT]] = unplaced.get(r[R.KEY_EXPERIMENT], 0) + 1
    notes += [f"{n} result line(s) of experiment {exp!r} have no {spec.row_field!r} and are "
              "not shown" for exp, n in unplaced.items()]
    mine = [(d, r) for d, r in mine if isinstance(r.get(spec.row_field), str)
            and r[spec.row_field]]

    columns: list[Column] = []
    for metric in spec.metrics:
        if any(r.metric == metric for r in paper):
            columns.append(Column(metric, None))
        keys = {(d is not None, d or "", r[R.KEY_PROTOCOL]) for d, r in mine
                if r[R.KEY_METRIC] == metric}
        columns.extend(Column(metric, p, d or None) for _, d, p in sorted(keys))
    index = {(c.metric, c.protocol, c.dataset): i for i, c in enumerate(columns)}

    rows: dict[str, str] = {}
    for r in paper:
        rows.setdefault(r.row_key, r.row)
    labels = {r[spec.row_field]: r.get(R.KEY_ROW_LABEL) for _, r in mine}
    for key in sorted(set(labels) - set(rows)):
        rows[key] = labels[key] or key               # a row the paper does not have

    cells: dict[tuple[str, int], TableCell] = {}
    for r in paper:
        cells[(r.row_key, index[(r.metric, None, None)])] = _reported_cell(r)
    by_cell: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for d, r in mine:
        column = index[(r[R.KEY_METRIC], r[R.KEY_PROTOCOL], d)]
        by_cell.setdefault((r[spec.row_field], column), []).append(r)
    shown: dict[tuple[str, int], dict[str, Any]] = {}
    for where, recs in by_cell.items():
        # the latest by timestamp (ISO 8601 UTC strings sort in time order); ties: file order
        order = sorted(range(len(recs)), key=lambda i: (str(recs[i].get(R.KEY_TIMESTAMP, "")), i))
        latest = recs[order[-1]]
        shown[where] = latest
        cells[where] = _measured_cell(latest)
        if len(recs) > 1:
            notes.append(f"{rows[where[0]]} / {columns[where[1]].label}: {len(recs)} result "
                         "lines; the latest is shown")

    tables = sorted({r.table for r in paper})
    legend = [f"{REPORTED_MARK} reported in the paper, not measured by vidbench: {PAPER}, "
              f"{', '.join(tables)}"]
    quoted = list(dict.fromkeys(r.row for r in paper if r.origin == QUOTED))
    if quoted:
        legend.append(f"{REPORTED_MARK} {_rows(quoted)}: quoted by the paper from earlier papers "
                      "[inferred]")
    unstated = list(dict.fromkeys(r.row for r in paper if r.origin not in (MEASURED, QUOTED)))
    if unstated:
        legend.append(f"{REPORTED_MARK} {_rows(unstated)}: the paper does not say who measured "
                      f"{'it' if len(unstated) == 1 else 'them'}")
    experiments = ", ".join(repr(e) for e in dict.fromkeys(r[R.KEY_EXPERIMENT] for _, r in mine))
    legend.append(f"METRIC [protocol]: measured by vidbench under that named protocol, from "
                  f"result lines with experiment {experiments} (± std over runs where the "
                  f"protocol repeats)" if mine else
                  f"no result lines with experiment {spec.experiment!r}"
                  + "".join(f" or {f!r}" for f in spec.families) + ": nothing measured yet")
    if any(c.dataset for c in columns):
        legend.append(f"METRIC [protocol, dataset]: measured on that data set, not on the "
                      f"paper's ({spec.dataset}): compare it only within its column")
    if any(c.kind == "measured" and OVERRIDE_MARK in c.text for c in cells.values()):
        legend.append(f"{OVERRIDE_MARK} sample counts differ from the protocol's: not comparable "
                      "with numbers under it")
    legend += count_notes(columns, rows, shown)
    legend.append(f"{MISSING} not reported / not measured")
    return Table(spec, columns, list(rows.items()), cells, legend, notes)


def render_markdown(table: Table) -> str:
    header, body = table_grid(table)
    esc = lambda s: s.replace("|", "\\|")   # noqa: E731
    lines = [f"### {table.spec.title}", "",
             "| " + " | ".join(map(esc, header)) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(esc, row)) + " |" for row in body]
    lines += [""] + [x for line in table.legend + table.notes for x in (line, "")]
    return "\n".join(lines).rstrip("\n") + "\n"


def render_text(table: Table) -> str:
    header, body = table_grid(table)
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    fmt = lambda row: "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()  # noqa: E731
    lines = [table.spec.title, "", fmt(header), "  ".join("-" * w for w in widths)]
    lines += [fmt(r) for r in body] + [""] + table.legend + table.notes
    return "\n".join(lines) + "\n"


def table_dict(table: Table) -> dict[str, Any]:
    return {
        "table": table.spec.name, "title": table.spec.title, "paper_table": table.spec.table_id,
        "experiment": table.spec.experiment, "row_field": table.spec.row_field,
        "columns": [{"label": c.label, "metric": c.metric, "protocol": c.protocol,
                     "dataset": c.dataset, "kind": c.kind} for c in table.columns],
        "rows": [{"key": key, "label": label,
                  "cells": [{"text": c.text, "kind": c.kind, "value": c.value, "std": c.std,
                             "provenance": c.provenance}
                            for c in (table.cell(key, i) for i in range(len(table.columns)))]}
                 for key, label in table.rows],
        "legend": table.legend, "notes": table.notes}


def render(table: Table, fmt: str = "text") -> str:
    if fmt in ("markdown", "md"):
        return render_markdown(table)
    if fmt == "csv":
        return render_csv(table)
    if fmt == "latex":
        return render_latex(table)
    if fmt == "json":
        return json.dumps(table_dict(table), ensure_ascii=False, indent=1) + "\n"
    if fmt == "text":
        return render_text(table)
    raise VidbenchError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")


def list_tables() -> str:
    """Every table: names, the experiment its result lines need and the paper's row names."""
    out = []
    for spec in TABLES.values():
        rows = list(dict.fromkeys(r.row_key for r in reported(spec.table_id)))
        names = ", ".join((spec.name, *spec.aliases))
        out.append(f"{names}: {spec.title}\n"
                   f"    result lines: experiment={spec.experiment!r}"
                   + "".join(f" or {f!r} (with dataset)" for f in spec.families)
                   + f", row from {spec.row_field!r}, metrics {', '.join(spec.metrics)}\n"
                   f"    paper rows ({spec.row_field}): {', '.join(rows)}")
    return "\n".join(out) + "\n"
