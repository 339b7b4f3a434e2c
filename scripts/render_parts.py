"""Render an engine output folder's per-part meshes, pulled apart, to a PNG (Workbench).

    python scripts/render_parts.py OUT_FOLDER IMAGE.png [--explode 0.35]
    blender -b --factory-startup --python scripts/render_parts.py -- OUT_FOLDER IMAGE.png

Each part mesh (``parts/*.obj`` listed in ``segmentation.json``) is moved away
from the shape's centre by ``explode`` times its own offset, so the cut faces
where parts meet are visible; parts keep the colours of the segmentation.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def parse_args(argv: list[str]) -> argparse.Namespace:
    if "--" in argv:
        argv = argv[argv.index("--") + 1:]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="output folder of `python -m engine segment`")
    parser.add_argument("image", type=Path, help="PNG to write")
    parser.add_argument("--explode", type=float, default=0.35, help="how far parts move apart (0: assembled)")
    return parser.parse_args(argv)


def z_up(vertices: np.ndarray) -> np.ndarray:
    """(n, 3) Y-up vertices as Blender's Z-up ones: (x, y, z) -> (x, -z, y), as Blender's OBJ importer turns them.

    The engine writes part meshes in the frame of the mesh it was given. The add-on gives it Blender's
    own Z-up coordinates and reads the parts back unchanged; this script renders the output of
    ``python -m engine segment`` on a mesh file, whose convention (OBJ, glTF) is Y-up.
    """
    return vertices[:, [0, 2, 1]] * np.array([1.0, -1.0, 1.0])


def main(argv: list[str]) -> int:
    import bpy

    scripts = Path(__file__).resolve().parent
    sys.path[:0] = [str(scripts), str(scripts.parent)]
    from batch_segment import render_preview

    from blender_addon.engine_link.contract import SEGMENTATION
    from blender_addon.engine_link.result import read_obj  # the add-on's reader of the engine's part meshes

    args = parse_args(argv)
    document = json.loads((args.folder / SEGMENTATION).read_text())
    parts = [p for p in document["parts"] if p.get("mesh")]
    if not parts:
        print(f"error: {args.folder} has no part meshes (was it segmented with --no-parts?)", file=sys.stderr)
        return 2
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    meshes = {p["id"]: read_obj(args.folder / p["mesh"]) for p in parts}
    meshes = {part_id: (z_up(vertices), faces) for part_id, (vertices, faces) in meshes.items()}
    centre = np.concatenate([v for v, _ in meshes.values()]).mean(axis=0)
    for part in parts:
        vertices, faces = meshes[part["id"]]
        offset = (vertices.mean(axis=0) - centre) * args.explode
        mesh = bpy.data.meshes.new(part["name"])
        mesh.from_pydata((vertices + offset).tolist(), [], faces.tolist())
        material = bpy.data.materials.new(part["name"])
        material.diffuse_color = (*part["color"], 1.0)
        mesh.materials.append(material)
        scene.collection.objects.link(bpy.data.objects.new(part["name"], mesh))
    render_preview(bpy, list(scene.objects), args.image.resolve())
    print(f"{len(parts)} part meshes -> {args.image}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
