"""The MoCoGAN-HD paper's tables, rendered from result lines and the paper's reported numbers.

A pure renderer (STYLE.md principle 10): it reads records of the results store
(:mod:`vidbench.results`) and the constants of :mod:`baselines.reported`, and computes nothing.
A column is one (metric, protocol): the paper's numbers form their own column per metric,
every cell of it marked ``†`` (reported, not measured); each protocol vidbench measured under
gets its own column (``FVD ↓ [mocogan-hd]``), so numbers under different protocols never
share a column (ARCHITECTURE.md, "Protocols are named"; DATA_AND_BASELINES.md §4.3).

Measured cells come from result lines whose ``experiment`` is the table's (e.g.
``ablation-ucf101``), placed in the row named by the line's ``method`` or ``variant`` (the
table's row field; ``vidbench table list`` shows the names of the paper's rows). Where several
lines fill one cell the latest (by ``timestamp``) is shown and the others are counted in a
note; a value whose sample counts differ from its protocol's is marked ``‡``.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any, Sequence

from baselines.reported import MEASURED, PAPER, QUOTED, ReportedNumber, reported
from vidbench import results as R
from vidbench.errors import VidbenchError

FORMATS = ("text", "markdown", "csv", "json")
REPORTED_MARK = "†"
OVERRIDE_MARK = "‡"
MISSING = "–"
METRIC_LABELS = {"isv": "IS", "fvd": "FVD", "acd": "ACD", "psnr": "PSNR", "ssim": "SSIM", "fid": "FID"}
HIGHER_IS_BETTER = {"isv": True, "fvd": False, "acd": False, "psnr": True, "ssim": True, "fid": False}
DECIMALS = {"isv": 2, "fvd": 2, "acd": 4, "psnr": 3, "ssim": 3, "fid": 2}
PROVENANCE_FIELDS = (R.KEY_PROTOCOL, R.KEY_CELL, R.KEY_NUM_FAKE, R.KEY_NUM_REAL, R.KEY_SEED,
                     R.KEY_NUM_RUNS, R.KEY_STD, R.KEY_OVERRIDES, R.KEY_TIMESTAMP,
                     R.KEY_GIT_COMMIT, R.KEY_GIT_DIRTY, R.KEY_DEVICE)


@dataclass(frozen=True)
class TableSpec:
    """One of the paper's tables: which reported numbers and which result lines fill it."""

    name: str
    aliases: tuple[str, ...]
    title: str
    table_id: str                 # baselines.reported table id
    experiment: str               # result lines with this "experiment"
    row_field: str                # "method", "variant" or "dataset"
    metrics: tuple[str, ...]      # column groups, in order


