"""Subcommands of the ``vidbench`` CLI; each module has ``register(subparsers)``."""
