"""The ``nasuite`` command line: subcommands are small modules under ``suite.commands``.

Every reporting subcommand takes ``--json`` and then prints exactly one JSON object on stdout;
progress and errors go to stderr. Heavy libraries are imported inside the commands, so
``nasuite --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from tabular.errors import NasuiteError

COMMAND_GROUP = "nasuite.commands"


def build_parser() -> argparse.ArgumentParser:
    from suite.commands import (
        lut_cmd,
        oneshot_cmd,
        proxies_cmd,
        run_cmd,
        search_cmd,
        surrogate_cmd,
        surrogate_search_cmd,
        table_cmd,
    )

    parser = argparse.ArgumentParser(
        prog="nasuite",
        description="Surrogate-model benchmark and reproducibility suite for neural architecture search.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    table_cmd.add_parser(sub)
    proxies_cmd.add_parser(sub)
    surrogate_cmd.add_parser(sub)
    surrogate_search_cmd.add_parser(sub)
    search_cmd.add_parser(sub)
    run_cmd.add_parser(sub)
    oneshot_cmd.add_parser(sub)
    lut_cmd.add_parser(sub)
    for plugin in _command_plugins():
        plugin.add_parser(sub)
    return parser


def _command_plugins() -> list[Any]:
    """Modules other packages register under the ``nasuite.commands`` entry-point group.

    Each has ``add_parser(subparsers)``; ``reproduce`` adds ``nasuite reproduce`` this way, so the
    suite never imports a package downstream of it.
    """
    from importlib import metadata

    return [
        entry.load() for entry in sorted(metadata.entry_points(group=COMMAND_GROUP), key=lambda e: e.name)
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.handler(args)
    except KeyboardInterrupt:
        print("nasuite: interrupted; finished work is saved; rerun the command to resume", file=sys.stderr)
        return 130
    except NasuiteError as exc:
        print(f"nasuite: error: {exc}", file=sys.stderr)
        if getattr(args, "json", False):
            print(json.dumps({"error": {"type": type(exc).__name__, "message": str(exc)}}))
        return 2
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
