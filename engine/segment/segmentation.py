"""From per-vertex activations to parts (WHERE) and part types (WHAT).

1. Spectral embedding of the mesh graph weighted by activation change and
   concave creases (``engine.segment.clustering``); the solid's thickness
   under each vertex (diameter and radius read from the field,
   ``engine.field.thickness``) is kept for step 3.
2. Over-segmentation: k-means in the embedding into ``max_parts`` clusters,
   connected components of each cluster on the mesh without its cut edges
   (weight below the weak-cut threshold of step 3, with the gaps coarse
   meshes leave in a crease closed, ``close_crease_gaps``): a cluster that
   spans a closed cut, a collar and the base it stands on, is split along
   it. Small fragments merged (``engine.segment.instances``).
3. Region merging across weak cuts: adjacent regions merge, most connected
   first, while the mean edge weight along their boundary is above half the
   median edge weight: a boundary stays only where the cues say the surface
   is cut. The weight is lowered by the difference of the two regions'
   thickness (a finger on a palm, a leg on a torso: no crease, but thin on
   thick), so organic parts are cut where creases are missing (one-piece
   surfaces only: on kitbashed pieces the rays run into the neighbours). A merge is
   refused when the union's concavity is over ``bridge_ratio`` times either
   region's own, both over the whole hull and over the hull outside the
   solid (two straight handles meeting in a V; ``BridgeVeto``).
4. Convex merging: adjacent regions whose union is nearly convex (concavity
   below CoACD's default 0.05 of the unit cube, or twice the edge length on
   coarse meshes) are one part: a collar on a
   baluster, a box face split by a spurious cut; but not two regions that
   are copies of each other meeting at a neck (a pair of glasses' rims,
   ``CopyVeto``; measured on near-final regions only: fragments of one
   sphere are copies of each other too), nor an end standing on a concave
   crease (a shaft's thin end, a fin: one region that touches only the
   other, their boundary mostly a crease; ``CreaseEndVeto``; a ball threaded
   on a baluster has neighbours on both sides and joins). With a part count given,
   the most nearly convex pairs merge until that count remains; if the cuts
   alone left fewer regions, merging restarts from the over-segmentation
   and stops at the count.
   Then, in auto mode on one piece with the thickness cue, the two sides of a thin wall join
   (``engine.segment.walls``): a region most of whose surface looks through the solid at one
   other region, nearer than its radius (a cup's inside and outside, a seat's top and
   bottom), is that region's other side.
   Separate pieces (a kitbashed asset's closed parts) stay apart in steps 2-3;
   where they touch (vertices within ``PIECE_CONTACT`` edge lengths) a small
   fragment merges into the piece it sits on (a screw into its board) and
   step 4 merges pieces whose union is nearly convex (boards of one slab),
   judged on the union's outer surface only (what one piece hides inside
   another would fill the concavity between them).
5. Types: parts grouped by a size- and pose-invariant shape signature.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..mesh.graph import (
    close_crease_gaps,
    concave_angles,
    covering_pieces,
    piece_ids,
    unique_edges,
    vertex_areas,
    vertex_normals,
)
from ..settings import SegmentSettings
from .clustering import SpectralEmbedding, boundary_strength, cluster_embedding, edge_weights, spectral_embedding
from .convexity import BridgeVeto, SolidSide, merge_nearly_convex
from .ends import CreaseEndVeto
from .instances import (
    RegionThickness,
    merge_across_weak_cuts,
    merge_small_regions,
    piece_contacts,
    split_into_instances,
)
from .repetition import CopyVeto
from .types import group_types
from .walls import far_side_vertices, merge_wall_sides

CUT_AFFINITY = 0.5  # a boundary is a cut when its mean weight is below half the median weight
PIECE_CONTACT = 2.0  # separate pieces touch where their vertices are closer than this many edge lengths
GRAPH_VERSION = 2  # 2: the graph holds its thickness and cut edges (saved graphs of version 1 are rebuilt)


@dataclass(frozen=True)
class SurfaceGraph:
    """What segmentation needs of a welded mesh and its fitted field.

    edges: (e, 2), weights: (e,), areas: (n,), embedding: eigenpairs; clusters: (n,) the k-means
    over-segmentation of the embedding with seed ``clusters_seed`` (None until ``with_clusters``),
    kept so that a re-cluster to another part count does not run k-means again. covering: (n,) int,
    the piece a vertex is hidden inside of, -1 where none (``covering_pieces``; None: one piece).
    log_thickness: (n, 2) log diameter and radius per vertex (``engine.field.thickness``), None when
    the thickness cue is off or the surface is in several pieces.
    cuts: (e,) bool, the edges the over-segmentation is split along: weight below the cut threshold
    with the creases' gaps closed; none on a surface of several pieces.
    prototypes: (n,) int, the shared backbone's prototype per vertex when the activation cue is its DINO
    features (``SegmentSettings.features == "dino"``), else None; parts take their types from it.
    """

    edges: np.ndarray
    weights: np.ndarray
    areas: np.ndarray
    embedding: SpectralEmbedding
    cuts: np.ndarray
    clusters: np.ndarray | None = None
    clusters_seed: int | None = None
    covering: np.ndarray | None = None
    log_thickness: np.ndarray | None = None
    prototypes: np.ndarray | None = None


@dataclass(frozen=True)
class Segmentation:
    """part_labels: (n,) int per welded vertex; part_types: (p,) int type of each part."""

    part_labels: np.ndarray
    part_types: np.ndarray
    type_names: tuple[str, ...]


def graph_key(settings: SegmentSettings, seed: int) -> str:
    """The segment settings the surface graph depends on, and its version, as a string (cache key).

    With the thickness cue the key holds ``seed`` too: the thickness is read at seeded vertices
    (``engine.field.thickness``), so a re-cluster with another seed reads it again.
    """
    thickness = f"{settings.use_thickness}@{seed}" if settings.use_thickness else "False"
    return (f"v{GRAPH_VERSION}|{settings.feature_set}|{settings.use_activations}|{settings.activation_scale}|"
            f"{settings.use_creases}|{settings.crease_angle}|{thickness}|"
            f"{max(settings.max_parts, settings.parts or 0)}|{settings.features}")


def build_surface_graph(
    vertices: np.ndarray, faces: np.ndarray, features: np.ndarray, thickness: np.ndarray | None,
    settings: SegmentSettings,
) -> SurfaceGraph:
    """Weighted mesh graph and its spectral embedding.

    vertices: (n, 3) unit-cube, faces: (m, 3), features: (n, d) standardised activations,
    thickness: (n, 2) diameter and radius per vertex (``engine.field.thickness.surface_thickness``),
    or None: no thickness cue (it is also off when ``settings.use_thickness`` is).
    """
    edges = unique_edges(faces)
    strength = (settings.activation_scale * boundary_strength(features, vertices, edges)
                if settings.use_activations else None)
    concave = concave_angles(vertices, vertex_normals(vertices, faces), edges) if settings.use_creases else None
    weights = edge_weights(strength, concave, settings.crease_angle)
    areas = vertex_areas(vertices, faces)
    embedding = spectral_embedding(edges, weights, areas, max(settings.max_parts, settings.parts or 0))
    pieces = piece_ids(edges, len(vertices))
    covering = covering_pieces(vertices, faces, pieces, 0.5 * _spacing(vertices, edges)) if pieces.max() else None
    # On a surface of several pieces rays from one run into the others (kitbash, docs/design.md): no cue there.
    one_piece = covering is None
    # Split along cuts on one piece only: kitbashed boards split along their own edges and no longer
    # merged as slabs (docs/kitbash.md, 2026-12-07).
    cuts = (_cut_edges(strength, concave, edges, len(vertices), weights, settings) if one_piece
            else np.zeros(len(edges), bool))
    log_thickness = np.log(thickness) if thickness is not None and settings.use_thickness and one_piece else None
    return SurfaceGraph(edges=edges, weights=weights, areas=areas, embedding=embedding, cuts=cuts,
                        covering=covering, log_thickness=log_thickness)


def _cut_edges(strength: np.ndarray | None, concave: np.ndarray | None, edges: np.ndarray, count: int,
               weights: np.ndarray, settings: SegmentSettings) -> np.ndarray:
    """(e,) bool: edges whose weight, with the creases' gaps closed, is below the cut threshold of ``weights``."""
    closed_concave = None if concave is None else close_crease_gaps(concave, edges, count)
    return edge_weights(strength, closed_concave, settings.crease_angle) < cut_threshold(weights)


