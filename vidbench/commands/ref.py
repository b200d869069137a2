"""`vidbench ref` subcommands (being built)."""


def register(subparsers) -> None:
    return None
