"""A whole segmentation run on arrays: weld, normalise, fit, probe, segment, map back."""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from .backbone.shared_features import prototype_types, shared_features, shipped_models
from .device import configure_threads, resolve_device
from .errors import BadInputError
from .field.fitting import FitReport, fit_sdf
from .field.model import SDFDecoder
from .field.probing import activations, evaluate, feature_set
from .field.thickness import surface_thickness
from .memory import check_memory
from .mesh.normalisation import Normalisation
from .mesh.orientation import orient_consistently
from .mesh.welding import WeldedMesh, weld
from .parts.part_fields import PartFitReport, fit_part_field
from .parts.part_meshes import PartMeshes, part_meshes
from .progress import SHARED_STAGE_WEIGHTS, Reporter
from .segment.classifier import held_out_accuracy
from .segment.given_parts import GivenParts, after_split, caller_face_labels, from_face_labels, from_vertex_labels
from .segment.segmentation import (
    Segmentation,
    SurfaceGraph,
    build_surface_graph,
    graph_key,
    segment_surface,
    with_clusters,
)
from .segment.types import group_types
from .settings import RunSettings

MAX_FACES = {"fast": 1_000_000, "balanced": 1_000_000, "high": 2_000_000}


@dataclass
class FittedField:
    """A fitted decoder with what is needed to reuse it on the same mesh."""

    model: SDFDecoder
    normalisation: Normalisation
    mesh_hash: str
    report: FitReport | None = None
    graph: SurfaceGraph | None = None
    graph_key: str = ""


@dataclass
class RunResult:
    """Everything a run produces, in the caller's vertex and face order.

    vertex_labels: (n,) int32, face_labels: (m,) int32 (majority of corners, or the caller's own
    face labels): part ids, the caller's own when labels were given.
    part_ids: (k,) the id of each dense part index of ``segmentation`` (0..k-1 when clustered).
    vertexless_parts: given ids whose faces won no vertex: listed, but without a part volume.
    notes: requests the run could not meet (also sent as warnings), for segmentation.json.
    """

    welded: WeldedMesh
    field: FittedField
    segmentation: Segmentation
    vertex_labels: np.ndarray
    face_labels: np.ndarray
    classifier_accuracy: float | None
    device: str
    threads: int
    part_ids: np.ndarray
    vertexless_parts: tuple[int, ...] = ()
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    parts: PartVolumes | None = None


@dataclass
class PartVolumes:
    """The per-part SDFs (a decoder (n, 3) -> (n, parts) in unit-cube coordinates) and their meshes.

    meshes are in unit-cube coordinates; empty for a part thinner than the grid.
    """

    field: SDFDecoder
    meshes: PartMeshes
    report: PartFitReport


def mesh_hash(welded: WeldedMesh) -> str:
    """Hex digest of the welded geometry (positions rounded to 1e-9 and faces)."""
    digest = hashlib.sha256()
    digest.update(np.round(welded.vertices, 9).astype(np.float64).tobytes())
    digest.update(welded.faces.astype(np.int64).tobytes())
    return digest.hexdigest()[:16]


class StageClock:
    """Names each stage to the reporter and records how long it and its sub-steps took (seconds)."""

    def __init__(self, reporter: Reporter):
        self.reporter = reporter
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, timing: str | None = None):
        """A reported stage, timed as ``timing`` (default: its name)."""
        self.reporter.stage(name)
        with self.timed(timing or name):
            yield

    @contextmanager
    def timed(self, name: str):
        started = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - started


@dataclass
class PreparedMesh:
    """The welded, consistently wound mesh of a run, its hash and the caller's given parts (if any)."""

    welded: WeldedMesh
    digest: str
    given: GivenParts | None
    orientation_note: str | None


