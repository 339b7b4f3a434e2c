"""What the format readers' tests share: a sample cube, and writing then loading a file."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from engine.mesh.loading import load_mesh


@dataclass(frozen=True)
class SampleCube:
    """A cube with its corners shuffled, one vertex (index 4, 0-based) that no face uses, and quads.

    vertices: (9, 3) float. quads: (6, 4) int, 0-based, outward, each quad a b c d.
    fan: (12, 3) int, quad i fanned into triangles 2i (a b c) and 2i + 1 (a c d).
    """

    vertices: np.ndarray
    quads: np.ndarray
    fan: np.ndarray


@pytest.fixture
def cube() -> SampleCube:
    vertices = np.array(
        [[1, 1, 1], [0, 0, 0], [1, 0, 0], [0, 1, 1], [5, 5, 5], [1, 1, 0], [0, 0, 1], [0, 1, 0], [1, 0, 1]], float
    )
    quads = np.array([[1, 7, 5, 2], [6, 8, 0, 3], [1, 2, 8, 6], [7, 3, 0, 5], [1, 6, 3, 7], [2, 5, 0, 8]])
    fan = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]], axis=1).reshape(-1, 3)
    return SampleCube(vertices, quads, fan)


@pytest.fixture
def load_file(tmp_path) -> Callable[[str, str | bytes], tuple[np.ndarray, np.ndarray]]:
    """``load_file(name, text or bytes)``: writes the file in tmp_path and reads it with ``load_mesh``."""

    def load(name: str, content: str | bytes) -> tuple[np.ndarray, np.ndarray]:
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return load_mesh(path)

    return load


@pytest.fixture
def assert_same_mesh() -> Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]:
    """``assert_same_mesh(vertices, faces, expected_vertices, expected_faces)``."""

    def check(vertices, faces, expected_vertices, expected_faces) -> None:
        np.testing.assert_allclose(vertices, expected_vertices)
        np.testing.assert_array_equal(faces, expected_faces)

    return check
