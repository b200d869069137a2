"""`vidbench data` subcommands (being built)."""


def register(subparsers) -> None:
    return None