def cut_threshold(weights: np.ndarray) -> float:
    """The edge weight below which a boundary is a cut: ``CUT_AFFINITY`` times the median of (e,) weights."""
    return CUT_AFFINITY * float(np.median(weights))


def _any_of(*vetoes: Callable[[np.ndarray, np.ndarray], bool] | None
            ) -> Callable[[np.ndarray, np.ndarray], bool] | None:
    """One veto that refuses what any of the given ones (None: absent) refuses, asked in their order.

    Each veto takes two regions as (n,) bool masks and returns whether to refuse their merge.
    """
    present = [veto for veto in vetoes if veto is not None]
    if not present:
        return None
    return lambda first, second: any(veto(first, second) for veto in present)


def _spacing(vertices: np.ndarray, edges: np.ndarray) -> float:
    """The median edge length."""
    return float(np.median(np.linalg.norm(vertices[edges[:, 0]] - vertices[edges[:, 1]], axis=1)))


def with_clusters(graph: SurfaceGraph, settings: SegmentSettings, seed: int) -> SurfaceGraph:
    """The graph with its over-segmentation for ``seed``: itself when it has it, else a copy with it.

    The cluster count is the graph's own (``graph_key`` holds it), so only the seed can differ.
    """
    if graph.clusters is not None and graph.clusters_seed == seed:
        return graph
    over = min(max(settings.max_parts, settings.parts or 0), graph.embedding.vectors.shape[1])
    return replace(graph, clusters=cluster_embedding(graph.embedding, over, seed), clusters_seed=seed)