def run(
    vertices: np.ndarray,
    faces: np.ndarray,
    settings: RunSettings,
    reporter: Reporter,
    reuse: FittedField | None = None,
    labels: np.ndarray | None = None,
    split: tuple[int, int] | None = None,
    face_labels: np.ndarray | None = None,
    on_labels: Callable[[RunResult], None] | None = None,
) -> RunResult:
    """Segment a validated mesh (n, 3) / (m, 3); fit a field unless ``reuse`` matches the mesh.

    ``labels``: (n,) int part ids per input vertex, or ``face_labels``: (m,) per
    triangle, given instead of clustering (an edited segmentation); the ids are
    the caller's and come back unchanged (see ``given_parts``).
    ``split``: (a given part id, k): that part is split into k by segmenting its
    own faces and activations; new parts get the ids after the last given one.
    ``reuse`` is not changed: the result carries its own copy of the field.
    ``on_labels``: called with the result without part volumes as soon as the
    labels exist, before the part SDFs are fitted (only when they will be).
    """
    check_face_count(len(faces), settings.quality)
    device = resolve_device(settings.device)
    threads = configure_threads(settings.threads)
    if settings.segment.features == "dino":
        shipped_models()  # a missing or damaged weights file is refused before the fit
        reporter.weights = SHARED_STAGE_WEIGHTS
    clock = StageClock(reporter)

    with clock.stage("load"):
        mesh = prepare_mesh(vertices, faces, settings, reuse, labels, face_labels, split)
    welded, given = mesh.welded, mesh.given
    with clock.stage("fit"):
        fitted = fitted_field(welded, mesh.digest, settings, device, reporter, reuse)

    unit_vertices = fitted.normalisation.to_unit(welded.vertices)
    split_pieces, accuracy = None, None  # the classifier is scored only on a clustering
    if given is None:
        fitted, segmentation, accuracy = _cluster(fitted, unit_vertices, welded.faces, settings, device, clock)
    else:
        with clock.stage("segment"):
            given, segmentation, split_pieces = _given_segmentation(fitted, unit_vertices, welded.faces, given,
                                                                    split, settings, device)
        for part in given.vertexless:
            reporter.warn(f"part {part} holds no vertex of its own (its faces are too few): it keeps its faces "
                          "but gets no part mesh")

    notes = ([mesh.orientation_note] if mesh.orientation_note else []) + unmet_counts(
        settings, segmentation, given is None, split_pieces)
    for note in notes:
        reporter.warn(note)

    part_ids = np.arange(len(segmentation.part_types)) if given is None else given.ids
    vertex_labels = part_ids[segmentation.part_labels][welded.input_to_welded].astype(np.int32)
    split_id = None if split is None else split[0]
    result = RunResult(
        welded=welded,
        field=fitted,
        segmentation=segmentation,
        vertex_labels=vertex_labels,
        face_labels=caller_face_labels(given, vertex_labels, faces, split_id),
        classifier_accuracy=accuracy,
        device=str(device),
        threads=threads,
        part_ids=part_ids,
        vertexless_parts=() if given is None else given.vertexless,
        notes=notes,
        timings=dict(clock.timings),
    )
    if settings.part_field is None:
        return result
    if on_labels is not None:
        on_labels(result)
    volumes = _part_volumes(fitted, unit_vertices, welded.faces, segmentation, settings, device, clock)
    return replace(result, parts=volumes, timings=clock.timings)


def check_face_count(faces: int, quality: str) -> None:
    """Refuse a mesh with more faces than the quality preset handles."""
    limit = MAX_FACES.get(quality, 1_000_000)
    if faces > limit:
        raise BadInputError(
            f"the mesh has {faces:,} faces; the {quality} preset handles up to {limit:,}. "
            "Decimate it first (Blender: Decimate modifier) or use a higher preset"
        )


def prepare_mesh(
    vertices: np.ndarray,
    faces: np.ndarray,
    settings: RunSettings,
    reuse: FittedField | None,
    labels: np.ndarray | None,
    face_labels: np.ndarray | None,
    split: tuple[int, int] | None,
) -> PreparedMesh:
    """Weld, check memory, wind consistently, hash, and read the given parts (stage ``load``)."""
    welded = weld(vertices, faces)
    clustered = labels is None and face_labels is None
    check_memory(len(welded.vertices), len(faces), settings, reuse.model.settings if reuse else None,
                 reads_activations=clustered or split is not None)
    orientation = orient_consistently(welded.vertices, welded.faces)
    welded = replace(welded, faces=orientation.faces)  # the winding used inside; outputs keep the caller's faces
    digest = mesh_hash(welded)
    given = _given_parts(welded, faces, labels, face_labels)
    if split is not None:
        if given is None:
            raise BadInputError(f"cannot split part {split[0]}: give the parts with --labels or --face-labels")
        given.dense_index(split[0])
        if split[1] < 2:
            raise BadInputError(f"split a part into 2 or more pieces, not {split[1]}")
    return PreparedMesh(welded, digest, given, orientation.warning())


