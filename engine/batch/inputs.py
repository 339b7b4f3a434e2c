"""Which files a batch segments and where each one's output folder goes; bpy-free, no heavy imports."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..contract import SEGMENTATION
from ..errors import BadInputError
from ..mesh.loading import MESH_SUFFIXES

BLEND_SUFFIX = ".blend"
LIST_SUFFIXES = (".txt", ".lst")  # a list file: one input path per line, '#' starts a comment


@dataclass(frozen=True)
class BatchInput:
    """One input file and the folder its results go to (kind: 'mesh' or 'blend')."""

    source: Path
    output: Path
    kind: str


def collect_inputs(target: Path, out_dir: Path) -> list[BatchInput]:
    """Every mesh and .blend under a folder (recursively, sorted), the lines of a list file, or one file.

    Outputs mirror the inputs' folders under ``out_dir``: ``chairs/a.obj`` -> ``OUT/chairs/a_obj``
    (the suffix stays in the name, so ``a.obj`` and ``a.ply`` do not share a folder). Raises
    BadInputError when the target is missing or holds no input.
    """
    target = Path(target)
    if not target.exists():
        raise BadInputError(f"{target} does not exist; give a folder of meshes, a list file or a mesh")
    if target.is_dir():
        root = target.resolve()
        excluded = Path(out_dir).resolve()
        sources = sorted(p for p in root.rglob("*") if _is_input(p) and not _hidden_or_inside(p, root, excluded))
    elif target.suffix.lower() in LIST_SUFFIXES:
        sources = _read_list(target)
        root = Path(os.path.commonpath([p.parent for p in sources])) if sources else target.parent
    else:
        if not _is_input(target):
            raise BadInputError(f"{target.name} is not a mesh, .blend or list file "
                                f"({', '.join((*MESH_SUFFIXES, BLEND_SUFFIX, *LIST_SUFFIXES))})")
        sources, root = [target.resolve()], target.resolve().parent
    if not sources:
        raise BadInputError(f"no mesh or .blend files in {target} ({', '.join((*MESH_SUFFIXES, BLEND_SUFFIX))})")
    sources = list(dict.fromkeys(sources))  # a file listed twice is one input
    items = [BatchInput(source=p, output=Path(out_dir) / output_name(p, root),
                        kind="blend" if p.suffix.lower() == BLEND_SUFFIX else "mesh") for p in sources]
    seen: dict[str, Path] = {}
    for item in items:
        key = str(item.output).lower()  # folders differing only in case are one folder on Windows and macOS
        if key in seen:
            raise BadInputError(f"{seen[key].name} and {item.source.name} would share the output folder "
                                f"{item.output.name}; rename one of them")
        seen[key] = item.source
    return items


def output_name(source: Path, root: Path) -> Path:
    """The output folder of ``source`` relative to the batch's output folder."""
    relative = source.relative_to(root)
    return relative.parent / f"{relative.stem}_{relative.suffix.lstrip('.').lower()}"


def is_complete(item: BatchInput, settings_dict: dict) -> bool:
    """The input's output folder holds a finished run of the same file with the same settings.

    settings_dict: ``engine.settings.to_dict`` of the batch's settings; device and threads do not count.
    A .blend's output is complete when its report (``<name>.json``) exists.
    """
    if item.kind == "blend":
        return (item.output / f"{item.source.stem}.json").is_file()
    document = item.output / SEGMENTATION
    try:
        written = json.loads(document.read_text())
    except (OSError, ValueError):
        return False
    ignored = ("device", "threads")
    wanted = json.loads(json.dumps(settings_dict))  # tuples become lists, as in the written document
    same = {k: v for k, v in written.get("settings", {}).items() if k not in ignored} == {
        k: v for k, v in wanted.items() if k not in ignored}
    return same and written.get("input", {}).get("path") == str(item.source)


def _is_input(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in (*MESH_SUFFIXES, BLEND_SUFFIX)


def _hidden_or_inside(path: Path, root: Path, excluded: Path) -> bool:
    """Files in hidden folders, hidden files and anything in the batch's own output folder are skipped."""
    if path.is_relative_to(excluded):
        return True
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _read_list(path: Path) -> list[Path]:
    sources = []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        source = (path.parent / text).resolve()
        if not _is_input(source):
            raise BadInputError(f"{path.name} line {number}: {text} is not a mesh or .blend file that exists")
        sources.append(source)
    return sources
