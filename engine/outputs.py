"""The contents of ``segment``'s output folder: the JSON document, labels, meshes, weights.

The names live in ``contract``, the atomic folder handling in ``output_folder`` (neither
imports torch, so the CLI can check OUT before any heavy import).
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from . import __version__
from .contract import (
    COLORED_MESH,
    FACE_LABELS,
    FORMAT_VERSION,
    MODEL_INFO,
    MODEL_WEIGHTS,
    PART_FIELD_WEIGHTS,
    PART_MESH_FOLDER,
    SEGMENTATION,
    SURFACE_GRAPH,
    UNION_MESH,
    VERTEX_LABELS,
    part_color,
)
from .errors import BadInputError
from .field.model import SDFDecoder
from .mesh.loading import write_obj
from .mesh.normalisation import Normalisation
from .output_folder import check_output_target, replace_folder, staging_prefix, user_permissions
from .parts.part_meshes import is_watertight, mesh_volume
from .pipeline import FittedField, RunResult
from .segment.clustering import SpectralEmbedding
from .segment.segmentation import SurfaceGraph
from .settings import RunSettings, fit_settings_from_dict, to_dict

MAX_WIDTH, MAX_LAYERS = 4096, 64  # a saved network outside these is damaged, not big


def part_colors(ids: np.ndarray) -> np.ndarray:
    """(k, 3) float RGB in 0..1 for part ids (k,): distinct hues by the golden angle, alternating lightness."""
    return np.array([part_color(int(i)) for i in np.asarray(ids, np.int64)])


def part_names(part_types: np.ndarray, type_names: tuple[str, ...]) -> list[str]:
    """'Rod 03'-style names: the type's name and a running number within the type."""
    counters: dict[int, int] = {}
    names = []
    for part_type in part_types:
        counters[int(part_type)] = counters.get(int(part_type), 0) + 1
        names.append(f"{type_names[part_type]} {counters[int(part_type)]:02d}")
    return names


def part_entries(result: RunResult, vertices: np.ndarray) -> list[dict]:
    """One JSON entry per part of ``result`` (vertexless given parts last); vertices: (n, 3) input order."""
    seg = result.segmentation
    all_ids = [int(i) for i in result.part_ids] + list(result.vertexless_parts)
    colors = dict(zip(all_ids, part_colors(np.array(all_ids)), strict=True))
    names = part_names(seg.part_types, seg.type_names)
    parts = []
    for part, (part_type, name) in enumerate(zip(seg.part_types, names, strict=True)):
        part_id = int(result.part_ids[part])
        mask = result.vertex_labels == part_id
        points = vertices[mask]
        parts.append({
            "id": part_id,
            "name": name,
            "type": int(part_type),
            "type_name": seg.type_names[part_type],
            "vertex_count": int(mask.sum()),
            "face_count": int((result.face_labels == part_id).sum()),
            "color": [round(float(c), 4) for c in colors[part_id]],
            "bbox": [points.min(axis=0).tolist(), points.max(axis=0).tolist()] if len(points) else None,
            **_part_mesh_entry(result, part, seg.type_names[part_type]),
        })
    for part_id in result.vertexless_parts:
        parts.append({
            "id": part_id, "name": f"Part {part_id:02d}", "type": None, "type_name": "", "vertex_count": 0,
            "face_count": int((result.face_labels == part_id).sum()),
            "color": [round(float(c), 4) for c in colors[part_id]], "bbox": None,
            "note": "too small for a part mesh: its faces win no vertex of their own",
            **({"mesh": None} if result.parts is not None else {}),
        })
    return parts