TABLES: dict[str, TableSpec] = {t.name: t for t in (
    TableSpec("ucf101", ("fvd",), "Tab. 2 — UCF-101", "tab2-ucf101", "ucf101", "method",
              ("isv", "fvd")),
    TableSpec("faceforensics", (), "Tab. 2 — FaceForensics", "tab2-faceforensics",
              "faceforensics", "method", ("fvd", "acd")),
    TableSpec("sky", (), "Tab. 3 — Sky Time-lapse (FVD; video prediction PSNR, SSIM)",
              "tab3-sky", "sky", "method", ("fvd", "psnr", "ssim")),
    TableSpec("ablation", (), "Tab. 5 — UCF-101 ablation (frames resized to 128² for evaluation)",
              "tab5-ablation-ucf101", "ablation-ucf101", "variant", ("isv", "fvd")),
    TableSpec("cross-domain", (), "Tab. 5 — (FFHQ, VoxCeleb) ablation", "tab5-cross-domain",
              "cross-domain-ffhq-voxceleb", "variant", ("acd",)),
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

    @property
    def kind(self) -> str:
        return "reported" if self.protocol is None else "measured"

    @property
    def label(self) -> str:
        name = METRIC_LABELS.get(self.metric, self.metric.upper())
        arrow = {True: " ↑", False: " ↓"}.get(HIGHER_IS_BETTER.get(self.metric), "")
        return f"{name}{arrow} " + ("(paper)" if self.protocol is None else f"[{self.protocol}]")


@dataclass(frozen=True)
class Cell:
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
    cells: dict[tuple[str, int], Cell]
    legend: list[str]
    notes: list[str]

    def cell(self, row_key: str, column: int) -> Cell:
        return self.cells.get((row_key, column), Cell(MISSING, "empty"))


def _reported_cell(r: ReportedNumber) -> Cell:
    return Cell(f"{r.printed} {REPORTED_MARK}", "reported", r.value, r.pm,
                {"paper": r.paper, "table": r.table, "row": r.row, "column": r.column,
                 "printed": r.printed, "origin": r.origin, **({"note": r.note} if r.note else {})})


def _measured_cell(rec: dict[str, Any]) -> Cell:
    metric, value = rec[R.KEY_METRIC], float(rec[R.KEY_VALUE])
    d = DECIMALS.get(metric, 4)
    std = rec.get(R.KEY_STD) if (rec.get(R.KEY_NUM_RUNS) or 1) > 1 else None
    text = f"{value:.{d}f}" + (f" ± {float(std):.{d}f}" if std is not None else "")
    if rec.get(R.KEY_OVERRIDES):
        text += f" {OVERRIDE_MARK}"
    return Cell(text, "measured", value, None if std is None else float(std),
                {k: rec[k] for k in PROVENANCE_FIELDS if k in rec})


def _rows(names: list[str]) -> str:
    return ("row " if len(names) == 1 else "rows ") + ", ".join(names)


def build_table(name: str, records: Sequence[dict[str, Any]]) -> Table:
    """The table ``name`` from result ``records`` and the paper's numbers (module docstring)."""
    spec = get_table(name)
    paper = [r for r in reported(spec.table_id) if r.metric in spec.metrics]
    mine = [r for r in records if r.get(R.KEY_EXPERIMENT) == spec.experiment
            and r.get(R.KEY_METRIC) in spec.metrics]
    notes: list[str] = []
    placed = [r for r in mine if isinstance(r.get(spec.row_field), str) and r[spec.row_field]]
    if len(placed) < len(mine):
        notes.append(f"{len(mine) - len(placed)} result line(s) of experiment "
                     f"{spec.experiment!r} have no {spec.row_field!r} and are not shown")
    mine = placed

    columns: list[Column] = []
    for metric in spec.metrics:
        if any(r.metric == metric for r in paper):
            columns.append(Column(metric, None))
        protocols = sorted({r[R.KEY_PROTOCOL] for r in mine if r[R.KEY_METRIC] == metric})
        columns.extend(Column(metric, p) for p in protocols)
    index = {(c.metric, c.protocol): i for i, c in enumerate(columns)}

    rows: dict[str, str] = {}
    for r in paper:
        rows.setdefault(r.row_key, r.row)
    for key in sorted({r[spec.row_field] for r in mine} - set(rows)):
        rows[key] = key

    cells: dict[tuple[str, int], Cell] = {}
    for r in paper:
        cells[(r.row_key, index[(r.metric, None)])] = _reported_cell(r)
    by_cell: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in mine:
        column = index[(r[R.KEY_METRIC], r[R.KEY_PROTOCOL])]
        by_cell.setdefault((r[spec.row_field], column), []).append(r)
    for where, recs in by_cell.items():
        # the latest by timestamp (ISO 8601 UTC strings sort in time order); ties: file order
        order = sorted(range(len(recs)), key=lambda i: (str(recs[i].get(R.KEY_TIMESTAMP, "")), i))
        latest = recs[order[-1]]
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
    legend.append(f"METRIC [protocol]: measured by vidbench under that named protocol, from "
                  f"result lines with experiment {spec.experiment!r} (± std over runs where the "
                  f"protocol repeats)" if mine else
                  f"no result lines with experiment {spec.experiment!r}: nothing measured yet")
    if any(c.kind == "measured" and OVERRIDE_MARK in c.text for c in cells.values()):
        legend.append(f"{OVERRIDE_MARK} sample counts differ from the protocol's: not comparable "
                      "with numbers under it")
    legend.append(f"{MISSING} not reported / not measured")
    return Table(spec, columns, list(rows.items()), cells, legend, notes)


def _grid(table: Table, empty: str = MISSING) -> tuple[list[str], list[list[str]]]:
    header = [table.spec.row_field] + [c.label for c in table.columns]
    body = [[label] + [table.cell(key, i).text if (key, i) in table.cells else empty
                       for i in range(len(table.columns))] for key, label in table.rows]
    return header, body


def render_markdown(table: Table) -> str:
    header, body = _grid(table)
    esc = lambda s: s.replace("|", "\\|")   # noqa: E731
    lines = [f"### {table.spec.title}", "",
             "| " + " | ".join(map(esc, header)) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(esc, row)) + " |" for row in body]
    lines += [""] + [x for line in table.legend + table.notes for x in (line, "")]
    return "\n".join(lines).rstrip("\n") + "\n"


def render_text(table: Table) -> str:
    header, body = _grid(table)
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    fmt = lambda row: "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()  # noqa: E731
    lines = [table.spec.title, "", fmt(header), "  ".join("-" * w for w in widths)]
    lines += [fmt(r) for r in body] + [""] + table.legend + table.notes
    return "\n".join(lines) + "\n"


def render_csv(table: Table) -> str:
    header, body = _grid(table, empty="")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    return buf.getvalue()


def table_dict(table: Table) -> dict[str, Any]:
    return {
        "table": table.spec.name, "title": table.spec.title, "paper_table": table.spec.table_id,
        "experiment": table.spec.experiment, "row_field": table.spec.row_field,
        "columns": [{"label": c.label, "metric": c.metric, "protocol": c.protocol,
                     "kind": c.kind} for c in table.columns],
        "rows": [{"key": key, "label": label,
                  "cells": [{"text": c.text, "kind": c.kind, "value": c.value, "std": c.std,
                             "provenance": c.provenance}
                            for c in (table.cell(key, i) for i in range(len(table.columns)))]}
                 for key, label in table.rows],
        "legend": table.legend, "notes": table.notes}


def render(table: Table, fmt: str = "text") -> str:
    if fmt == "markdown":
        return render_markdown(table)
    if fmt == "csv":
        return render_csv(table)
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
                   f"    result lines: experiment={spec.experiment!r}, row from "
                   f"{spec.row_field!r}, metrics {', '.join(spec.metrics)}\n"
                   f"    paper rows ({spec.row_field}): {', '.join(rows)}")
    return "\n".join(out) + "\n"
