"""A contact sheet PNG (Blender Workbench, bpy): meshes in part colours, two segmentations side by side.

Each entry is one mesh with two face labelings (ours, a reference): both copies are scaled to a unit
box, laid out in a grid of pairs with a caption under each pair, and rendered once by an
orthographic camera. Colours are the engine's part colours (``contract.part_color``) of the ids.
"""

from __future__ import annotations

import math
import pickle
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.contract import part_color

PAIRS_PER_ROW = 5
PAIR_WIDTH, ROW_HEIGHT, PIXELS_PER_UNIT = 2.6, 1.55, 150


@dataclass(frozen=True)
class SheetEntry:
    """One mesh (vertices (n, 3) Y-up, faces (m, 3)) with two (m,) face labelings and a caption."""

    vertices: np.ndarray
    faces: np.ndarray
    left: np.ndarray
    right: np.ndarray
    caption: str


def render_contact_sheet(entries: list[SheetEntry], path: Path) -> Path:
    """Render the entries to ``path`` (PNG) in a fresh empty Blender scene; returns the path."""
    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    materials: dict[int, object] = {}
    for index, entry in enumerate(entries):
        row, column = divmod(index, PAIRS_PER_ROW)
        origin = np.array([column * PAIR_WIDTH, 0.0, -row * ROW_HEIGHT])
        unit = _unit_box(entry.vertices)
        for offset, labels in ((0.0, entry.left), (1.15, entry.right)):
            _add_mesh(bpy, scene, unit + origin + [offset, 0.0, 0.0], entry.faces, labels, materials)
        _add_caption(bpy, scene, entry.caption, origin + [0.575, 0.0, -0.68])
    rows = math.ceil(len(entries) / PAIRS_PER_ROW)
    columns = min(len(entries), PAIRS_PER_ROW)
    width, height = columns * PAIR_WIDTH, rows * ROW_HEIGHT
    camera = bpy.data.objects.new("Sheet camera", bpy.data.cameras.new("Sheet camera"))
    camera.data.type, camera.data.ortho_scale = "ORTHO", max(width, height)
    camera.location = ((width - PAIR_WIDTH) / 2 + 0.575, -10.0, -(height - ROW_HEIGHT) / 2 - 0.08)
    camera.rotation_euler = (math.pi / 2, 0.0, 0.0)
    scene.collection.objects.link(camera)
    scene.camera = camera
    scene.world = bpy.data.worlds.new("Sheet")
    scene.world.color = (1.0, 1.0, 1.0)
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.view_settings.view_transform = "Standard"  # a white background stays white
    scene.display.shading.light, scene.display.shading.color_type = "STUDIO", "MATERIAL"
    scene.display.shading.show_cavity = True
    scene.render.resolution_x = int(width * PIXELS_PER_UNIT)
    scene.render.resolution_y = int(height * PIXELS_PER_UNIT)
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    scene.render.filepath = str(Path(path).resolve())
    bpy.ops.render.render(write_still=True)
    return Path(path)


def render_contact_sheet_apart(entries: list[SheetEntry], path: Path) -> Path:
    """``render_contact_sheet`` in a fresh Python process: bpy cannot be imported into a process that has
    already loaded another Embree (pymeshlab's, for the shape-diameter baseline)."""
    with tempfile.TemporaryDirectory(prefix="partsdf-sheet-") as folder:
        entries_path = Path(folder) / "entries.pickle"
        entries_path.write_bytes(pickle.dumps(entries))
        subprocess.run([sys.executable, "-m", "bench.contact_sheet", str(entries_path), str(Path(path).resolve())],
                       check=True, cwd=Path(__file__).resolve().parents[1])
    return Path(path)


def _unit_box(vertices: np.ndarray) -> np.ndarray:
    """(n, 3) Y-up vertices as Blender Z-up ones turned to a three-quarter view (35 degrees about the
    vertical, the top tilted 25 degrees towards the camera), centred, the longest side 1."""
    z_up = vertices[:, [0, 2, 1]] * np.array([1.0, -1.0, 1.0])
    turn, tilt = np.radians(35.0), np.radians(25.0)
    about_z = np.array([[np.cos(turn), -np.sin(turn), 0.0], [np.sin(turn), np.cos(turn), 0.0], [0.0, 0.0, 1.0]])
    about_x = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(tilt), -np.sin(tilt)], [0.0, np.sin(tilt), np.cos(tilt)]])
    turned = z_up @ (about_x @ about_z).T
    low, high = turned.min(axis=0), turned.max(axis=0)
    return (turned - (low + high) / 2) / max(float((high - low).max()), 1e-12)


def _add_mesh(bpy, scene, vertices: np.ndarray, faces: np.ndarray, labels: np.ndarray, materials: dict) -> None:
    mesh = bpy.data.meshes.new("sheet mesh")
    mesh.from_pydata(vertices.tolist(), [], faces.tolist())
    ids = np.unique(labels)
    for part_id in ids.tolist():
        if part_id not in materials:
            material = bpy.data.materials.new(f"part {part_id}")
            material.diffuse_color = (*part_color(part_id), 1.0)
            materials[part_id] = material
        mesh.materials.append(materials[part_id])
    mesh.polygons.foreach_set("material_index", np.searchsorted(ids, labels).astype(np.int32))
    mesh.update()
    scene.collection.objects.link(bpy.data.objects.new("sheet mesh", mesh))


def _add_caption(bpy, scene, text: str, location: np.ndarray) -> None:
    curve = bpy.data.curves.new("caption", type="FONT")
    curve.body, curve.size, curve.align_x = text, 0.13, "CENTER"
    caption = bpy.data.objects.new("caption", curve)
    caption.location, caption.rotation_euler = tuple(location), (math.pi / 2, 0.0, 0.0)
    material = bpy.data.materials.new("caption")
    material.diffuse_color = (0.1, 0.1, 0.1, 1.0)
    curve.materials.append(material)
    scene.collection.objects.link(caption)


if __name__ == "__main__":
    render_contact_sheet(pickle.loads(Path(sys.argv[1]).read_bytes()), Path(sys.argv[2]))