def segmentation_document(
    result: RunResult, settings: RunSettings, vertices: np.ndarray, faces: np.ndarray, source: str
) -> dict:
    """The JSON description of a run (see README, 'Output folder'); part ids are ``result.part_ids``."""
    seg = result.segmentation
    parts = part_entries(result, vertices)
    report = result.field.report
    return {
        "format_version": FORMAT_VERSION,
        "engine_version": __version__,
        "input": {
            "path": source,
            "vertices": int(len(vertices)),
            "faces": int(len(faces)),
            "welded_vertices": int(len(result.welded.vertices)),
            "mesh_hash": result.field.mesh_hash,
        },
        "settings": to_dict(settings),
        "device": result.device,
        "threads": result.threads,
        "types": [{"id": i, "name": name} for i, name in enumerate(seg.type_names)],
        "parts": parts,
        "files": {
            "vertex_labels": VERTEX_LABELS,
            "face_labels": FACE_LABELS,
            "colored_mesh": COLORED_MESH,
            "model": MODEL_WEIGHTS,
            "model_info": MODEL_INFO,
            "surface_graph": SURFACE_GRAPH,
            **({"union_mesh": UNION_MESH, "part_field": PART_FIELD_WEIGHTS} if result.parts else {}),
        },
        "quality": {
            "classifier_surface_accuracy": result.classifier_accuracy,
            "fit_loss": report.final_loss if report else None,
            "part_fit_loss": result.parts.report.final_loss if result.parts else None,
        },
        "notes": list(result.notes),
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
    }


def part_mesh_name(part_id: int, type_name: str) -> str:
    slug = "".join(c if c.isalnum() else "_" for c in type_name.lower())
    return f"{PART_MESH_FOLDER}/{part_id:02d}_{slug}.obj"


def _part_mesh_entry(result: RunResult, part: int, type_name: str) -> dict:
    """Dense part ``part``'s mesh file, watertightness and enclosed volume (input units), when it has a mesh."""
    if result.parts is None:
        return {}
    vertices, faces = result.parts.meshes.parts[part]
    if len(faces) == 0:
        return {"mesh": None, "note": "thinner than the mesh grid: no part mesh"}
    scale = result.field.normalisation.scale
    return {"mesh": part_mesh_name(int(result.part_ids[part]), type_name), "mesh_watertight": is_watertight(faces),
            "mesh_volume": mesh_volume(vertices, faces) / scale**3}


def _write_part_meshes(folder: Path, result: RunResult) -> None:
    from_unit = result.field.normalisation.from_unit
    (folder / PART_MESH_FOLDER).mkdir()
    seg = result.segmentation
    for part, (vertices, faces) in enumerate(result.parts.meshes.parts):
        if len(faces):
            name = part_mesh_name(int(result.part_ids[part]), seg.type_names[seg.part_types[part]])
            write_obj(folder / name, from_unit(vertices), faces)
    union_vertices, union_faces = result.parts.meshes.union
    write_obj(folder / UNION_MESH, from_unit(union_vertices), union_faces)
    torch.save(result.parts.field.state_dict(), folder / PART_FIELD_WEIGHTS)


