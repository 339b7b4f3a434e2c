"""The run options that ``segment`` and ``batch`` share on the command line (argparse only)."""

from __future__ import annotations

from .settings import DEVICES, FEATURES, QUALITIES


def add_run_arguments(parser) -> None:
    """--parts, --types, --quality, --seed, --device, --features on an argparse parser."""
    parser.add_argument("--parts", type=int, help="force the number of parts")
    parser.add_argument("--types", type=int, help="force the number of part types")
    parser.add_argument("--quality", choices=QUALITIES, default="balanced")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--features", choices=FEATURES, default="raw",
                        help="the activation cue: raw (the mesh's own field) or dino (the shared backbone's "
                             "DINO head; part types named alike across meshes)")
