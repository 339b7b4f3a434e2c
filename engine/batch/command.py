"""``python -m engine batch INPUT -o OUT``: the command line of a batch (see the package docstring)."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

from ..contract import EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_INTERNAL, EXIT_OK
from ..errors import BadInputError
from ..run_arguments import add_run_arguments


def add_batch_parser(sub) -> None:
    p = sub.add_parser("batch", help="segment every mesh under a folder (or in a list file), one process each")
    p.add_argument("input", type=Path, help="a folder (searched recursively), a list file (.txt) or one mesh")
    p.add_argument("-o", "--out", type=Path, required=True, help="output folder: one folder per input, summaries")
    add_run_arguments(p)
    p.add_argument("--no-parts", action="store_true", help="labels only: no per-part SDFs and meshes")
    p.add_argument("--workers", type=int, help="engines at a time (default: one per core, as memory allows)")
    p.add_argument("--threads", type=int, help="CPU threads per engine (default: 1, or cores / --workers)")
    p.add_argument("--backend", choices=("auto", "local", "ray"), default="auto",
                   help="auto: Ray embedded on this machine when installed, else a local process pool")
    p.add_argument("--ray", metavar="ADDRESS", help="run on an existing Ray cluster (inputs and OUT on a shared path)")
    p.add_argument("--blender", help="Blender, or a Python with the bpy module, for .blend inputs")


def run_batch(args: argparse.Namespace) -> int:
    """Exit 0: every input ok or already done; 1: some failed; 2: bad arguments; 130: cancelled."""
    from dataclasses import asdict

    from ..settings import run_settings, to_dict
    from .inputs import collect_inputs, is_complete
    from .scheduling import (
        machine_memory_gb,
        plan_workers,
        raise_interrupt,
        run_local,
        run_ray,
        staging_leftovers,
    )
    from .summary import SUMMARY_JSON, write_summary
    from .tasks import TaskOptions, input_record

    started = time.monotonic()
    try:
        for name in ("workers", "threads"):
            if getattr(args, name) is not None and getattr(args, name) < 1:
                raise BadInputError(f"--{name} must be at least 1, got {getattr(args, name)}")
        args.out = args.out.absolute()  # the engines run in the engine's folder, not the caller's
        workers, threads = plan_workers(os.cpu_count() or 1, args.workers, args.threads, machine_memory_gb())
        settings = run_settings(args.quality, args.parts, args.types, args.seed, args.device, threads,
                                part_meshes=not args.no_parts, features=args.features)
        if args.blender:
            found = shutil.which(args.blender)
            if found is None:
                raise BadInputError(f"--blender {args.blender} is not an executable; give Blender's path")
            args.blender = os.path.abspath(found)
        items = collect_inputs(args.input, args.out)
        backend = _backend(args)
        args.out.mkdir(parents=True, exist_ok=True)
        if not os.access(args.out, os.W_OK):
            raise BadInputError(f"cannot write into {args.out}; choose another -o")
    except (BadInputError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for leftover in staging_leftovers(items):
        shutil.rmtree(leftover, ignore_errors=True)
    options = TaskOptions(quality=args.quality, parts=args.parts, types=args.types, seed=args.seed,
                          device=args.device, threads=threads, part_meshes=not args.no_parts, features=args.features,
                          blender=args.blender)
    wanted = to_dict(settings)
    finished = {item: is_complete(item, wanted) for item in items}
    done = [item for item in items if finished[item]]
    todo = [item for item in items if not finished[item]]
    records = [input_record(item.source, item.output, item.kind, "skipped", attempts=0) for item in done]
    if any(item.kind == "blend" for item in todo) and not args.blender:
        print("warning: .blend inputs need --blender (Blender, or a Python with bpy); they are reported as failed",
              file=sys.stderr)
    run = {"input": str(args.input), "options": asdict(options), "workers": workers, "backend": backend,
           "ray_address": args.ray}
    print(f"batch: {len(items)} inputs ({len(done)} done earlier), {workers} engines x {threads} threads, "
          f"{backend}", file=sys.stderr)
    bar = _progress_bar(len(todo))

    def on_record(record: dict) -> None:
        records.append(record)
        bar.update(1)
        bar.set_postfix(failed=sum(r["status"] == "failed" for r in records), refresh=False)
        if record["status"] == "failed":
            bar.write(f"failed: {record['input']}: {record['error']}", file=sys.stderr)
        write_summary(args.out, records, run, time.monotonic() - started)

    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        if backend == "ray":
            run_ray(todo, options, workers, on_record, args.ray, lambda item: is_complete(item, wanted))
        else:
            run_local(todo, options, workers, on_record, threading.Event())
    except KeyboardInterrupt:
        code = EXIT_CANCELLED
    except Exception as error:  # noqa: BLE001 - the batch's own failure, reported in one line
        print(f"error: the batch stopped: {type(error).__name__}: {error}", file=sys.stderr)
        code = EXIT_INTERNAL
    else:
        code = EXIT_OK
    finally:
        signal.signal(signal.SIGTERM, previous)
        bar.close()
    document = write_summary(args.out, records, run, time.monotonic() - started)
    totals = document["totals"]
    rate = f", {totals['meshes_per_hour']} meshes/hour" if totals["meshes_per_hour"] else ""
    print(f"batch: {totals['ok']} ok, {totals['skipped']} done earlier, {totals['failed']} failed, "
          f"{totals['cancelled']} cancelled in {totals['wall_seconds']} s{rate} -> {args.out / SUMMARY_JSON}",
          file=sys.stderr)
    if code == EXIT_OK and totals["failed"]:
        return EXIT_INTERNAL
    return code


def _backend(args: argparse.Namespace) -> str:
    from .scheduling import ray_available

    if args.ray or args.backend == "ray":
        if not ray_available():
            raise BadInputError("Ray is not installed: pip install -r requirements-batch.txt, or --backend local")
        return "ray"
    return "ray" if args.backend == "auto" and ray_available() else "local"


def _progress_bar(total: int):
    from tqdm import tqdm

    return tqdm(total=total, unit="mesh", file=sys.stderr, dynamic_ncols=True, smoothing=0.1,
                mininterval=1.0)

