"""``python -m bench``: the benchmarks of BENCHMARK.md (none of this ships in the extension).

- ``python -m bench [--shapes ...] [--quality ...] [--baselines]``: the shape benchmark, docs/benchmarks.md
- ``python -m bench memory [K ...]``: peak memory by mesh size (a markdown table on stdout)
- ``python -m bench sdf-compare [...]``: the SDF backends, docs/sdf_backends.md
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from engine.settings import QUALITIES

from .memory_table import MEMORY_SUBDIVISIONS


def shape_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description="the shape benchmark of BENCHMARK.md "
                                     "(other commands: memory, sdf-compare)")
    parser.add_argument("--shapes", nargs="*", help="shape names (default: all)")
    parser.add_argument("--quality", choices=QUALITIES, default="balanced")
    parser.add_argument("--baselines", action="store_true", help="also run the baselines")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path, default=Path("docs/benchmarks.md"))
    return parser


def memory_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench memory", description="peak memory by mesh size: "
                                     "icospheres of subdivision K, one engine subprocess each")
    parser.add_argument("subdivisions", nargs="*", type=int, metavar="K", default=list(MEMORY_SUBDIVISIONS))
    parser.add_argument("--quality", choices=QUALITIES, default="fast")
    parser.add_argument("--threads", type=int, default=2)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the shape benchmark, ``memory`` or ``sdf-compare``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if argv[:1] == ["sdf-compare"]:
        from .sdf_compare import main as compare_main

        return compare_main(argv[1:])
    if argv[:1] == ["memory"]:
        from .memory_table import run_memory_bench

        args = memory_parser().parse_args(argv[1:])
        return run_memory_bench(args.subdivisions, args.quality, args.threads)
    from .shape_bench import run_bench

    return run_bench(shape_parser().parse_args(argv))
