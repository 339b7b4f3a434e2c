"""engine.pipeline.run leaves the caller's objects as they were."""

from dataclasses import replace

import numpy as np
import torch

from engine.mesh.loading import load_mesh
from engine.outputs import load_field
from engine.pipeline import run
from engine.progress import Reporter
from engine.segment.segmentation import segment_surface, with_clusters
from engine.settings import run_settings


def test_a_reused_field_is_not_changed_by_the_run(segmented_lollipop, lollipop):
    vertices, faces = load_mesh(lollipop[0])  # what the saved field was fitted to
    reuse = replace(load_field(segmented_lollipop), graph=None, graph_key="")
    before = {k: v.clone() for k, v in reuse.model.state_dict().items()}
    result = run(vertices, faces, run_settings("fast", parts=2, threads=2, part_meshes=False), Reporter(),
                 reuse=reuse)
    assert result.field.graph is not None and result.field.graph_key  # the run's own field carries its graph
    assert reuse.graph is None and reuse.graph_key == ""
    assert result.field.model is not reuse.model
    after = reuse.model.state_dict()
    assert all(torch.equal(before[k], after[k]) and after[k].device.type == "cpu" for k in before)
    assert len(np.unique(result.vertex_labels)) == 2


def test_a_recluster_keeps_the_over_segmentation_of_its_seed_and_makes_a_new_one_for_another(segmented_lollipop):
    graph = load_field(segmented_lollipop).graph
    settings = run_settings("fast", parts=2).segment
    assert with_clusters(graph, settings, graph.clusters_seed) is graph
    recomputed = with_clusters(replace(graph, clusters=None), settings, graph.clusters_seed)
    assert np.array_equal(recomputed.clusters, graph.clusters)  # the kept clusters are what k-means gives
    other = with_clusters(graph, settings, graph.clusters_seed + 1)
    assert other.clusters_seed == graph.clusters_seed + 1 and other is not graph
    vertices = np.zeros((len(graph.areas), 3))  # the same on both sides: only the clusters' source differs
    faces = np.zeros((0, 3), np.int64)  # a part count is given: no step reads the faces
    kept = segment_surface(vertices, faces, graph, settings, graph.clusters_seed).part_labels
    assert np.array_equal(kept, segment_surface(vertices, faces, recomputed, settings, graph.clusters_seed).part_labels)


def test_kitbashed_pieces_stay_apart_where_they_touch_and_screws_join_the_part_they_sit_in():
    from bench.kitbash import _pieces_mesh, loose_pieces, screw_pieces
    from bench.metrics import adjusted_rand
    from bench.shapes import benchmark_shapes

    shape = replace(benchmark_shapes()["table"], mesh_resolution=96)
    parts = loose_pieces(shape)
    vertices, faces, truth = _pieces_mesh(parts + screw_pieces(shape, parts))
    labels = run(vertices, faces, run_settings("fast", threads=2, part_meshes=False), Reporter()).vertex_labels
    assert len(np.unique(labels)) == 5  # the top and four legs; the eight screws are in them
    assert adjusted_rand(truth, labels) > 0.99


def test_a_saved_graph_is_reused_only_for_its_own_version_settings_and_seed(segmented_lollipop, lollipop):
    vertices, faces = load_mesh(lollipop[0])
    saved = load_field(segmented_lollipop)
    settings = run_settings("fast", threads=2, part_meshes=False)  # the folder's own: default seed, auto

    def graph_after(field, seed):
        return run(vertices, faces, replace(settings, seed=seed), Reporter(), reuse=field).field.graph

    assert graph_after(saved, settings.seed).edges is saved.graph.edges, "the same key: the saved graph"
    # The thickness is read at seeded vertices: another seed reads it again (the key names the seed).
    assert graph_after(saved, settings.seed + 1).edges is not saved.graph.edges
    older = replace(saved, graph_key=saved.graph_key.replace("v2|", "v1|", 1))  # saved before cuts and thickness
    assert graph_after(older, settings.seed).edges is not saved.graph.edges
