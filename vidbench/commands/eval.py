"""`vidbench eval` subcommands (being built)."""


def register(subparsers) -> None:
    return None
