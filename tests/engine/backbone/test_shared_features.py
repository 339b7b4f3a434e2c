"""``--features dino``: the shared backbone as the activation cue, types named by its prototypes."""

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine.backbone.shared_features import prototype_types
from engine.errors import BadInputError
from engine.outputs import load_field
from engine.pipeline import run
from engine.progress import Reporter
from engine.settings import run_settings

REPO = Path(__file__).resolve().parents[3]


def test_each_part_takes_its_majority_prototype_and_types_are_named_by_prototype():
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    prototypes = np.array([7, 7, 3, 12, 12, 7, 3, 7])
    part_types, names = prototype_types(labels, prototypes)
    assert names == ("Kind 07", "Kind 12")
    assert part_types.tolist() == [0, 1, 0]  # parts 0 and 2 are both mostly prototype 7


def test_types_cannot_be_counted_by_hand_with_shared_features():
    with pytest.raises(BadInputError, match="--types"):
        run_settings(types=3, features="dino")
    with pytest.raises(BadInputError, match="features"):
        run_settings(features="clip")


@pytest.fixture(scope="module")
def dino_run(lollipop):
    _, vertices, faces, _ = lollipop
    settings = run_settings("fast", seed=0, threads=2, part_meshes=False, features="dino")
    return settings, run(vertices, faces, settings, Reporter())


def test_a_moved_and_scaled_copy_gets_the_same_parts_and_type_names(lollipop, dino_run):
    _, vertices, faces, truth = lollipop
    settings, result = dino_run
    names = result.segmentation.type_names
    assert names and all(name.startswith("Kind ") for name in names)
    assert result.field.graph.prototypes is not None and len(result.field.graph.prototypes) == len(
        result.welded.vertices)
    moved = run(vertices * 2.5 + np.array([3.0, -1.0, 0.5]), faces, settings, Reporter())
    assert moved.segmentation.type_names == names
    assert np.array_equal(moved.vertex_labels, result.vertex_labels)
    head = np.bincount(result.vertex_labels[truth == 0]).argmax()
    stick = np.bincount(result.vertex_labels[truth == 1]).argmax()
    assert head != stick, "the DINO features still tell the sphere from the stick"


def test_a_recluster_and_an_edit_keep_the_prototype_names(lollipop, dino_run, tmp_path):
    from engine.outputs import write_output

    _, vertices, faces, _ = lollipop
    settings, result = dino_run
    document = write_output(tmp_path / "out", result, settings, vertices, faces, "lollipop")
    assert document["settings"]["segment"]["features"] == "dino"
    assert {t["name"] for t in document["types"]} == {p["type_name"] for p in document["parts"]}
    saved = load_field(tmp_path / "out")
    assert np.array_equal(saved.graph.prototypes, result.field.graph.prototypes)
    again = run(vertices, faces, replace(settings, segment=replace(settings.segment, parts=2)), Reporter(),
                reuse=saved)
    assert set(again.segmentation.type_names) <= set(result.segmentation.type_names)
    edited = run(vertices, faces, settings, Reporter(), reuse=saved, labels=result.vertex_labels)
    assert edited.segmentation.type_names == result.segmentation.type_names


def test_missing_weights_are_refused_before_the_fit_with_what_to_do(lollipop, tmp_path):
    install = tmp_path / "install"
    shutil.copytree(REPO / "engine", install / "engine", ignore=shutil.ignore_patterns("__pycache__"))
    (install / "engine" / "backbone" / "weights" / "head.pt").unlink()
    done = subprocess.run([sys.executable, "-m", "engine", "segment", str(lollipop[0]), "-o", str(tmp_path / "out"),
                           "--features", "dino", "--events"], cwd=install, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert "fit" not in [e.get("message") for e in events if e["type"] == "STATUS"]
    assert events[-1]["type"] == "ERROR" and "head.pt" in events[-1]["message"]
    assert "reinstall" in done.stderr.strip().splitlines()[-1] and not (tmp_path / "out").exists()
