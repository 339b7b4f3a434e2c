"""engine.outputs on a real run's folder: the document, names, colours and the saved field round trip."""

import json

import numpy as np
import pytest
import torch

from engine import contract
from engine.errors import BadInputError
from engine.outputs import load_field, part_mesh_name, part_names, save_field
from engine.settings import run_settings


def test_the_document_lists_its_files_and_parts_that_match_the_labels(segmented_lollipop):
    document = json.loads((segmented_lollipop / contract.SEGMENTATION).read_text())
    assert document["format_version"] == contract.FORMAT_VERSION
    for key, name in document["files"].items():
        assert (segmented_lollipop / name).exists(), key
    labels = np.load(segmented_lollipop / contract.VERTEX_LABELS)
    assert labels.dtype == np.int32
    assert sorted(p["id"] for p in document["parts"]) == sorted(np.unique(labels).tolist())
    for part in document["parts"]:
        assert part["vertex_count"] == int((labels == part["id"]).sum())
        assert part["color"] == [round(c, 4) for c in contract.part_color(part["id"])]


def test_the_saved_field_loads_back_to_the_same_network(segmented_lollipop, tmp_path):
    fitted = load_field(segmented_lollipop)
    save_field(tmp_path, fitted, run_settings("fast"))
    again = load_field(tmp_path)
    first, second = fitted.model.state_dict(), again.model.state_dict()
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert (again.normalisation, again.mesh_hash, again.graph_key) == (
        fitted.normalisation, fitted.mesh_hash, fitted.graph_key)
    assert np.array_equal(again.graph.edges, fitted.graph.edges)
    assert fitted.graph.clusters is not None and again.graph.clusters_seed == fitted.graph.clusters_seed
    assert np.array_equal(again.graph.clusters, fitted.graph.clusters)
    # what segmenting reads besides the embedding and the clusters survives the folder
    assert fitted.graph.cuts is not None and np.array_equal(again.graph.cuts, fitted.graph.cuts)
    assert fitted.graph.log_thickness is not None
    assert np.array_equal(again.graph.log_thickness, fitted.graph.log_thickness, equal_nan=True)


def test_a_saved_graph_that_does_not_fit_its_edges_is_rebuilt_not_used(segmented_lollipop, tmp_path):
    fitted = load_field(segmented_lollipop)
    save_field(tmp_path, fitted, run_settings("fast"))
    with np.load(tmp_path / contract.SURFACE_GRAPH) as data:
        arrays = {key: data[key] for key in data.files}
    arrays["cuts"] = arrays["cuts"][:-1]
    np.savez(tmp_path / contract.SURFACE_GRAPH, **arrays)
    assert load_field(tmp_path).graph is None


def test_a_damaged_model_description_is_bad_input(segmented_lollipop, tmp_path):
    fitted = load_field(segmented_lollipop)
    save_field(tmp_path, fitted, run_settings("fast"))
    (tmp_path / contract.MODEL_INFO).write_text("{not json")
    with pytest.raises(BadInputError, match="damaged"):
        load_field(tmp_path)


def test_part_names_count_within_each_type_and_mesh_names_are_safe():
    assert part_names(np.array([1, 0, 1, 1]), ("Rod", "Panel")) == ["Panel 01", "Rod 01", "Panel 02", "Panel 03"]
    assert part_mesh_name(7, "Rod B / top") == f"{contract.PART_MESH_FOLDER}/07_rod_b___top.obj"
