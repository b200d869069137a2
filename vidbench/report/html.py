"""The HTML of ``vidbench report`` (:mod:`vidbench.report.site`): one page, no external resources.

Plain string building with :func:`html.escape` on every value. Tables reuse the cells of
:mod:`vidbench.report.tables` (``cell measured`` / ``cell reported`` / ``cell empty`` classes, the
displayed text with its ``†``/``‡`` marks, the cell's provenance in its ``title`` and again in
a details block). The inline script (:data:`CHECK_SCRIPT`) runs after the page loaded: it
counts pictures and videos that decoded (``img.complete && naturalWidth > 0``; ``video``
``readyState >= 2`` without error) and table cells that are empty, and writes
``data-media-ok="OK/TOTAL"``, ``data-media-broken`` (their ``src``), ``data-cells``,
``data-cells-empty``, ``data-page-height`` (CSS pixels, for a whole-page screenshot) and
finally ``data-check="done"`` on ``<body>``, so a headless browser's DOM dump says whether the
page is whole.
"""
from __future__ import annotations

import json
from html import escape
from typing import Any, Mapping, Sequence

from vidbench.evaluation import records as R
from vidbench.report.media import Media
from vidbench.report.tables import Table

TILE_HEIGHT = 112                   # CSS pixels: every clip is shown at this height

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1200px;padding:0 18px 40px;color:#1b1b1b;background:#fff;line-height:1.4}
h1{margin:18px 0 4px}h2{border-bottom:2px solid #ddd;padding-bottom:3px;margin-top:34px}
.meta,.source,.note,.legend{color:#555;font-size:13px;overflow-wrap:anywhere}
.note{color:#8a4b00}
nav{font-size:13px;margin:10px 0}nav a{margin-right:10px}
#media-status{font-size:13px;font-weight:600}
table.results{border-collapse:collapse;font-size:14px;margin:6px 0}
table.results th,table.results td{border:1px solid #ccc;padding:3px 9px;text-align:right}
table.results th[scope=row]{text-align:left;font-weight:600}
table.results thead th{background:#f1f1f1;text-align:center}
td.measured{background:#e8f4ea;font-weight:600}td.reported{color:#555}
td.empty{color:#aaa}th.col-measured{background:#d9eedd!important}
table.prov,table.recs{border-collapse:collapse;font-size:12px}
table.prov td,table.prov th,table.recs td,table.recs th{border:1px solid #e2e2e2;
padding:2px 6px;vertical-align:top;text-align:left}
pre{margin:0;font-size:11px;white-space:pre-wrap}
article.gallery{border:1px solid #e4e4e4;border-radius:6px;padding:4px 14px 12px;margin:16px 0}
.strip{display:flex;flex-wrap:wrap;align-items:flex-start;gap:8px;margin:6px 0}
.strip-label{width:82px;font-size:13px;font-weight:600;padding-top:4px}
figure{margin:0;font-size:11px;color:#555;max-width:460px}
figure.tile{width:min-content;min-width:TILEpx}
img.clip,video.clip{height:TILEpx;width:auto;image-rendering:pixelated;display:block;
background:#000}
img.plot{display:block;max-width:100%;height:auto}
h4{margin:12px 0 4px;font-size:14px}
""".replace("TILE", str(TILE_HEIGHT))

CHECK_SCRIPT = """
(function () {
  function status() {
    var media = Array.prototype.slice.call(document.querySelectorAll('img, video'));
    var ok = 0, pending = 0, broken = [];
    media.forEach(function (m) {
      var good, waiting = false;
      if (m.tagName === 'IMG') { good = m.complete && m.naturalWidth > 0; }
      else { good = m.readyState >= 2 && !m.error; waiting = !good && !m.error; }
      if (good) { ok++; } else { broken.push(m.getAttribute('src')); if (waiting) pending++; }
    });
    var cells = document.querySelectorAll('table.results td, table.results th');
    var empty = 0;
    Array.prototype.forEach.call(cells, function (c) { if (!c.textContent.trim()) empty++; });
    var b = document.body;
    b.setAttribute('data-media-ok', ok + '/' + media.length);
    b.setAttribute('data-media-broken', broken.join(' '));
    b.setAttribute('data-cells', String(cells.length));
    b.setAttribute('data-cells-empty', String(empty));
    b.setAttribute('data-page-height', String(document.documentElement.scrollHeight));
    var line = document.getElementById('media-status');
    if (line) {
      line.textContent = 'media loaded: ' + ok + ' of ' + media.length +
        (broken.length ? ' (not loaded: ' + broken.join(', ') + ')' : '') +
        '; table cells: ' + cells.length + (empty ? ', ' + empty + ' empty' : '');
      line.style.color = broken.length || empty ? '#b00020' : '#1d7a32';
    }
    return pending;
  }
  window.addEventListener('load', function () {
    var tries = 0;
    (function again() {
      if (status() > 0 && tries++ < 100) { setTimeout(again, 100); }
      else { document.body.setAttribute('data-check', 'done'); }
    })();
  });
})();
"""

ROW_FIELDS = (R.KEY_VARIANT, R.KEY_METHOD, R.KEY_DATASET)


def row_of(record: dict[str, Any]) -> str:
    """The row name of a result line no table places: its variant, method, data set or cell."""
    for k in ROW_FIELDS + (R.KEY_CELL,):
        if isinstance(record.get(k), str) and record[k]:
            return record[k]
    return "(no row)"


def e(x: Any) -> str:
    return escape(str(x), quote=True)


def _value_text(v: Any) -> str:
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
    return str(v)


def provenance_text(prov: Mapping[str, Any]) -> str:
    """``key: value`` lines (nested values as compact JSON), for a title attribute."""
    return "\n".join(f"{k}: {_value_text(v)}" for k, v in prov.items())


def media_html(m: Media, css: str = "clip") -> str:
    src, alt = e(m.path), e(m.caption)
    if m.path.endswith(".mp4"):
        return (f'<video class="{css}" src="{src}" autoplay loop muted playsinline '
                f'preload="auto" title="{alt}"></video>')
    size = f' width="{m.width}" height="{m.height}"' if m.width and m.height else ""
    return f'<img class="{css}" src="{src}" alt="{alt}" title="{alt}"{size}>'


def _figure(m: Media, css: str = "clip", tile: bool = False) -> str:
    cls = ' class="tile"' if tile else ""
    return f"<figure{cls}>{media_html(m, css)}<figcaption>{e(m.caption)}</figcaption></figure>"


def table_html(table: Table, anchors: Mapping[str, str]) -> str:
    """One of the paper's tables; row labels link to the row's gallery (``anchors``)."""
    spec = table.spec
    head = [f'<th scope="col">{e(spec.row_field)}</th>'] + [
        f'<th scope="col" class="col-{c.kind}" title="'
        f'{e(provenance_text({"metric": c.metric, "protocol": c.protocol or "(the paper)"}))}">'
        f"{e(c.label)}</th>" for c in table.columns]
    body, prov = [], []
    for key, label in table.rows:
        name = e(label) if key not in anchors else f'<a href="#{e(anchors[key])}">{e(label)}</a>'
        tds = []
        for i, column in enumerate(table.columns):
            cell = table.cell(key, i)
            title = provenance_text(cell.provenance) if cell.provenance else (
                "not reported in the paper and not measured")
            tds.append(f'<td class="cell {e(cell.kind)}" title="{e(title)}">{e(cell.text)}</td>')
            if cell.provenance:
                prov.append(f"<tr><td>{e(label)}</td><td>{e(column.label)}</td>"
                            f"<td>{e(cell.kind)}</td><td><pre>{e(title)}</pre></td></tr>")
        body.append(f'<tr data-row="{e(key)}"><th scope="row">{name}</th>{"".join(tds)}</tr>')
    return "\n".join([
        f'<div class="table-block" id="table-{e(spec.name)}">',
        f"<h3>{e(spec.title)}</h3>",
        f'<table class="results" data-table="{e(spec.name)}"><thead><tr>{"".join(head)}</tr>'
        f'</thead><tbody>{"".join(body)}</tbody></table>',
        '<ul class="legend">' + "".join(f"<li>{e(x)}</li>" for x in table.legend + table.notes)
        + "</ul>",
        '<details class="provenance"><summary>Provenance of every cell</summary>'
        '<table class="prov"><thead><tr><th>row</th><th>column</th><th>kind</th>'
        f'<th>provenance</th></tr></thead><tbody>{"".join(prov)}</tbody></table></details>',
        "</div>"])


RECORD_COLUMNS = ("metric", "protocol", "value", "std", "num_fake", "num_real", "seed",
                  "overrides", "timestamp", "git_commit", "device")


def _cell_of(r: Mapping[str, Any], k: str) -> str:
    return "" if r.get(k) is None else _value_text(r.get(k))


def records_html(records: Sequence[Mapping[str, Any]], css: str = "recs") -> str:
    """Result lines as a table; the whole line is the row's title."""
    head = "".join(f"<th>{e(k)}</th>" for k in RECORD_COLUMNS + ("fake", "real"))
    rows = []
    for r in records:
        full = provenance_text({k: v for k, v in r.items() if k not in ("per_video",
                                                                          "per_frame")})
        cells = [_cell_of(r, k) for k in RECORD_COLUMNS] + [
            _value_text((r.get(side) or {}).get("spec", "")) if isinstance(r.get(side), dict)
            else _cell_of(r, side) for side in (R.KEY_FAKE, R.KEY_REAL)]
        rows.append(f'<tr title="{e(full)}">' + "".join(f"<td>{e(c)}</td>" for c in cells)
                    + "</tr>")
    return (f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}'
            "</tbody></table>")


def _unplaced_html(records: Sequence[Mapping[str, Any]], anchors: Mapping[str, str]) -> str:

    links = "".join(
        f'<li><a href="#{e(a)}">{e(k)}</a></li>' for k, a in anchors.items())
    return ('<section id="other"><h2>Other measured results</h2><p class="meta">Result lines '
            "that none of the paper's tables places (another experiment name, a row field "
            "the table does not read, or a metric it does not show).</p>"
            f'<ul class="legend">{links}</ul>' + records_html(
                [{"row": row_of(dict(r)), **r} for r in records]) + "</section>")


def gallery_html(g: Any) -> str:
    parts = [f'<article class="gallery" id="{e(g.anchor)}"><h3>{e(g.title)}</h3>']
    if g.run_dir:
        s = g.sample
        parts.append(f'<p class="source">model: {e(g.run_dir)} — samples of seed {e(s["seed"])}, '
                     f'noise {e(s["noise"])}, uint8 {e(s["convention"])}</p>')
    elif g.fake_spec:
        parts.append(f'<p class="source">clips: {e(g.fake_spec)}</p>')
    if g.real_spec:
        parts.append(f'<p class="source">real clips: {e(g.real_spec)}</p>')
    parts += [f'<p class="note">{e(n)}</p>' for n in g.notes]
    for key, label in (("real", "real"), ("generated", "generated")):
        if g.media.get(key):
            parts.append(f'<div class="strip"><div class="strip-label">{label}</div>'
                         + "".join(_figure(m, tile=True) for m in g.media[key]) + "</div>")
    for key, heading in (("grids", "Disentanglement"), ("long", "Long videos"),
                         ("plots", "Training")):
        if g.media.get(key):
            css = "plot" if key == "plots" else "clip"
            parts.append(f"<h4>{heading}</h4><div class=\"strip\">"
                         + "".join(_figure(m, css, tile=key == "long") for m in g.media[key])
                         + "</div>")
    if g.records:
        parts.append(f"<details><summary>Result lines ({len(g.records)})</summary>"
                     f"{records_html(g.records)}</details>")
    parts.append("</article>")
    return "\n".join(parts)


def render_page(*, title: str, tables: Sequence[Table], galleries: Sequence[Any],
                unplaced: Sequence[Mapping[str, Any]], problems: Sequence[str],
                sources: Sequence[str], provenance: Mapping[str, Any]) -> str:
    """The whole ``index.html``."""
    by_table = {t.spec.name: {} for t in tables}
    other: dict[str, str] = {}
    for g in galleries:
        if g.table in by_table:
            by_table[g.table].setdefault(g.row, g.anchor)
        elif g.records:
            other[g.title] = g.anchor
    dirty = " (uncommitted changes)" if provenance.get("git_dirty") else ""
    nav = " ".join(f'<a href="#table-{e(t.spec.name)}">{e(t.spec.name)}</a>' for t in tables)
    nav += (" · " if galleries else "") + " ".join(f'<a href="#{e(g.anchor)}">{e(g.title.split(" — ")[-1])}</a>'
                            for g in galleries)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{CSS}</style></head>",
        f'<body data-report="vidbench" data-tables="{len(tables)}" '
        f'data-galleries="{len(galleries)}">',
        f"<header><h1>{e(title)}</h1>",
        f'<p class="meta">made {e(provenance.get("timestamp", ""))} by vidbench at git '
        f'{e(str(provenance.get("git_commit", ""))[:12])}{dirty} from '
        f'{e(", ".join(sources) or "no results")}. Green cells were measured by vidbench '
        f"(hover a cell for its provenance); † marks the paper's reported numbers.</p>",
        '<p id="media-status">checking media…</p>',
        f"<nav>{nav}</nav></header>"]
    if problems:
        parts.append('<section id="problems"><h2>Lines not read</h2><ul class="legend">'
                     + "".join(f"<li>{e(p)}</li>" for p in problems) + "</ul></section>")
    parts.append('<section id="tables"><h2>Tables</h2>')
    parts += [table_html(t, by_table[t.spec.name]) for t in tables]
    parts.append("</section>")
    if unplaced:
        parts.append(_unplaced_html(unplaced, other))
    parts.append('<section id="galleries"><h2>Videos</h2><p class="meta">Each clip loops; '
                 f"every clip is shown {TILE_HEIGHT} px high. The files are lossy "
                 "(GIF/MP4) and for viewing only: metrics are computed from lossless "
                 "samples.</p>")
    parts += [gallery_html(g) for g in galleries]
    if not galleries:
        parts.append('<p class="note">No measured row yet: run an experiment, then make the '
                     "report again.</p>")
    parts.append(f"</section><script>{CHECK_SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"


__all__ = ["CSS", "CHECK_SCRIPT", "TILE_HEIGHT", "provenance_text", "media_html",
           "table_html", "records_html", "gallery_html", "render_page"]
