"""Headless batch part discovery over .blend and mesh files.

    blender -b --factory-startup --python-exit-code 1 --python scripts/batch_segment.py -- \\
        --input FILE_OR_DIR --output DIR [--objects NAME ...] [--quality fast] [--parts K] ...
    python scripts/batch_segment.py --input FILE_OR_DIR --output DIR ...   (with the bpy module)

Each .blend is opened and every mesh object (or the ones named with
--objects) is segmented; each mesh file (.obj .ply .stl .glb .gltf) is
imported with Blender's importers into an empty scene (several meshes are
joined into one object). The add-on in this repository is enabled and its
Discover Parts operator runs synchronously, so the same client and write-back
code as in the UI is used. Per input: ``<name>.blend`` with the parts written
back and ``<name>.json`` (``--preview``: also ``<name>.png``, rendered with
Workbench); for the batch: ``summary.json`` (with ``--features dino`` also the library's part types, their
names shared by every file). Exits 1 if any
input failed; the others are still processed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ADDON = "blender_addon"
MESH_SUFFIXES = (".obj", ".ply", ".stl", ".glb", ".gltf")
INPUT_SUFFIXES = (".blend", *MESH_SUFFIXES)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Arguments after ``--`` when present (Blender), else all of them (plain python)."""
    argv = argv[argv.index("--") + 1 :] if "--" in argv else argv[1:]
    parser = argparse.ArgumentParser(prog="batch_segment.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", required=True, type=Path, help="a .blend or mesh file, or a folder of them")
    parser.add_argument("--output", required=True, type=Path, help="folder for the .blend files and reports")
    parser.add_argument("--objects", nargs="+", help="names of the mesh objects to segment in .blend inputs")
    parser.add_argument("--quality", choices=("fast", "balanced", "high"), default="balanced")
    parser.add_argument("--parts", type=int, help="number of parts (default: automatic)")
    parser.add_argument("--types", type=int, help="number of part types (default: automatic)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--features", choices=("raw", "dino"), default="raw",
                        help="raw: each mesh's own field; dino: the shared backbone (type names shared across files)")
    parser.add_argument("--no-part-meshes", action="store_true", help="do not build per-part mesh objects")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for the engine (0: automatic)")
    parser.add_argument("--python", default="", help="external Python that runs the engine (default: this one)")
    parser.add_argument("--preview", action="store_true", help="also render <name>.png (Workbench, part colours)")
    parser.add_argument("--export-parts", choices=("glb", "obj"),
                        help="also write each part (a capped copy of its faces) to <name>_parts/<object> <part>.<fmt>")
    return parser.parse_args(argv)


def collect_inputs(path: Path) -> list[Path]:
    """The input files: ``path`` itself, or the supported files directly inside a folder (sorted)."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)
    return [path]


def enable_addon(args: argparse.Namespace):
    """Enable the repository's add-on and apply the engine preferences from the arguments."""
    import bpy

    addon_utils = importlib.import_module("addon_utils")  # importable once bpy has set up Blender's paths

    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    addon_utils.enable(ADDON, default_set=True)
    if not addon_utils.check(ADDON)[1]:
        raise SystemExit(f"batch_segment: cannot enable the add-on from {REPO / ADDON}")
    prefs = bpy.context.preferences.addons[ADDON].preferences
    prefs.device, prefs.threads, prefs.python_path = args.device, args.threads, args.python
    return bpy


def apply_run_settings(bpy, args: argparse.Namespace) -> None:
    settings = bpy.context.scene.partsdf.settings
    settings.quality = args.quality
    settings.auto_parts = args.parts is None
    settings.parts = args.parts or settings.parts
    settings.auto_types = args.types is None
    settings.types = args.types or settings.types
    settings.seed = args.seed
    settings.features = args.features
    settings.build_meshes = not args.no_part_meshes


def segment_object(bpy, obj) -> dict:
    """Run Discover Parts on one object; a dict with its parts or its error."""
    started = time.monotonic()
    entry = {"object": obj.name, "ok": False}
    try:
        for other in bpy.context.view_layer.objects:
            other.select_set(False)
        obj.select_set(True)
        bpy.context.view_layer.objects.active = obj
        outcome = bpy.ops.partsdf.discover_parts()
    except (RuntimeError, ValueError) as error:
        entry["error"] = str(error).removeprefix("Error: ").strip()
        return entry
    entry["seconds"] = round(time.monotonic() - started, 2)
    if outcome != {"FINISHED"}:
        entry["error"], entry["cancelled"] = "cancelled", True
        return entry
    entry["ok"] = True
    entry["engine_version"] = obj.get("partsdf_engine_version", "")
    entry["parts"] = [
        {
            "name": item.name,
            "type": item.type_name,
            "vertices": item.vertex_count,
            "object": item.mesh_object.name if item.mesh_object else None,
        }
        for item in obj.partsdf.parts
    ]
    return entry


