"""`vidbench ref`: reference statistics as shareable artifacts (compute, export, import, list,
verify)."""
from __future__ import annotations

import json

from vidbench.metrics.protocols import PROTOCOLS
from vidbench.cli import add_command
from vidbench.commands._args import (add_common_args, add_deprecated_alias,
                                     add_deprecated_positional, positive_int, require_option)
from vidbench.utils.distributed import distributed_from_env, is_main


def _compute_kwargs(args) -> dict:
    return dict(protocol=args.protocol, num_real=args.num_real, seed=args.seed,
                batch_size=args.batch_size, num_workers=args.workers, device=args.device,
                root=args.root, skip_bad=args.skip_bad, progress=not args.no_progress)


def _print(record, as_json: bool, line: str) -> None:
    if is_main():
        print(json.dumps(record, default=str) if as_json else line)


def run_compute(args) -> int:
    from vidbench.evaluation.reference import compute_reference

    with distributed_from_env(args.device) as device:
        spec = require_option(args, "dataset", "ref compute", "--dataset SRC", "the real clips")
        rec = compute_reference(spec, use_cache=not args.no_cache, out=args.out,
                                **{**_compute_kwargs(args), "device": device})
    where = rec["out"] or rec["cache_file"]
    _print(rec, args.json, f"{rec['key']}  {rec['num_items']} clips, {rec['protocol']}"
                           f"{' (cached)' if rec['cached'] else ''} -> {where}")
    return 0


def run_export(args) -> int:
    from vidbench.evaluation.reference import export_reference

    rec = export_reference(args.key_or_source, args.file, **_compute_kwargs(args))
    _print(rec, args.json, f"{rec['key']} -> {rec['out']} ({rec['num_items']} clips)")
    return 0


def run_import(args) -> int:
    from vidbench.evaluation.reference import import_reference

    rec = import_reference(args.file)
    _print(rec, args.json, f"{rec['key']} {'imported' if rec['imported'] else 'already cached'}"
                           f" -> {rec['cache_file']}")
    return 0


def run_list(args) -> int:
    from vidbench.evaluation.reference import list_references

    entries = list_references()
    if args.json:
        print(json.dumps({"entries": entries}))
    else:
        for e in entries:
            print(f"{e['key']}  {e['protocol']}  {e['num_items']} clips  {e['created']}")
    return 0


def run_verify(args) -> int:
    from vidbench.evaluation.reference import verify_references

    records = verify_references()
    bad = [r for r in records if not r["ok"]]
    if args.json:
        print(json.dumps({"entries": records, "num_bad": len(bad)}))
    else:
        for r in records:
            print(f"{r['key']}  ok  {r['num_items']} clips" if r["ok"]
                  else f"{r['key']}  BAD  {r['problem']}")
        print(f"{len(records)} entries, {len(bad)} bad"
              + ("; a bad entry is computed again by the next run that needs it" if bad else ""))
    return 1 if bad else 0


def _add_source_args(p) -> None:
    p.add_argument("--protocol", default="mocogan-hd", choices=list(PROTOCOLS),
                   help="named FVD protocol (fixes the extractor and how real clips are drawn)")
    p.add_argument("--num-real", type=positive_int,
                   help="real clips (default: the protocol's count)")
    add_deprecated_alias(p, "--num", "--num-real", dest="num_real", type=positive_int)
    add_common_args(p)


def register(subparsers) -> None:
    parser = add_command(
        subparsers, "ref", help="compute, export, import and list reference statistics",
        description="Reference (real-data) feature statistics are cached by content under "
                    "$VIDBENCH_HOME/cache/stats. These commands make them explicit files that "
                    "can be shared: an export holds the float64 sums, the count, mu, sigma and "
                    "the full key JSON (source fingerprint, extractor and weights sha256, "
                    "protocol fields).",
        example="vidbench ref compute --dataset shapes:motion=circular --protocol tf-reference "
                "--num-real 64 --out circle_ref.npz")
    sub = parser.add_subparsers(dest="ref_command", metavar="ACTION")
    sub.required = True

    p = add_command(sub, "compute", help="compute (or reuse) the statistics of a real source",
                    description="Draw real clips as the protocol says, extract features and "
                                "store the statistics in the cache; print the key.",
                    example="vidbench ref compute --dataset data/ucf101 --protocol mocogan-hd "
                            "--out ucf.npz")
    p.add_argument("--dataset", metavar="SRC",
                   help="real clips (any vidbench data source; required)")
    add_deprecated_positional(p, "SRC", "--dataset", dest="dataset")
    p.add_argument("--out", help="also export the statistics to this .npz")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    _add_source_args(p)
    p.set_defaults(func=run_compute)

    p = add_command(sub, "export", help="write a cache entry (or a source's statistics) to a file",
                    description="KEY (64 hex digits, see `vidbench ref list`) exports that "
                                "entry; anything else is a source computed under --protocol.",
                    example="vidbench ref export 3f2a...e9 ucf_mocogan-hd.npz")
    p.add_argument("key_or_source", metavar="KEY|SRC",
                   help="a cache key (64 hex digits, `vidbench ref list`) or a real source")
    p.add_argument("file", metavar="FILE", help="output .npz")
    _add_source_args(p)
    p.set_defaults(func=run_export)

    p = add_command(sub, "import", help="verify an exported statistics file and add it to the cache",
                    description="The key is recomputed from the file's key JSON; a later "
                                "`vidbench eval` with the same source, protocol and weights "
                                "uses it.",
                    example="vidbench ref import ucf_mocogan-hd.npz")
    p.add_argument("file", metavar="FILE", help="the .npz that `vidbench ref export` wrote")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_import)

    p = add_command(sub, "list", help="list cached reference statistics",
                    description="One line per cache entry, newest first.",
                    example="vidbench ref list --json")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_list)

    p = add_command(sub, "verify", help="check the digest of every cached entry",
                    description="Read every cache entry and check its arrays against the "
                                "digest written with them. Exit 1 if any entry is damaged or "
                                "altered (it is never used: the next run that needs it "
                                "computes it again); changes nothing.",
                    example="vidbench ref verify --json")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_verify)
