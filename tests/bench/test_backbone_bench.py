import numpy as np

from bench.backbone_bench import BenchMesh, type_consistency


def _mesh(family: str, kinds: list[int]) -> BenchMesh:
    kinds = np.array(kinds)
    return BenchMesh("m", family, np.zeros((len(kinds), 3)), np.zeros((0, 3), dtype=int), kinds, kinds)


def test_type_consistency_pools_each_family_and_rewards_names_shared_across_meshes():
    meshes = [_mesh("a", [0, 0, 1, 1]), _mesh("a", [0, 1, 1, 1]), _mesh("b", [2, 2, 3, 3])]
    types = [{"shared": np.array(["x", "x", "y", "y"]), "per_mesh": np.array([5, 5, 6, 6])},
             {"shared": np.array(["x", "y", "y", "y"]), "per_mesh": np.array([6, 5, 5, 5])},
             {"shared": np.array(["z", "z", "w", "w"]), "per_mesh": np.array([1, 1, 2, 2])}]
    table = type_consistency(meshes, types)
    assert set(table) == {"a", "b", "all"}
    assert np.isclose(table["a"]["shared"], 1.0) and table["a"]["per_mesh"] < 0.5
