"""``make demo``: the welded railing of BENCHMARK.md through the headless batch path.

Generates the railing mesh (no download), runs scripts/batch_segment.py with
the bpy module (the same code path as ``blender -b --python``), and leaves
``out/railing.blend``, ``out/railing.json``, ``out/railing.png`` and
``out/summary.json``. Prints the parts table.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.shapes import benchmark_shapes, shape_mesh  # noqa: E402


def main() -> int:
    import trimesh

    out = REPO / "out"
    out.mkdir(exist_ok=True)
    mesh_path = out / "railing.obj"
    vertices, faces, _ = shape_mesh(benchmark_shapes()["railing"])
    trimesh.Trimesh(vertices, faces, process=False).export(mesh_path)
    command = [
        sys.executable,
        str(REPO / "scripts" / "batch_segment.py"),
        "--input",
        str(mesh_path),
        "--output",
        str(out),
        "--quality",
        "balanced",
        "--preview",
    ]
    code = subprocess.call(command)
    report = out / "railing.json"
    if report.is_file():
        print(json.dumps(json.loads(report.read_text()), indent=2)[:4000])
    return code


if __name__ == "__main__":
    sys.exit(main())
