"""bench.speed_table: a real CLI run timed to its LABELS and DONE events."""

import numpy as np

from bench.memory_table import REPOSITORY
from bench.speed_table import render_speed_table, timed_segment


def test_a_real_run_is_timed_to_its_parts_then_to_its_meshes(lollipop, tmp_path):
    _, vertices, faces, _ = lollipop
    mesh = tmp_path / "lollipop.npz"
    np.savez(mesh, vertices=vertices, faces=faces)
    row = timed_segment(mesh, tmp_path / "out", 2, REPOSITORY, quality="fast")
    assert row["exit_code"] == 0 and row["parts"] == 2 and row["labels"].shape == (len(vertices),)
    assert 0 < row["labels_s"] < row["done_s"], "the parts come before the part meshes"
    assert row["labels_s"] > row["fit"] + row["segment"] and row["done_s"] > row["labels_s"] + row["part_fit"]
    assert row["peak_rss_mb"] > 100
    del row["labels"]
    row.update(mesh="lollipop", faces=len(faces), engine="this", coacd_s=10.0, ari=0.99)
    table = render_speed_table([row, {**row, "engine": "previous", "done_s": 2 * row["done_s"]}], 2, tmp_path)
    assert "| lollipop |" in table and "2.00x" in table