def fitted_field(welded: WeldedMesh, digest: str, settings: RunSettings, device: torch.device, reporter: Reporter,
                 reuse: FittedField | None) -> FittedField:
    """The run's field on ``device`` (stage ``fit``): a copy of ``reuse`` when it matches the mesh, else a new fit."""
    if reuse is not None:
        if reuse.mesh_hash != digest:
            raise BadInputError("the saved model was fitted to a different mesh; run without --reuse to fit again")
        reporter.progress(1.0)
        return replace(reuse, model=copy.deepcopy(reuse.model).to(device))
    normalisation = Normalisation.fit(welded.vertices)
    model, report = fit_sdf(
        normalisation.to_unit(welded.vertices), welded.faces, settings.fit, settings.seed, device,
        progress=reporter.progress,
    )
    return FittedField(model=model, normalisation=normalisation, mesh_hash=digest, report=report)


def _given_segmentation(
    fitted: FittedField, unit_vertices: np.ndarray, faces: np.ndarray, given: GivenParts,
    split: tuple[int, int] | None, settings: RunSettings, device: torch.device,
) -> tuple[GivenParts, Segmentation, tuple[int, int] | None]:
    """The caller's parts (one split when asked) with their types; (asked, found) pieces of a split."""
    split_pieces = None
    if split is not None:
        before = len(given.ids)
        given = after_split(given, split_part(fitted.model, unit_vertices, faces, given.welded_labels,
                                              given.dense_index(split[0]), split[1], settings, device))
        split_pieces = (split[1], len(given.ids) - before + 1)
    if settings.segment.features == "dino":
        prototypes = fitted.graph.prototypes if fitted.graph is not None and fitted.graph.prototypes is not None \
            else shared_features(unit_vertices, faces, settings.fit, settings.seed, device).prototypes
        part_types, type_names = prototype_types(given.welded_labels, prototypes)
        return given, Segmentation(given.welded_labels, part_types, type_names), split_pieces
    part_types, type_names = group_types(unit_vertices, given.welded_labels, settings.segment.types)
    return given, Segmentation(given.welded_labels, part_types, type_names), split_pieces


def with_prototype_types(segmentation: Segmentation, prototypes: np.ndarray) -> Segmentation:
    """``segmentation`` with each part typed by its vertices' majority prototype (prototypes: (u,) per vertex)."""
    part_types, type_names = prototype_types(segmentation.part_labels, prototypes)
    return replace(segmentation, part_types=part_types, type_names=type_names)


def unmet_counts(settings: RunSettings, segmentation: Segmentation, clustered: bool,
                 split_pieces: tuple[int, int] | None) -> list[str]:
    """One line per requested count the surface did not allow (more parts, pieces or types than it has).

    split_pieces: (asked, found) when a part was split.
    """
    notes = []
    found_parts, found_types = len(segmentation.part_types), len(segmentation.type_names)
    if clustered and settings.segment.parts is not None and found_parts != settings.segment.parts:
        notes.append(f"asked for {settings.segment.parts} parts; the surface gave {found_parts} "
                     "(it has too few vertices or regions for more)")
    if split_pieces is not None and split_pieces[1] != split_pieces[0]:
        notes.append(f"asked to split into {split_pieces[0]} pieces; the part gave {split_pieces[1]}")
    if settings.segment.types is not None and found_types != settings.segment.types:
        notes.append(f"asked for {settings.segment.types} part types; {found_types} were found "
                     f"(there are {found_parts} parts)")
    return notes


def _given_parts(welded: WeldedMesh, faces: np.ndarray, labels: np.ndarray | None,
                 face_labels: np.ndarray | None) -> GivenParts | None:
    if labels is not None and face_labels is not None:
        raise BadInputError("give the parts per vertex (--labels) or per triangle (--face-labels), not both")
    if face_labels is not None:
        return from_face_labels(face_labels, faces, welded)
    return None if labels is None else from_vertex_labels(labels, faces, welded)


