"""The ``xinlian`` command-line interface (click); see :mod:`xinlian.cli.main`."""

from xinlian.cli.main import cli, main

__all__ = ["cli", "main"]
