"""Command line: ``python -m engine segment|info|serve`` (the benchmarks: ``python -m bench``).

Exit codes: 0 success, 2 bad input (one-line message), 1 internal error,
130 cancelled. With ``--events`` stdout carries only protocol lines.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import traceback
from dataclasses import replace
from pathlib import Path

from . import __version__
from .batch.command import add_batch_parser, run_batch
from .contract import EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_INTERNAL, EXIT_OK, MODEL_FILES, EventWriter
from .errors import BadInputError, EngineError
from .run_arguments import add_run_arguments


def _folder_name(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("-o needs a folder name")
    return Path(text)


def _segment_parser(sub) -> None:
    p = sub.add_parser("segment", help="fit, probe and segment one mesh")
    p.add_argument("mesh", type=Path, help="OBJ, PLY, STL, OFF, GLB/GLTF or .npz (vertices, faces)")
    p.add_argument("-o", "--out", type=_folder_name, required=True, help="output folder (replaced atomically)")
    add_run_arguments(p)
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--reuse", type=Path, help="an earlier output folder whose fitted model to reuse")
    given = p.add_mutually_exclusive_group()
    given.add_argument("--labels", type=Path,
                       help="an .npy of int part ids, one per vertex: skip clustering and build these parts, "
                            "keeping their ids (with --reuse: no training of the global field)")
    given.add_argument("--face-labels", type=Path,
                       help="as --labels, one part id per triangle (the add-on's own truth)")
    p.add_argument("--split-part", type=int, metavar="ID",
                   help="with --labels or --face-labels: split part ID into --parts pieces by its own "
                        "activations (new pieces get the ids after the last)")
    p.add_argument("--events", action="store_true", help="JSON-lines protocol on stdout (for the add-on)")
    p.add_argument("--no-parts", action="store_true",
                   help="skip the per-part SDFs and their meshes (parts/*.obj, union.obj)")


class OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one ``error:`` line (exit 2), like every other bad input."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m engine", description="PartSDF engine")
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    _segment_parser(sub)
    sub.add_parser("info", help="one JSON line: engine, torch, devices, SDF backends")
    add_batch_parser(sub)
    sub.add_parser("serve", help="a warm engine: one request per stdin line, {\"segment\": [ARGS...]}, each run "
                                 "as 'segment ARGS --events'; ends at the end of the input")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    # A parent that ignores SIGINT (a shell's background job, nohup) hands that on to its children and
    # Python then never raises KeyboardInterrupt: take SIGINT back, so a cancel always reaches the run.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.command == "info":
        return _info()
    if args.command == "serve":
        return _serve()
    if args.command == "batch":
        return run_batch(args)
    return _segment(args)


def _info() -> int:
    import torch

    from .device import resolve_device
    from .field.sdf_truth import available_backends

    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    print(json.dumps({
        "engine_version": __version__,
        "torch": torch.__version__,
        "device": str(resolve_device("auto")),
        "cuda": torch.cuda.is_available(),
        "mps": mps,
        "threads": torch.get_num_threads(),
        "sdf_backends": available_backends(),
    }))
    return EXIT_OK


def _serve() -> int:
    """Run ``segment`` requests from stdin in this one process until the input ends (the warm engine).

    Each line is ``{"segment": [ARGS...]}``, the arguments of ``segment`` without ``--events``; the run
    sends its events as ``segment --events`` does and ends with DONE or ERROR. SIGINT cancels the
    running request (ERROR 130) and leaves the engine waiting for the next one; torch and the
    fitted fields of ``--reuse`` folders stay loaded between requests.
    """
    writer = EventWriter()
    parser = build_parser()
    # Everything a request imports, before the first one: a cancel that interrupted torch's import would
    # leave it half-loaded for every later request (an interrupt here ends the engine; the add-on starts anew).
    from . import outputs, pipeline  # noqa: F401
    while True:
        try:
            line = sys.stdin.readline()
        except KeyboardInterrupt:  # a cancel that came after its request had ended
            continue
        if not line:
            return EXIT_OK
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            arguments = [str(a) for a in request["segment"]]
            args = parser.parse_args(["segment", *arguments, "--events"])
        except (ValueError, KeyError, TypeError) as error:
            writer.send("ERROR", message=f"not a request: {type(error).__name__}: {error}",
                        exit_code=EXIT_BAD_INPUT)
            continue
        except SystemExit:  # argparse has written its one error line to stderr
            writer.send("ERROR", message="bad segment arguments (see python -m engine segment --help)",
                        exit_code=EXIT_BAD_INPUT)
            continue
        try:
            _segment(args)
        except KeyboardInterrupt:  # a cancel between the run's end and its last event
            continue


def _labels_first(writer: EventWriter, args: argparse.Namespace, settings, vertices, faces, write_output):
    """The ``pipeline.run`` callback of an ``--events`` run with part meshes: write OUT with the parts
    alone (a complete folder, replaced later with the meshes) and send LABELS."""

    def on_labels(partial) -> None:
        early = write_output(args.out, partial, replace(settings, part_field=None), vertices, faces, str(args.mesh))
        writer.send("LABELS", output=str(args.out), parts=len(early["parts"]), types=len(early["types"]))

    return on_labels


_FIELDS: dict[tuple, object] = {}  # (folder, file stamps) -> FittedField: what a warm engine keeps loaded
FIELDS_KEPT = 4


def _reused_field(folder: Path, load_field):
    """``load_field(folder)``, kept for later requests while the folder's files are unchanged.

    A run never changes the field it reuses (``pipeline.run`` works on a copy), so one loaded
    field serves every request of a warm engine.
    """
    stamps = tuple((name, p.stat().st_mtime_ns, p.stat().st_size) for name in MODEL_FILES
                   if (p := Path(folder) / name).is_file())
    key = (str(Path(folder).resolve()), stamps)
    if key not in _FIELDS:
        field = load_field(folder)
        while len(_FIELDS) >= FIELDS_KEPT:
            _FIELDS.pop(next(iter(_FIELDS)))
        _FIELDS[key] = field
    return _FIELDS[key]


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _segment(args: argparse.Namespace) -> int:
    writer = EventWriter() if args.events else None
    signal.signal(signal.SIGTERM, _raise_interrupt)

    def fail(code: int, message: str) -> int:
        if writer:
            writer.send("ERROR", message=message, exit_code=code)
        print(f"error: {message}", file=sys.stderr)
        return code

    try:
        from .mesh.loading import load_labels, load_mesh
        from .output_folder import check_output_target
        from .progress import BarReporter, EventReporter
        from .settings import run_settings

        # Every check that needs no model first: a bad input is refused before torch is even imported.
        settings = run_settings(args.quality, args.parts, args.types, args.seed, args.device, args.threads,
                                part_meshes=not args.no_parts, features=args.features)
        if args.split_part is not None and not (args.labels or args.face_labels):
            raise BadInputError("--split-part needs the parts it splits: give --labels or --face-labels")
        check_output_target(args.out)
        vertices, faces = load_mesh(args.mesh)
        labels = load_labels(args.labels) if args.labels else None
        face_labels = load_labels(args.face_labels) if args.face_labels else None
        from .outputs import load_field, write_output
        from .pipeline import run

        reuse = _reused_field(args.reuse, load_field) if args.reuse else None
        reporter = EventReporter(writer) if writer else BarReporter()
        try:
            split = None if args.split_part is None else (args.split_part, args.parts or 2)
            on_labels = None
            if writer and settings.part_field is not None:
                on_labels = _labels_first(writer, args, settings, vertices, faces, write_output)
            result = run(vertices, faces, settings, reporter, reuse=reuse, labels=labels, split=split,
                         face_labels=face_labels, on_labels=on_labels)
            reporter.stage("write")
            document = write_output(args.out, result, settings, vertices, faces, str(args.mesh))
            reporter.progress(1.0)
        finally:
            reporter.close()
    except KeyboardInterrupt:
        return fail(EXIT_CANCELLED, "cancelled")
    except (BadInputError, EngineError) as error:
        return fail(EXIT_BAD_INPUT, str(error))
    except MemoryError:
        return fail(EXIT_BAD_INPUT, "out of memory: the mesh is too large for this machine; decimate it first")
    except Exception as error:  # the last line of defence: report, never a bare traceback to the user
        traceback.print_exc(file=sys.stderr)
        return fail(EXIT_INTERNAL, f"internal error: {type(error).__name__}: {error}")
    parts, types = len(document["parts"]), len(document["types"])
    if writer:
        writer.send("DONE", output=str(args.out), parts=parts, types=types)
    else:
        _print_table(document)
    return EXIT_OK


def _print_table(document: dict) -> None:
    print(f"{len(document['parts'])} parts, {len(document['types'])} types -> {document['files']['colored_mesh']}")
    for part in document["parts"]:
        mesh = f"  {part['mesh']}" if part.get("mesh") else ""
        print(f"  {part['id']:3d}  {part['name']:<12} {part['type_name']:<8} {part['vertex_count']:>8} vertices{mesh}")
    if "union_mesh" in document["files"]:
        print(f"  union of the part SDFs: {document['files']['union_mesh']}")
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in document["timings"].items())
    print(f"  time: {timings}")