def write_output(
    out: Path, result: RunResult, settings: RunSettings, vertices: np.ndarray, faces: np.ndarray, source: str
) -> dict:
    """Write the whole folder atomically; returns the segmentation document."""
    import trimesh

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    check_output_target(out)
    staging = Path(tempfile.mkdtemp(prefix=f"{staging_prefix(out, 'partial')}{os.getpid()}-", dir=out.parent))
    try:
        document = segmentation_document(result, settings, vertices, faces, source)
        np.save(staging / VERTEX_LABELS, result.vertex_labels.astype(np.int32))
        np.save(staging / FACE_LABELS, result.face_labels.astype(np.int32))
        ids, dense = np.unique(result.vertex_labels, return_inverse=True)
        colors = (part_colors(ids)[dense.reshape(-1)] * 255).astype(np.uint8)
        mesh = trimesh.Trimesh(vertices, faces, vertex_colors=colors, process=False)
        mesh.export(staging / COLORED_MESH)
        save_field(staging, result.field, settings)
        if result.parts is not None:
            _write_part_meshes(staging, result)
        (staging / SEGMENTATION).write_text(json.dumps(document, indent=2))
        user_permissions(staging)
        replace_folder(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return document


def save_field(folder: Path, fitted: FittedField, settings: RunSettings) -> None:
    """Weights as a plain state dict plus a JSON file with settings, normalisation and mesh hash."""
    torch.save(fitted.model.state_dict(), folder / MODEL_WEIGHTS)
    info = {
        "format_version": FORMAT_VERSION,
        # The saved network's own architecture: a reused field may come from another preset than this run's.
        "fit": to_dict(replace(settings.fit, model=fitted.model.settings)),
        "normalisation": {"center": list(fitted.normalisation.center), "scale": fitted.normalisation.scale},
        "mesh_hash": fitted.mesh_hash,
        "graph_key": fitted.graph_key,
    }
    if fitted.graph is not None:
        graph = fitted.graph
        np.savez(folder / SURFACE_GRAPH, edges=graph.edges.astype(np.int32), weights=graph.weights,
                 areas=graph.areas, values=graph.embedding.values,
                 vectors=graph.embedding.vectors.astype(np.float32),
                 **({} if graph.clusters is None else {"clusters": graph.clusters.astype(np.int32),
                                                       "clusters_seed": graph.clusters_seed}),
                 **({} if graph.covering is None else {"covering": graph.covering.astype(np.int32)}),
                 cuts=graph.cuts,
                 **({} if graph.log_thickness is None else {"log_thickness": graph.log_thickness}),
                 **({} if graph.prototypes is None else {"prototypes": graph.prototypes.astype(np.int32)}))
    (folder / MODEL_INFO).write_text(json.dumps(info, indent=2))


def load_field(folder: Path) -> FittedField:
    """The fitted field saved in an output folder (weights loaded with weights_only=True)."""
    folder = Path(folder)
    missing = [name for name in (MODEL_INFO, MODEL_WEIGHTS) if not (folder / name).is_file()]
    if missing:
        raise BadInputError(f"--reuse {folder}: no {' or '.join(missing)}; give an earlier PartSDF output folder")
    try:
        info = json.loads((folder / MODEL_INFO).read_text())
        fit = fit_settings_from_dict(info["fit"])
        normalisation = Normalisation(center=tuple(float(c) for c in info["normalisation"]["center"]),
                                      scale=float(info["normalisation"]["scale"]))
        mesh_hash = str(info["mesh_hash"])
        if not (1 <= fit.model.width <= MAX_WIDTH and 1 <= fit.model.hidden_layers <= MAX_LAYERS):
            raise ValueError(f"a network of width {fit.model.width} and {fit.model.hidden_layers} layers")
        model = SDFDecoder(fit.model)
    except (OSError, KeyError, ValueError, TypeError, AttributeError, RuntimeError) as error:
        raise BadInputError(f"--reuse {folder}: {MODEL_INFO} is damaged ({type(error).__name__}: {error}); "
                            "run without --reuse to fit again") from None
    try:
        model.load_state_dict(torch.load(folder / MODEL_WEIGHTS, map_location="cpu", weights_only=True))
    except (OSError, RuntimeError, ValueError, TypeError, AttributeError, EOFError, pickle.UnpicklingError) as error:
        first_line = str(error).splitlines()[0][:80] if str(error) else type(error).__name__
        raise BadInputError(f"--reuse {folder}: {MODEL_WEIGHTS} does not match the network {MODEL_INFO} "
                            f"describes ({first_line}); run without --reuse to fit again") from None
    model.eval()
    return FittedField(model=model, normalisation=normalisation, mesh_hash=mesh_hash,
                       graph=_load_graph(folder / SURFACE_GRAPH), graph_key=str(info.get("graph_key", "")))


def _load_graph(path: Path) -> SurfaceGraph | None:
    """The cached surface graph of an output folder, or None when absent, unreadable or inconsistent
    (then the graph is rebuilt from the field)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            embedding = SpectralEmbedding(values=data["values"], vectors=data["vectors"].astype(np.float64))
            clustered = "clusters" in data and "clusters_seed" in data
            graph = SurfaceGraph(edges=data["edges"].astype(np.int64), weights=data["weights"],
                                 areas=data["areas"], embedding=embedding, cuts=data["cuts"].astype(bool),
                                 clusters=data["clusters"].astype(np.int64) if clustered else None,
                                 clusters_seed=int(data["clusters_seed"]) if clustered else None,
                                 covering=data["covering"].astype(np.int64) if "covering" in data else None,
                                 log_thickness=data["log_thickness"] if "log_thickness" in data else None,
                                 prototypes=data["prototypes"].astype(np.int64) if "prototypes" in data else None)
    except (OSError, KeyError, ValueError):
        return None
    per_edge = (graph.weights, graph.cuts)
    per_vertex = (graph.areas, graph.embedding.vectors, graph.clusters, graph.covering, graph.log_thickness,
                  graph.prototypes)
    consistent = (all(len(a) == len(graph.edges) for a in per_edge)
                  and all(a is None or len(a) == len(graph.areas) for a in per_vertex))
    return graph if consistent else None
