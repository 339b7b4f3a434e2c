"""``python -m bench psb --data DIR``: the Princeton Segmentation Benchmark's development split.

Chen, Golovinskiy and Funkhouser 2009: 380 meshes in 19 categories (``off/<id>.off``), several human
segmentations per mesh, one segment id per triangle (``seg/Benchmark/<id>/<id>_<k>.seg``). Only the
development split is read: meshes whose id modulo 5 is not 1. The others are kept for independent
evaluation; their ids are dropped from the file listing before any file is opened.

Scores per mesh, against every human segmentation of it:
- Rand-index error: 1 - Rand index, averaged over the human segmentations (Chen et al.'s measure).
  Pairs of triangles are weighted by area (a pair of points on the surface), so a finely tessellated
  region does not count more than a coarse one.
- ARI against the medoid human segmentation (the one with the least Rand-index error to the others).
- Human consistency: the mean Rand-index error between the mesh's human segmentations, for scale.
Our engine runs in auto mode (nothing given) with the chosen preset, no part meshes; CoACD and the
shape-diameter baseline run on the same meshes in the same run (``--baselines``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import BadInputError
from engine.mesh.loading import load_mesh
from engine.mesh.sampling import face_areas
from engine.segment.given_parts import majority_face_labels

from .metrics import adjusted_rand
from .report import finite_mean

HELD_OUT_MODULUS = 5
"""Meshes whose id modulo this is 1 are held out for independent evaluation: never opened."""

CATEGORIES = (
    (1, "Human", "organic"), (21, "Cup", "man-made"), (41, "Glasses", "man-made"),
    (61, "Airplane", "man-made"), (81, "Ant", "organic"), (101, "Chair", "man-made"),
    (121, "Octopus", "organic"), (141, "Table", "man-made"), (161, "Teddy", "organic"),
    (181, "Hand", "organic"), (201, "Plier", "man-made"), (221, "Fish", "organic"),
    (241, "Bird", "organic"), (281, "Armadillo", "organic"), (301, "Bust", "organic"),
    (321, "Mech", "man-made"), (341, "Bearing", "man-made"), (361, "Vase", "man-made"),
    (381, "Fourleg", "organic"),
)
"""(first id, name, kind) of each category; each holds 20 consecutive ids (261-280 is not in the benchmark)."""


@dataclass(frozen=True)
class BenchmarkMesh:
    """One development mesh: its id, category, kind (man-made or organic) and files."""

    id: int
    category: str
    kind: str
    mesh: Path
    segmentations: tuple[Path, ...]


def category_of(mesh_id: int) -> tuple[str, str]:
    """(name, kind) of the category holding ``mesh_id``."""
    for first, name, kind in CATEGORIES:
        if first <= mesh_id < first + 20:
            return name, kind
    raise BadInputError(f"mesh id {mesh_id} is in no category of the Princeton benchmark")


def is_held_out(mesh_id: int) -> bool:
    return mesh_id % HELD_OUT_MODULUS == 1


def development_meshes(data: Path, per_category: int | None = None, skip_per_category: int = 0
                       ) -> list[BenchmarkMesh]:
    """The development meshes under ``data`` (``off/`` and ``seg/Benchmark/``), by id.

    ``skip_per_category``: leave out the first this many meshes of each category (the lowest ids), so that
    a choice made on them can be checked on the next ones; ``per_category``: at most this many meshes of
    each category after those, for a quick run. Held-out ids are dropped by their file names alone, before
    anything is opened.
    """
    data = Path(data)
    if not (data / "off").is_dir() or not (data / "seg" / "Benchmark").is_dir():
        raise BadInputError(f"{data} is not the benchmark's data folder (it needs off/ and seg/Benchmark/)")
    ids = sorted(int(p.stem) for p in (data / "off").glob("*.off") if p.stem.isdigit())
    meshes, taken, skipped = [], {}, {}
    for mesh_id in ids:
        if is_held_out(mesh_id):
            continue
        category, kind = category_of(mesh_id)
        if skipped.get(category, 0) < skip_per_category:
            skipped[category] = skipped.get(category, 0) + 1
            continue
        if per_category is not None and taken.get(category, 0) >= per_category:
            continue
        folder = data / "seg" / "Benchmark" / str(mesh_id)
        segmentations = tuple(sorted(folder.glob(f"{mesh_id}_*.seg"), key=lambda p: int(p.stem.split("_")[1])))
        if not segmentations:
            raise BadInputError(f"mesh {mesh_id} has no human segmentation in {folder}")
        taken[category] = taken.get(category, 0) + 1
        meshes.append(BenchmarkMesh(mesh_id, category, kind, data / "off" / f"{mesh_id}.off", segmentations))
    if not meshes:
        raise BadInputError(f"no development meshes under {data / 'off'}")
    return meshes


def read_segmentation(path: Path, face_count: int) -> np.ndarray:
    """(m,) int64 segment id per triangle of a ``.seg`` file (one integer per line)."""
    labels = np.loadtxt(path, dtype=np.int64, ndmin=1)
    if labels.shape != (face_count,):
        raise BadInputError(f"{path} has {len(labels)} labels for {face_count} triangles")
    return labels


def rand_index_error(first: np.ndarray, second: np.ndarray, weights: np.ndarray) -> float:
    """1 - Rand index of two labelings of the same (m,) items, each pair weighted by its items' weights.

    The share (by weight) of pairs that one labeling puts together and the other apart:
    (sum_i a_i^2 + sum_j b_j^2 - 2 sum_ij n_ij^2) / W^2, with n_ij the weight in segment i of the
    first and j of the second, a and b its row and column sums, W the total weight.
    """
    _, first = np.unique(first, return_inverse=True)
    _, second = np.unique(second, return_inverse=True)
    joint = np.zeros((first.max() + 1, second.max() + 1))
    np.add.at(joint, (first, second), weights)
    total = float(weights.sum())
    apart = (joint.sum(axis=1) ** 2).sum() + (joint.sum(axis=0) ** 2).sum() - 2.0 * (joint**2).sum()
    return float(apart / total**2)


def medoid(segmentations: list[np.ndarray], weights: np.ndarray) -> int:
    """Index of the segmentation with the least summed Rand-index error to the others."""
    costs = [sum(rand_index_error(a, b, weights) for b in segmentations) for a in segmentations]
    return int(np.argmin(costs))


def human_consistency(segmentations: list[np.ndarray], weights: np.ndarray) -> float:
    """Mean Rand-index error over every pair of the human segmentations (nan with only one)."""
    pairs = [rand_index_error(a, b, weights) for i, a in enumerate(segmentations) for b in segmentations[i + 1:]]
    return float(np.mean(pairs)) if pairs else float("nan")


def score(labels: np.ndarray, humans: list[np.ndarray], weights: np.ndarray, reference: int) -> dict:
    """Rand-index error (mean over the humans), ARI against the medoid human, parts found; (m,) labels."""
    return {
        "rand_error": float(np.mean([rand_index_error(labels, human, weights) for human in humans])),
        "ari_medoid": adjusted_rand(humans[reference], labels),
        "parts": int(len(np.unique(labels))),
    }


FULL_STRENGTH = {"activations at full strength": {"activation_scale": 1.0}}
"""Beside each cue off (``bench.ablation.CUE_ABLATIONS``), the same fitted field segmented with the
activation cue at the strength it had before ``activation_scale`` (docs/design.md "Stability across fits")."""


def load_benchmark_mesh(entry: BenchmarkMesh) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """(vertices (n, 3), faces (m, 3), the human segmentations, each (m,)) of one development mesh."""
    vertices, faces = load_mesh(entry.mesh)
    return vertices, faces, [read_segmentation(path, len(faces)) for path in entry.segmentations]


def bench_mesh(entry: BenchmarkMesh, vertices: np.ndarray, faces: np.ndarray, humans: list[np.ndarray],
               quality: str, threads: int, baselines: tuple[str, ...], seeds: tuple[int, ...] = (0,),
               features: str = "raw", fields: Path | None = None) -> dict:
    """Scores and seconds of the engine (auto mode) and of ``baselines`` on one development mesh
    (``load_benchmark_mesh``); the row also holds our face labels, the medoid human's index and the
    Rand-index error with each cue off (``bench.ablation``, same fitted field). The engine runs once per
    seed: its scores are means over ``seeds`` and ``rand_error_by_seed`` keeps each (labels: the first seed).
    ``features``: the engine's activation cue (``--features``); the cue ablations re-read the mesh's own
    field, so they are only run with ``raw``. ``fields``: a folder of saved field arrays (``FieldArrays``,
    ``raw`` only): a mesh whose arrays are there is segmented from them without a fit (its seconds are the
    segmentation's), the others are fitted and their arrays saved there."""
    from engine.pipeline import run
    from engine.progress import Reporter
    from engine.settings import run_settings

    from .ablation import CUE_ABLATIONS, FieldArrays, ablation_labels
    from .baselines import baseline_labels

    weights = face_areas(vertices, faces)
    reference = medoid(humans, weights)
    row = {"id": entry.id, "category": entry.category, "kind": entry.kind, "faces": len(faces),
           "human_parts": int(np.median([len(np.unique(h)) for h in humans])),
           "human_consistency": human_consistency(humans, weights), "medoid": reference, "methods": {}}
    runs, ablation_runs = [], []
    for seed in seeds:
        started = time.perf_counter()
        settings = run_settings(quality, seed=seed, threads=threads, part_meshes=False, features=features)
        saved = None if fields is None else fields / f"{entry.id}-{quality}-seed{seed}.npz"
        arrays = FieldArrays.load(saved) if saved is not None and saved.exists() else None
        if arrays is None:
            result = run(vertices, faces, settings, Reporter())
            face_labels = result.face_labels
        else:
            face_labels = majority_face_labels(arrays.labels(settings.segment, seed), faces)
        runs.append({**score(face_labels, humans, weights, reference), "seconds": time.perf_counter() - started})
        row.setdefault("labels", face_labels)
        if features == "raw" and arrays is None:
            arrays = FieldArrays.from_run(result, settings.segment, settings.seed)
            if saved is not None:
                saved.parent.mkdir(parents=True, exist_ok=True)
                arrays.save(saved)
        ablations = {} if features != "raw" else ablation_labels(
            arrays, settings.segment, {**CUE_ABLATIONS, **FULL_STRENGTH}, settings.seed)
        ablation_runs.append({name: score(majority_face_labels(labels, faces), humans, weights, reference)["rand_error"]
                              for name, labels in ablations.items()})
    row["methods"]["partsdf"] = {key: float(np.mean([r[key] for r in runs])) for key in runs[0]}
    row["methods"]["partsdf"]["parts"] = int(round(row["methods"]["partsdf"]["parts"]))
    row["rand_error_by_seed"] = [r["rand_error"] for r in runs]
    row["ablations"] = {name: float(np.mean([a[name] for a in ablation_runs])) for name in ablation_runs[0]}
    for method in baselines:
        started = time.perf_counter()
        try:
            labels = majority_face_labels(baseline_labels(method, vertices, faces, None, 0), faces)
        except Exception as error:  # a failing baseline is a cell with its reason, not a failed bench
            row["methods"][method] = {"error": f"{type(error).__name__}: {error}"}
            continue
        row["methods"][method] = {**score(labels, humans, weights, reference),
                                  "seconds": time.perf_counter() - started}
    return row


def colour_ids_like(labels: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(m,) ``labels`` renumbered so that each part matched to a ``reference`` segment takes its id
    (the same colour in a picture); unmatched parts get ids after the reference's."""
    from .metrics import hungarian_match

    match = hungarian_match(reference, labels)
    extra = iter(range(int(reference.max()) + 1, int(reference.max()) + 2 + len(np.unique(labels))))
    lookup = {int(part): match.get(int(part)) for part in np.unique(labels)}
    lookup = {part: target if target is not None else next(extra) for part, target in lookup.items()}
    return np.vectorize(lookup.get, otypes=[np.int64])(labels)


def _method_mean(rows: list[dict], method: str, key: str) -> float:
    return finite_mean(row["methods"][method].get(key) for row in rows if method in row["methods"])


def _failures(rows: list[dict], method: str) -> int:
    return sum(1 for row in rows if "error" in row["methods"].get(method, {}))


def render_psb(rows: list[dict], baselines: tuple[str, ...], command: str, machine: str, image: str | None) -> str:
    """Markdown: per category and per kind, Rand-index error, ARI vs medoid, parts, seconds."""
    import datetime

    methods = ("partsdf", *baselines)
    ablations = list(rows[0].get("ablations", {})) if rows else []
    seeds = len(rows[0]["rand_error_by_seed"]) if rows else 1
    header = ["category", "kind", "meshes", "human parts", "human vs human",
              *(f"{m} RI error" for m in methods), *(["PartSDF seed spread"] if seeds > 1 else []),
              *(f"PartSDF {name}" for name in ablations),
              "PartSDF ARI (medoid)", "PartSDF parts",
              *(f"{m} s" for m in methods)]
    lines = [
        "# Princeton Segmentation Benchmark, development split",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine}: `{command}`. Meshes whose id modulo 5 is 1 "
        "are held out and were not opened. Rand-index error: 1 - Rand index (pairs of triangles weighted by "
        "area), averaged over every human segmentation of a mesh, then over the meshes; lower is better. "
        "*human vs human*: the same between the mesh's own human segmentations. ARI against the medoid human "
        "segmentation. PartSDF in auto mode, no part meshes; the baselines in their automatic modes. "
        "*PartSDF without X*: RI error of the same fitted field segmented again with that cue off; *PartSDF "
        "activations at full strength*: the same with ``activation_scale`` 1 (the default before 2026-12-07)."
        + (f" PartSDF's numbers are means over {seeds} seeds (0..{seeds - 1}): a seed changes the fitted field "
           "as much as another CPU's kernels do; *seed spread*: the largest minus the smallest RI error of a "
           "mesh over the seeds, averaged over the meshes." if seeds > 1 else "")
        + (" Fields were read from ``--fields`` where saved there: those meshes' seconds are the segmentation's "
           "only, not a fit's." if "--fields" in command else ""),
        "",
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    groups = [(name, [r for r in rows if r["category"] == name]) for _, name, _ in CATEGORIES]
    groups = [(name, group) for name, group in groups if group]
    summary = [(f"**{kind}**", [r for r in rows if r["kind"] == kind]) for kind in ("man-made", "organic")]
    for name, group in [*groups, *summary, ("**all**", rows)]:
        if not group:
            continue
        kind = group[0]["kind"] if name[0] != "*" else ""
        cells = [name, kind, str(len(group)), f"{np.median([r['human_parts'] for r in group]):.0f}",
                 f"{finite_mean(r['human_consistency'] for r in group):.3f}"]
        cells += [f"{_method_mean(group, m, 'rand_error'):.3f}" + (f" ({_failures(group, m)} failed)"
                                                                   if _failures(group, m) else "") for m in methods]
        if seeds > 1:
            cells.append(f"{finite_mean(np.ptp(r['rand_error_by_seed']) for r in group):.3f}")
        cells += [f"{finite_mean(r['ablations'][name] for r in group):.3f}" for name in ablations]
        cells += [f"{_method_mean(group, 'partsdf', 'ari_medoid'):.3f}",
                  f"{np.median([r['methods']['partsdf']['parts'] for r in group]):.0f}"]
        cells += [f"{_method_mean(group, m, 'seconds'):.1f}" for m in methods]
        lines.append("| " + " | ".join(cells) + " |")
    if baselines:
        wins = [name for name, group in groups
                if all(_method_mean(group, "partsdf", "rand_error") < _method_mean(group, m, "rand_error")
                       for m in baselines)]
        lines += ["", f"PartSDF's Rand-index error is below every baseline's on {len(wins)} of {len(groups)} "
                      f"categories ({', '.join(wins) or 'none'})."]
    if seeds > 1:
        per_seed = {kind: [finite_mean(r["rand_error_by_seed"][i] for r in rows if r["kind"] == kind)
                           for i in range(seeds)] for kind in ("man-made", "organic")
                    if any(r["kind"] == kind for r in rows)}
        lines += ["", "PartSDF's RI error by seed: " + "; ".join(
            f"{kind} {', '.join(f'{e:.3f}' for e in errors)}" for kind, errors in per_seed.items())
            + " (a seed's run alone is what one click measures)."]
    if image:
        lines += ["", f"First development mesh of each category: PartSDF (left, colours matched to the human "
                      f"parts) beside the medoid human segmentation (right). ![contact sheet]({image})"]
    return "\n".join(lines) + "\n"


PSB_BASELINES = ("coacd", "shape_diameter")


def psb_parser():
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench psb", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True,
                        help="the benchmark's data folder (off/, seg/Benchmark/) from cearto/zen")
    parser.add_argument("--per-category", type=int, default=None,
                        help="at most this many development meshes per category (default: all 16)")
    parser.add_argument("--skip-per-category", type=int, default=0,
                        help="leave out the first N development meshes of each category (check a choice on others)")
    parser.add_argument("--quality", choices=("fast", "balanced", "high"), default="balanced")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=1,
                        help="fit each mesh with seeds 0..N-1 and average (the spread is reported)")
    parser.add_argument("--no-baselines", action="store_true", help="skip CoACD and the shape-diameter baseline")
    parser.add_argument("--features", choices=("raw", "dino"), default="raw",
                        help="the engine's activation cue (dino: the shared backbone; no cue ablations)")
    parser.add_argument("--fields", type=Path, default=None,
                        help="a folder of saved field arrays: meshes found there are re-segmented without a fit "
                             "(seconds: segmenting only), the others fitted and saved there (raw features only)")
    parser.add_argument("--output", type=Path, default=Path("docs/psb.md"))
    parser.add_argument("--image", type=Path, default=Path("docs/psb_contact_sheet.png"),
                        help="contact sheet PNG (first mesh of each category); written beside --output's links")
    return parser