def segment_surface(
    vertices: np.ndarray, faces: np.ndarray, graph: SurfaceGraph, settings: SegmentSettings, seed: int
) -> Segmentation:
    """Parts and types of a welded surface (n, 3) / (m, 3) (see module docstring)."""
    uncut_edges = graph.edges[~graph.cuts]
    fragments = split_into_instances(with_clusters(graph, settings, seed).clusters, uncut_edges)
    spacing = _spacing(vertices, graph.edges)
    touching = np.concatenate([graph.edges, piece_contacts(vertices, graph.edges, PIECE_CONTACT * spacing)])
    normals = vertex_normals(vertices, faces)  # outward: the engine winds every mesh so (engine.mesh.orientation)
    piece_of_vertex = piece_ids(graph.edges, len(vertices))
    pieces = None if graph.covering is None else piece_of_vertex
    min_size = max(1, int(settings.min_fragment_share * len(vertices)))
    fragments = merge_small_regions(fragments, touching, min_size)
    threshold = cut_threshold(graph.weights)
    thickness = None if graph.log_thickness is None else RegionThickness(graph.log_thickness, graph.areas,
                                                                        settings.thickness_scale)
    bridge = None
    if settings.bridge_ratio:
        solid = SolidSide(vertices, normals, piece_of_vertex, 2.0 * spacing)
        bridge = BridgeVeto(vertices, settings.bridge_ratio, 2.0 * spacing, seed, side=solid)
    regions = merge_across_weak_cuts(fragments, graph.edges, graph.weights, threshold=threshold,
                                     thickness=thickness, refuse=bridge)
    if settings.parts is None:
        # Concavity is only measured down to the mesh's own spacing: below it everything looks convex.
        threshold = max(settings.convex_concavity, 2.0 * spacing)
        copies = CopyVeto(vertices, faces, graph.areas, settings.copy_neck, seed) if settings.copy_neck else None
        ends = None
        if settings.end_crease_weight and settings.use_creases:
            # The graph keeps only the weights with the activations in; the crease alone is cheap to read again.
            crease_weights = edge_weights(None, concave_angles(vertices, normals, graph.edges), settings.crease_angle)
            ends = CreaseEndVeto(graph.edges, crease_weights, touching, settings.end_crease_weight)
        regions = merge_nearly_convex(regions, touching, vertices, seed, threshold=threshold,
                                       covering=graph.covering, pieces=pieces, refuse=_any_of(ends, copies))
        if settings.wall_share and graph.log_thickness is not None:
            diameter = np.exp(graph.log_thickness[:, 0])
            regions = merge_wall_sides(regions, far_side_vertices(vertices, normals, diameter), diameter,
                                       graph.areas, settings.wall_share)
    elif regions.max() + 1 >= settings.parts:
        regions = merge_nearly_convex(regions, touching, vertices, seed, target=settings.parts,
                                       covering=graph.covering, pieces=pieces)
    else:
        regions = merge_across_weak_cuts(fragments, graph.edges, graph.weights, target=settings.parts,
                                         thickness=thickness)
    part_types, type_names = group_types(vertices, regions, settings.types)
    return Segmentation(part_labels=regions, part_types=part_types, type_names=type_names)
