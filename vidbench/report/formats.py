"""Table renderers built on ``pandas`` (CSV, LaTeX) and the sample-count footnotes.

Used by :mod:`vidbench.report.tables` (which builds the :class:`~vidbench.report.tables.Table`); kept apart
so that the table logic stays readable. :func:`table_frame` is the table as a
``pandas.DataFrame`` of display strings; CSV and LaTeX are written from it (LaTeX: a
``table`` environment with booktabs rules, the legend and notes under the tabular; the marks
†, ‡ and arrows stay UTF-8).
"""
from __future__ import annotations

from typing import Any

from vidbench.evaluation import records as R

MISSING = "–"   # an empty cell: not reported / not measured


def counts_text(rec: dict[str, Any]) -> str | None:
    """The sample counts a result line states, when it states all of its metric's."""
    g = rec.get
    metric, proto = g(R.KEY_METRIC), g("protocol_fields") or {}
    if metric == "fvd" and g(R.KEY_NUM_FAKE) and g(R.KEY_NUM_REAL):
        default = [(proto.get(side) or {}).get("num") for side in ("fake", "real")]
        return f"{g(R.KEY_NUM_FAKE)} fake / {g(R.KEY_NUM_REAL)} real clips" + (
            f" (protocol: {default[0]} / {default[1]})" if g(R.KEY_OVERRIDES) and all(default)
            else "")
    if metric == "isv" and g("num_samples") and g(R.KEY_NUM_RUNS):
        default = (proto.get("num_runs"), proto.get("num_samples"))
        return f"{g(R.KEY_NUM_RUNS)} run(s) x {g('num_samples')} clips" + (
            f" (protocol: {default[0]} x {default[1]})" if g(R.KEY_OVERRIDES) and all(default)
            else "")
    if metric == "acd" and g(R.KEY_NUM_FAKE) and g("per_video"):
        return f"{g(R.KEY_NUM_FAKE)} videos"
    if metric in ("psnr", "ssim", "diversity") and g("num_videos") and g("num_frames"):
        return f"{g('num_videos')} videos x {g('num_frames')} frames"
    return None


def count_notes(columns: list[Any], rows: dict[str, str],
                shown: dict[tuple[str, int], dict[str, Any]]) -> list[str]:
    """One footnote per measured column whose shown lines state their sample counts."""
    notes = []
    for i, col in enumerate(columns):
        texts = [(rows[key], counts_text(rec)) for (key, j), rec in shown.items() if j == i]
        texts = [(row, t) for row, t in texts if t]
        if not texts:
            continue
        if len({t for _, t in texts}) == 1:
            notes.append(f"{col.label}: protocol {col.protocol}, {texts[0][1]}")
        else:
            notes.append(f"{col.label}: protocol {col.protocol}; "
                         + "; ".join(f"{row}: {t}" for row, t in texts))
    return notes


def table_grid(table: Any, empty: str = MISSING) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of display strings of a
    :class:`~vidbench.report.tables.Table` (the row label first); empty cells hold ``empty``."""
    header = [table.spec.row_field] + [c.label for c in table.columns]
    body = [[label] + [table.cell(key, i).text if (key, i) in table.cells else empty
                       for i in range(len(table.columns))] for key, label in table.rows]
    return header, body


def table_frame(table: Any, empty: str | None = None):
    """The table as a ``pandas.DataFrame`` of display strings (the row label first); empty
    cells hold ``empty`` (default: the tables' ``–``)."""
    import pandas as pd

    header, body = table_grid(table, empty=MISSING if empty is None else empty)
    return pd.DataFrame(body, columns=header)


def csv_frame(table: Any):
    """The table for data tools: per column its numeric values (``LABEL``), their std when any
    cell has one (``LABEL std``) and the mark (``LABEL mark``: ``reported``, ``measured`` or
    ``measured, counts overridden``; empty where the cell is). Empty cells are empty."""
    import pandas as pd

    data: dict[str, list[Any]] = {table.spec.row_field: [label for _, label in table.rows]}
    for i, col in enumerate(table.columns):
        cells = [table.cells.get((key, i)) for key, _ in table.rows]
        data[col.label] = [float("nan") if c is None or c.value is None else float(c.value)
                           for c in cells]
        if any(c is not None and c.std is not None for c in cells):
            data[f"{col.label} std"] = [float("nan") if c is None or c.std is None
                                        else float(c.std) for c in cells]
        data[f"{col.label} mark"] = [
            "" if c is None or c.kind == "empty" else
            "measured, counts overridden" if c.kind == "measured" and c.text.endswith("‡")
            else c.kind for c in cells]
    return pd.DataFrame(data)


def render_csv(table: Any) -> str:
    return csv_frame(table).to_csv(index=False, lineterminator="\n")


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def render_latex(table: Any) -> str:
    """A ``table`` environment (booktabs rules, UTF-8 marks) with the legend and notes under
    the tabular."""
    frame = table_frame(table)
    body = frame.to_latex(index=False, escape=True, caption=latex_escape(table.spec.title),
                          label=f"tab:vidbench-{table.spec.name}", position="ht",
                          column_format="l" + "r" * len(table.columns))
    notes = "\n".join(f"\\footnotesize {latex_escape(line)}\\par"
                      for line in table.legend + table.notes)
    head, _, tail = body.rpartition("\\end{table}")
    return f"{head}{notes}\n\\end{{table}}{tail}"