def export_parts(bpy, obj, folder: Path, file_format: str) -> list[str]:
    """Separate ``obj``'s parts (capped copies; the object stays) and write one file per part."""
    from blender_addon.operators.edit import separate_parts

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for copy in separate_parts(bpy.context, obj, cap_holes=True):
        for other in bpy.context.view_layer.objects:
            other.select_set(False)
        copy.select_set(True)
        bpy.context.view_layer.objects.active = copy
        path = folder / f"{bpy.path.clean_name(copy.name)}.{file_format}"
        if file_format == "obj":
            bpy.ops.wm.obj_export(filepath=str(path), export_selected_objects=True, export_materials=False)
        else:
            bpy.ops.export_scene.gltf(filepath=str(path), use_selection=True, export_format="GLB")
        written.append(str(path))
    return written


def blend_objects(bpy, names: list[str] | None) -> tuple[list, list[dict]]:
    """Mesh objects to segment in the open file (never earlier part objects) and errors for missing names."""
    scene_objects = bpy.context.scene.objects
    if names:
        errors = [{"object": n, "ok": False, "error": "no such object"} for n in names if n not in scene_objects]
        return [scene_objects[n] for n in names if n in scene_objects], errors
    return [o for o in scene_objects if o.type == "MESH" and o.partsdf.source is None], []


def import_mesh_file(bpy, path: Path):
    """Import a mesh file into an empty scene; returns one mesh object (several are joined)."""
    bpy.ops.wm.read_homefile(use_empty=True)
    suffix = path.suffix.lower()
    if suffix == ".obj":
        bpy.ops.wm.obj_import(filepath=str(path))
    elif suffix == ".ply":
        bpy.ops.wm.ply_import(filepath=str(path))
    elif suffix == ".stl":
        bpy.ops.wm.stl_import(filepath=str(path))
    else:
        bpy.ops.import_scene.gltf(filepath=str(path))
    meshes = [o for o in bpy.context.scene.objects if o.type == "MESH"]
    if not meshes:
        raise ValueError(f"no mesh found in {path.name}")
    if len(meshes) > 1:
        with bpy.context.temp_override(active_object=meshes[0], selected_editable_objects=meshes):
            bpy.ops.object.join()
    meshes[0].name = path.stem
    return meshes[0]


def process_input(bpy, path: Path, out_blend: Path, args: argparse.Namespace) -> dict:
    """Segment one input file and save the result .blend; returns its report."""
    report = {"input": str(path), "ok": False, "objects": []}
    try:
        if not path.is_file():
            raise ValueError("file not found")
        if path.suffix.lower() == ".blend":
            bpy.ops.wm.open_mainfile(filepath=str(path), load_ui=False)
            objects, report["objects"] = blend_objects(bpy, args.objects)
        elif path.suffix.lower() in MESH_SUFFIXES:
            objects = [import_mesh_file(bpy, path)]
        else:
            raise ValueError(f"unsupported file type '{path.suffix}'; use one of {', '.join(INPUT_SUFFIXES)}")
        if not objects and not report["objects"]:
            raise ValueError("no mesh objects to segment")
        apply_run_settings(bpy, args)
        report["objects"] += [segment_object(bpy, obj) for obj in objects]
        if args.export_parts:
            folder = out_blend.with_name(f"{out_blend.stem}_parts")
            for obj, entry in zip(objects, report["objects"][-len(objects):], strict=True):
                if entry["ok"]:
                    entry["exported"] = export_parts(bpy, obj, folder, args.export_parts)
        bpy.ops.wm.save_as_mainfile(filepath=str(out_blend), copy=True)
        report["blend"] = str(out_blend)
        if args.preview:
            report["preview"] = render_preview(bpy, objects, out_blend.with_suffix(".png"))
        report["ok"] = all(entry["ok"] for entry in report["objects"])
    except (RuntimeError, ValueError, OSError) as error:
        report["error"] = str(error).removeprefix("Error: ").strip()
    return report