def run_psb(argv: list[str]) -> int:
    """Run the development split, print progress, write the markdown and the contact sheet."""
    import shlex

    from .contact_sheet import SheetEntry, render_contact_sheet_apart
    from .machine import machine_summary

    args = psb_parser().parse_args(argv)
    if args.fields is not None and args.features != "raw":
        raise BadInputError("--fields keeps the mesh's own field's arrays: use it with --features raw")
    meshes = development_meshes(args.data, args.per_category, args.skip_per_category)
    baselines = () if args.no_baselines else PSB_BASELINES
    rows, sheet, started = [], [], time.perf_counter()
    for number, entry in enumerate(meshes, 1):
        vertices, faces, humans = load_benchmark_mesh(entry)
        row = bench_mesh(entry, vertices, faces, humans, args.quality, args.threads, baselines,
                         tuple(range(args.seeds)), args.features, args.fields)
        rows.append(row)
        ours = row["methods"]["partsdf"]
        elapsed = time.perf_counter() - started
        print(f"[{number}/{len(meshes)}] {entry.id} {entry.category}: RI error {ours['rand_error']:.3f} "
              f"(humans {row['human_consistency']:.3f}), {ours['parts']} parts in {ours['seconds']:.1f} s; "
              f"ETA {elapsed / number * (len(meshes) - number) / 60:.0f} min", flush=True)
        if not any(e.caption.startswith(entry.category) for e in sheet):
            human = humans[row["medoid"]]
            sheet.append(SheetEntry(vertices, faces, colour_ids_like(row["labels"], human), human,
                                    f"{entry.category} {entry.id}: {ours['rand_error']:.2f}"))
    image = str(Path(args.image).resolve().relative_to(Path(args.output).resolve().parent)) if sheet else None
    command = "python -m bench psb " + shlex.join(argv)
    args.output.write_text(render_psb(rows, baselines, command, machine_summary(), image))  # before the picture
    if sheet:
        render_contact_sheet_apart(sheet, args.image)
    print(f"wrote {args.output} and {args.image}")
    return 0
