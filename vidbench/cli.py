"""The ``vidbench`` command line: a thin layer over library functions.

Each subcommand lives in a module of :mod:`vidbench.commands` with a ``register(subparsers)``
function that adds its parser and sets ``func`` (a callable taking the parsed namespace and
returning an exit code). User errors (:class:`vidbench.utils.errors.VidbenchError`) are printed
without a traceback and exit with status 2; an unknown flag is an error (argparse's rule).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from vidbench import __version__
from vidbench.utils.errors import VidbenchError

# Order here is the order in `vidbench --help`.
COMMAND_MODULES = [
    "vidbench.commands.data",
    "vidbench.commands.weights",
    "vidbench.commands.eval",
    "vidbench.commands.ref",
    "vidbench.commands.demo",
    "vidbench.commands.table",
    "vidbench.commands.run",
    "vidbench.commands.regress",
    "vidbench.commands.report",
    "vidbench.commands.train",
    "vidbench.commands.pca",
    "vidbench.commands.sample",
    "vidbench.commands.predict",
]


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps example blocks as written and shows each default once: ``(default: X)`` is added
    to an option's help unless the help already says its default, the option is required,
    the default is None or False, or the argument is a positional."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if ("default" in text or action.required or not action.option_strings
                or action.default in (None, False, argparse.SUPPRESS)):
            return text
        return f"{text} (default: %(default)s)"


def add_command(subparsers, name: str, help: str, description: str, example: str):
    """Add a subcommand whose help ends with a worked example."""
    return subparsers.add_parser(
        name, help=help, description=description,
        epilog="example:\n  " + example.strip().replace("\n", "\n  "),
        formatter_class=HelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vidbench",
        description="Train and sample MoCoGAN-HD; evaluate video generators (FVD, IS, ACD, "
                    "PSNR/SSIM) under named protocols.",
        epilog="example:\n  vidbench data inspect --dataset shapes --json\n\n"
               "Run `vidbench COMMAND --help` for the options and an example of each command.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"vidbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for mod_name in COMMAND_MODULES:
        importlib.import_module(mod_name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below
        return code
    except BrokenPipeError:
        # The reader went away (`vidbench ... | head`): stop quietly, as Unix tools do. Later
        # writes to stdout, e.g. at interpreter exit, go to /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by the pipe
    except VidbenchError as exc:
        print(f"vidbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vidbench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