def render_preview(bpy, objects: list, path: Path) -> str:
    """Render the segmented objects in their part colours (Workbench) from a camera framing them."""
    from mathutils import Vector

    scene = bpy.context.scene
    bpy.context.view_layer.update()
    corners = [o.matrix_world @ Vector(c) for o in objects for c in o.bound_box]
    center = sum(corners, Vector()) / len(corners)
    radius = max((c - center).length for c in corners)
    camera = bpy.data.objects.new("PartSDF Preview", bpy.data.cameras.new("PartSDF Preview"))
    scene.collection.objects.link(camera)
    direction = Vector((1.0, -1.2, 0.8)).normalized()
    width, height = 1200, 900
    half_fov = math.atan(math.tan(camera.data.angle / 2) * min(width, height) / max(width, height))
    camera.location = center + direction * radius / math.sin(half_fov) * 1.05
    camera.rotation_euler = (-direction).to_track_quat("-Z", "Y").to_euler()
    scene.camera = camera
    for obj in scene.objects:  # the coloured source meshes, not the overlapping per-part meshes
        state = getattr(obj, "partsdf", None)
        obj.hide_render = obj.type == "MESH" and state is not None and state.source is not None
    if scene.world is None:
        scene.world = bpy.data.worlds.new("PartSDF Preview")
        scene.world.color = (0.05, 0.05, 0.055)
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.display.shading.light = "STUDIO"
    scene.display.shading.color_type = "MATERIAL"
    scene.display.shading.show_cavity = True
    scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = width, height, 100
    scene.render.image_settings.file_format = "PNG"
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    return str(path)


def output_names(inputs: list[Path], output: Path) -> list[Path]:
    """``<stem>.blend`` per input, made unique, never an input file itself."""
    names, used = [], {p.resolve() for p in inputs}
    for path in inputs:
        candidate = output / f"{path.stem}.blend"
        index = 1
        while candidate.resolve() in used:
            candidate = output / f"{path.stem}_{path.suffix.lstrip('.')}{'' if index == 1 else index}.blend"
            index += 1
        used.add(candidate.resolve())
        names.append(candidate)
    return names


def format_report(report: dict) -> str:
    """Human-readable lines for one input: its status and the parts table of each object."""
    status = "OK  " if report["ok"] else "FAIL"
    lines = [f"{status} {report['input']}" + (f" -> {report['blend']}" if "blend" in report else "")]
    if "error" in report:
        lines.append(f"     error: {report['error']}")
    for entry in report["objects"]:
        if not entry["ok"]:
            lines.append(f"     {entry['object']}: {entry['error']}")
            continue
        lines.append(f"     {entry['object']}: {len(entry['parts'])} parts in {entry['seconds']:.1f} s")
        lines.append(f"       {'part':<20} {'type':<16} {'vertices':>9}")
        lines += [f"       {p['name']:<20} {p['type']:<16} {p['vertices']:>9}" for p in entry["parts"]]
    return "\n".join(lines)


def shared_types(reports: list[dict]) -> list[dict]:
    """The library's part types over every segmented object (``--features dino``: names shared across files)."""
    from engine.batch.summary import library_types

    return library_types([{"input": report["input"], "part_types": [
        part["type"] for entry in report["objects"] if entry["ok"] for part in entry["parts"]]} for report in reports])


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        bpy = enable_addon(args)
    except ImportError as error:
        sys.stderr.write(f"batch_segment: bpy is not available ({error}); run inside Blender or install bpy\n")
        return 2
    inputs = collect_inputs(args.input.resolve())
    output = args.output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    reports = []
    for path, out_blend in zip(inputs, output_names(inputs, output), strict=True):
        report = process_input(bpy, path, out_blend, args)
        out_blend.with_suffix(".json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        print(format_report(report), flush=True)
        reports.append(report)
        if any(entry.get("cancelled") for entry in report["objects"]):
            print("batch_segment: cancelled, the remaining inputs are not processed", flush=True)
            break
    failed = [r["input"] for r in reports if not r["ok"]]
    summary = {"inputs": len(inputs), "processed": len(reports), "failed": failed,
               "types": shared_types(reports) if args.features == "dino" else None, "reports": reports}
    (output / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"{len(reports) - len(failed)} of {len(reports)} inputs segmented; summary: {output / 'summary.json'}")
    return 1 if failed or len(reports) < len(inputs) or not inputs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
