"""Command line: thin commands over the library. Known failures are one line on stderr.

A module per group of commands: index.py (index, add, remove, status), query.py (search,
ask), evaluate.py (eval, choose), bench.py (bench, load); parser.py holds every command's
arguments, common.py the options and helpers they share; `serve` is serve/'s."""
from __future__ import annotations

import sys

from .. import serve
from .bench import cmd_bench, cmd_load
from .common import UsageError
from .evaluate import cmd_choose, cmd_eval, cmd_train_reader
from .index import cmd_add, cmd_index, cmd_remove, cmd_status
from .parser import parser
from .query import cmd_ask, cmd_search


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    from ..index import IndexError_
    from ..search import QueryError

    try:
        return COMMANDS[args.command](args)
    except (IndexError_, QueryError, UsageError, OSError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def cmd_serve(args) -> int:
    return serve.run(args)


COMMANDS = {"index": cmd_index, "search": cmd_search, "bench": cmd_bench, "load": cmd_load, "add": cmd_add,
            "remove": cmd_remove, "status": cmd_status, "eval": cmd_eval, "ask": cmd_ask, "serve": cmd_serve,
            "choose": cmd_choose, "train-reader": cmd_train_reader}
