"""bench.sdf_compare on a coarse snowman and few points (seconds)."""

import numpy as np
import pytest

from bench import sdf_compare
from bench.shapes import benchmark_shapes
from engine.field.sdf_truth import available_backends
from engine.mesh.marching import mesh_from_sdf

pytestmark = pytest.mark.skipif(not available_backends(), reason="no SDF backend installed (pip install libigl)")


def test_remove_cap_makes_a_hole_with_the_expected_rim():
    vertices, faces = mesh_from_sdf(benchmark_shapes()["snowman"].sdf, 48)
    kept, hole = sdf_compare.remove_cap(vertices, faces, axis=1, above=0.5)
    assert 0 < len(faces) - len(kept) < len(faces) // 10
    # the head is a sphere of radius 0.2 at y = 0.35; the rim lies near y = 0.5
    assert hole.center[1] == pytest.approx(0.5, abs=0.03)
    assert hole.radius == pytest.approx(np.sqrt(0.2**2 - 0.15**2), abs=0.03)
    compact_vertices, compact_faces = sdf_compare.compact(vertices, kept)
    assert len(compact_vertices) < len(vertices) and compact_faces.max() == len(compact_vertices) - 1


def test_closed_mesh_has_no_sign_error_and_report_renders():
    results, hole = sdf_compare.compare_backends(points=2000, resolution=32, seed=0)
    assert {r.backend for r in results} == set(available_backends())
    closed = [r for r in results if r.mesh == "closed"]
    assert all(r.sign_error < 0.01 and r.invalid == 0 for r in closed)
    text = sdf_compare.render_markdown(results, hole, 2000, "python -m bench sdf-compare --points 2000")
    assert "| closed |" in text and "## Conclusion" in text


def test_main_keeps_notes_when_regenerating(tmp_path):
    output = tmp_path / "report.md"
    output.write_text("old table\n" + sdf_compare.NOTES_MARKER + "\nhand-written notes\n")
    args = ["--points", "1000", "--resolution", "24", "--output", str(output)]
    assert sdf_compare.main(args + ["--backend", available_backends()[0]]) == 0
    text = output.read_text()
    assert "old table" not in text and text.endswith(sdf_compare.NOTES_MARKER + "\nhand-written notes\n")
