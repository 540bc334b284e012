"""Run the command line with `python -m stonkmarket`."""

from stonkmarket.interfaces.cli.main import cli

cli()
