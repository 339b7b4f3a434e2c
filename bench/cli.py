"""``python -m bench``: the benchmarks of BENCHMARK.md (none of this ships in the extension).

- ``python -m bench [--shapes ...] [--quality ...] [--baselines]``: the shape benchmark, docs/benchmarks.md
- ``python -m bench memory [K ...]``: peak memory by mesh size (a markdown table on stdout)
- ``python -m bench threads [T ...]``: stage times by CPU thread count (a markdown table on stdout)
- ``python -m bench speed [--previous PATH]``: seconds to parts and to part meshes (a markdown table on stdout)
- ``python -m bench psb --data DIR [--per-category N]``: the Princeton Segmentation Benchmark's development
  split (Rand-index error, ARI against the medoid human, CoACD and shape-diameter baselines), docs/psb.md
- ``python -m bench kitbash [--shapes ...]``: the shapes as kitbashed assets (loose parts, screws, boards),
  docs/kitbash.md
- ``python -m bench stability [--shapes ...]``: each shape meshed at three resolutions and jittered,
  docs/stability.md
- ``python -m bench batch [--quality Q] [--no-parts]``: meshes per hour of ``python -m engine batch`` by
  workers x threads against the single-process batch script, docs/batch.md and docs/benchmarks.md
- ``python -m bench addon [--threads T] [--repeats R]``: Discover Parts and Re-cluster timed through the add-on in bpy
- ``python -m bench sdf-compare [...]``: the SDF backends, docs/sdf_backends.md
- ``python -m bench collection [--per-family N]``: a contact sheet of the procedural collection,
  docs/collection.png
- ``python -m bench train-backbone [--shapes N] [--steps N] [--seed S]``: the cross-shape backbone on the
  procedural collection (``torchrun --nproc-per-node N -m bench train-backbone`` for DDP), docs/backbone.md
- ``python -m bench train-head [--steps N]``: the DINO head on the backbone's activations, docs/backbone.md
- ``python -m bench backbone [--held-out N] [--weights PATH]``: the backbone beside the per-mesh field,
  docs/backbone.md
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
                                     "(other commands: memory, threads, speed, addon, psb, kitbash, "
                                     "stability, batch, sdf-compare)")
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


def threads_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench threads", description="stage times of one engine run "
                                     "per CPU thread count T (default 1, 2, 4, ... up to the cores)")
    parser.add_argument("thread_counts", nargs="*", type=int, metavar="T")
    parser.add_argument("--quality", choices=QUALITIES, default="balanced")
    parser.add_argument("--shape", default="snowman", help="a benchmark shape (default snowman)")
    parser.add_argument("--no-parts", action="store_true", help="without the part stage")
    return parser


def speed_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench speed", description="seconds to parts and to part "
                                     "meshes through the CLI on the snowman, the railing and a 200k-face mesh, "
                                     "with CoACD on the same meshes")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--previous", type=Path, help="a checkout of an earlier engine to time in the same run")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the shape benchmark, ``memory`` or ``sdf-compare``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if argv[:1] == ["sdf-compare"]:
        from .sdf_compare import main as compare_main

        return compare_main(argv[1:])
    if argv[:1] == ["backbone"]:
        from .backbone_bench import run_backbone_bench

        return run_backbone_bench(argv[1:])
    if argv[:1] == ["collection"]:
        from .collection.sheet import run_collection_sheet

        return run_collection_sheet(argv[1:])
    if argv[:1] == ["train-head"]:
        from .head_training import run_train_head

        return run_train_head(argv[1:])
    if argv[:1] == ["train-backbone"]:
        from .backbone_training import run_train_backbone

        return run_train_backbone(argv[1:])
    if argv[:1] == ["memory"]:
        from .memory_table import run_memory_bench

        args = memory_parser().parse_args(argv[1:])
        return run_memory_bench(args.subdivisions, args.quality, args.threads)
    if argv[:1] == ["speed"]:
        from .speed_table import render_speed_table, speed_table

        args = speed_parser().parse_args(argv[1:])
        rows = speed_table(args.threads, args.previous)
        print(render_speed_table(rows, args.threads, args.previous))
        return 0 if all(row["exit_code"] == 0 for row in rows) else 1
    if argv[:1] == ["psb"]:
        from .psb import run_psb

        return run_psb(argv[1:])
    if argv[:1] == ["kitbash"]:
        from .kitbash import run_kitbash

        return run_kitbash(argv[1:])
    if argv[:1] == ["batch"]:
        from .batch_throughput import run_batch_bench

        return run_batch_bench(argv[1:])
    if argv[:1] == ["stability"]:
        from .stability import run_stability

        return run_stability(argv[1:])
    if argv[:1] == ["addon"]:
        from .addon_timing import addon_timings, render_addon_timings

        threads = int(argv[argv.index("--threads") + 1]) if "--threads" in argv else 2
        repeats = int(argv[argv.index("--repeats") + 1]) if "--repeats" in argv else 3
        print(render_addon_timings(addon_timings(threads, repeats=repeats), threads))
        return 0
    if argv[:1] == ["threads"]:
        from .thread_scaling import default_thread_counts, render_thread_table, thread_scaling

        args = threads_parser().parse_args(argv[1:])
        rows = thread_scaling(args.thread_counts or default_thread_counts(), args.quality, args.shape,
                              part_meshes=not args.no_parts)
        print(render_thread_table(rows, args.quality, args.shape))
        return 0 if all(row["exit_code"] == 0 for row in rows) else 1
    from .shape_bench import run_bench

    return run_bench(shape_parser().parse_args(argv))
