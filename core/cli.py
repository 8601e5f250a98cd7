"""`python -m core <command>`: run any pipeline step headless.

Each command lives next to the code it drives; a module listed in ``COMMAND_MODULES`` exposes
``register_cli(subparsers)`` which adds its sub-command(s) and sets ``func`` on the parser.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from core.errors import SongscapeError

COMMAND_MODULES = (
    "core.datasets.demo",       # demo
    "core.datasets.importers",  # import
    "core.features",            # extract
    "core.training",            # train
    "core.cluster_cli",         # cluster
    "core.experiments",         # grid
    "core.features.musicnn.cli",  # tags
    "core.langid",              # langid
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Songscape pipeline, headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    for mod_name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name == mod_name:
                continue  # command not built yet
            raise
        mod.register_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SongscapeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; finished work is kept and the next run resumes", file=sys.stderr)
        return 130
