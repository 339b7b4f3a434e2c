import numpy as np
import pytest
import trimesh

from bench.shapes import benchmark_shapes
from engine.mesh.marching import mesh_from_sdf


@pytest.fixture(scope="session")
def lollipop(tmp_path_factory):
    """A small welded lollipop mesh file and its ground-truth vertex labels."""
    shape = benchmark_shapes()["lollipop"]
    vertices, faces = mesh_from_sdf(shape.sdf, 96)
    path = tmp_path_factory.mktemp("mesh") / "lollipop.obj"
    trimesh.Trimesh(vertices, faces, process=False).export(path)
    return path, vertices, faces, shape.labels(vertices)


@pytest.fixture(scope="session")
def segmented_lollipop(lollipop, tmp_path_factory):
    """The CLI's output folder for the lollipop (fast preset), shared by several tests."""
    from engine.cli import main

    path = lollipop[0]
    out = tmp_path_factory.mktemp("run") / "out"
    code = main(["segment", str(path), "-o", str(out), "--quality", "fast", "--threads", "2"])
    assert code == 0
    return out


@pytest.fixture
def unit_cube() -> tuple[np.ndarray, np.ndarray]:
    """Vertices (8, 3) and faces (12, 3) of a cube."""
    box = trimesh.creation.box()
    return np.asarray(box.vertices), np.asarray(box.faces)