def _cluster(
    fitted: FittedField,
    unit_vertices: np.ndarray,
    faces: np.ndarray,
    settings: RunSettings,
    device: torch.device,
    clock: StageClock,
) -> tuple[FittedField, Segmentation, float | None]:
    """Probe and segment (stages ``probe`` and ``segment``), reusing the field's cached surface graph.

    Returns the field with the surface graph it was segmented on (a new object when the graph is new).
    """
    key = graph_key(settings.segment, settings.seed)
    cached = fitted.graph is not None and fitted.graph_key == key
    prototypes = None
    if settings.segment.features == "dino" and not cached:
        with clock.stage("backbone"):
            shared = shared_features(unit_vertices, faces, settings.fit, settings.seed, device,
                                     progress=clock.reporter.progress)
            features, prototypes = shared.features, shared.prototypes
    with clock.stage("probe"):
        if not cached:
            layers = activations(fitted.model, unit_vertices, device)
            if prototypes is None:
                features = feature_set(layers, settings.segment.feature_set)
            thickness = surface_thickness(fitted.model, unit_vertices, faces, device, settings.seed) \
                if settings.segment.use_thickness else None
    with clock.stage("segment"):
        if not cached:
            graph = build_surface_graph(unit_vertices, faces, features, thickness, settings.segment)
            fitted = replace(fitted, graph=replace(graph, prototypes=prototypes), graph_key=key)
            del features  # (u, d): the graph holds what segmenting needs
        clock.reporter.progress(0.6)
        fitted = replace(fitted, graph=with_clusters(fitted.graph, settings.segment, settings.seed))
        segmentation = segment_surface(unit_vertices, faces, fitted.graph, settings.segment, settings.seed)
        if fitted.graph.prototypes is not None:
            segmentation = with_prototype_types(segmentation, fitted.graph.prototypes)
        # A re-cluster from the cached graph reads no activations, so it does not re-score the classifier.
        accuracy = None if cached else held_out_accuracy(layers, segmentation.part_labels, settings.seed)
    return fitted, segmentation, accuracy


def split_part(
    model: SDFDecoder,
    unit_vertices: np.ndarray,
    faces: np.ndarray,
    labels: np.ndarray,
    part: int,
    count: int,
    settings: RunSettings,
    device,
) -> np.ndarray:
    """(u,) labels with ``part`` split into ``count`` pieces by segmenting its own faces and activations.

    The part's faces are segmented on their own (the same surface graph and
    spectral cut as a whole run, told ``count`` parts); the piece holding the
    part's first vertex keeps its id, the others get ids after the last one.
    """
    members = np.flatnonzero(labels == part)
    inside = np.all(labels[faces] == part, axis=1)
    if len(members) < 3 * count or inside.sum() < count:
        raise BadInputError(f"part {part} has {len(members)} vertices; too few to split into {count}")
    local = np.full(len(labels), -1, np.int64)
    local[members] = np.arange(len(members))
    sub_faces = local[faces[inside]]
    features = feature_set(activations(model, unit_vertices[members], device), settings.segment.feature_set)
    sub_settings = replace(settings.segment, parts=count, types=None)
    thickness = surface_thickness(model, unit_vertices[members], sub_faces, device, settings.seed) \
        if sub_settings.use_thickness else None
    graph = build_surface_graph(unit_vertices[members], sub_faces, features, thickness, sub_settings)
    pieces = segment_surface(unit_vertices[members], sub_faces, graph, sub_settings, settings.seed).part_labels
    pieces = np.unique(pieces, return_inverse=True)[1]
    others = [c for c in range(int(pieces.max()) + 1) if c != pieces[0]]
    mapping = np.empty(int(pieces.max()) + 1, np.int64)
    mapping[pieces[0]] = part
    mapping[others] = int(labels.max()) + 1 + np.arange(len(others))
    result = labels.copy()
    result[members] = mapping[pieces]
    return result


def _part_volumes(
    fitted: FittedField,
    unit_vertices: np.ndarray,
    faces: np.ndarray,
    segmentation: Segmentation,
    settings: RunSettings,
    device: torch.device,
    clock: StageClock,
) -> PartVolumes:
    """Fit the per-part SDFs from the surface labels and mesh them (stage ``parts``)."""
    part_settings = settings.part_field
    reporter = clock.reporter
    with clock.stage("parts", timing="part_fit"):
        model, report = fit_part_field(
            fitted.model, unit_vertices, faces, segmentation.part_labels, settings.fit, part_settings,
            settings.seed, device, progress=lambda fraction: reporter.progress(0.75 * fraction),
        )
    with clock.timed("part_mesh"):
        meshes = part_meshes(lambda points: evaluate(model, points, device), part_settings.mesh_resolution,
                             part_settings.min_piece_share)
    reporter.progress(1.0)
    for part, ((_, part_faces), dropped) in enumerate(zip(meshes.parts, meshes.dropped_pieces, strict=True)):
        if len(part_faces) == 0:
            reporter.warn(f"part {part} is thinner than the {part_settings.mesh_resolution}^3 mesh grid; "
                          "it gets no part mesh (raise the quality preset for finer grids)")
        elif dropped:
            reporter.warn(f"part {part}: {dropped} small stray piece(s) of its SDF were left out of its mesh")
    return PartVolumes(field=model, meshes=meshes, report=report)
