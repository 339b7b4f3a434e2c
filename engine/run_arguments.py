"""The run options that ``segment`` and ``batch`` share on the command line (argparse only)."""

from __future__ import annotations

from .settings import DEVICES, QUALITIES


def add_run_arguments(parser) -> None:
    """--parts, --types, --quality, --seed, --device on an argparse parser."""
    parser.add_argument("--parts", type=int, help="force the number of parts")
    parser.add_argument("--types", type=int, help="force the number of part types")
    parser.add_argument("--quality", choices=QUALITIES, default="balanced")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=DEVICES, default="auto")
