"""Comparison of the ground-truth SDF backends on closed, open and soup meshes.

``python -m bench sdf-compare`` builds
the snowman of BENCHMARK.md, derives test meshes from it, queries every
installed backend of :mod:`engine.field.sdf_truth` at points uniform in the
benchmark box and scores them against the analytic SDF of the closed snowman.

Test meshes (all from the marching-cubes snowman):

- ``closed``: the welded, closed, consistently oriented mesh (the reference).
- ``open``: the same with the top cap of the head removed (a hole), and the
  vertices no face uses any more removed.
- ``open+loose``: the same hole, the cap's vertices kept as loose
  (unreferenced) vertices, as deleting only faces in an editor leaves them.
- ``soup``: the closed mesh as a triangle soup (three fresh vertices per face).
- ``open soup``: the open mesh as a triangle soup.
- ``flipped``: the closed mesh with 20 % of its faces' orientation reversed.

Scores, at ``N`` points uniform in ``[-0.6, 0.6]^3``:

- surface band: points with ``|analytic SDF| < 0.005`` are left out of every
  score (the mesh is a marching-cubes approximation of the analytic surface,
  and the sign on the surface itself is undefined).
- hole zone: points within 1.5 hole radii of the centre of the hole's rim. The
  true sign there is a convention: we take the closed solid the mesh came from
  (a backend that closes the hole, as a winding number does, scores right).
  Its sign errors are reported apart (``hole sign err``) for every mesh, the
  closed ones included, so both columns compare like with like.
- sign error: share of the points outside the band and the hole zone whose
  backend sign differs from the analytic sign.
- invalid: query results that are not finite or exceed 10 in magnitude
  (the box is 1.2 wide), over all points.
- distance error: ``| |backend| - exact unsigned distance to the mesh's
  triangles |`` (libigl's AABB point-mesh distance), mean and max over all
  valid points, and the share of them where it exceeds 0.001: the backend's
  own error, apart from the mesh's deviation from the analytic surface and
  from the sign.
- time: backend build plus one query of all points, and a second query of the
  same points with the built function (what repeated calls cost).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import BadInputError, MissingDependencyError
from engine.field.sdf_truth import available_backends, signed_distance_function
from engine.mesh.marching import mesh_from_sdf

from .shapes import benchmark_shapes

SURFACE_BAND = 0.005
HOLE_ZONE_RADII = 1.5
FLIPPED_SHARE = 0.2
BOUND = 0.6
NOTES_MARKER = "<!-- notes: kept when the report is regenerated -->"
MAX_SIGN_ERROR = 0.001
MAX_DISTANCE_ERROR = 1e-3
MAX_FAR_SHARE = 0.001


@dataclass(frozen=True)
class TestMesh:
    """A mesh to query. vertices: (n, 3) float64, faces: (m, 3) int64."""

    name: str
    vertices: np.ndarray
    faces: np.ndarray


@dataclass(frozen=True)
class Hole:
    """Centre (3,) float and radius of the removed cap's rim."""

    center: np.ndarray
    radius: float


@dataclass(frozen=True)
class BackendResult:
    mesh: str
    backend: str
    build_query_s: float
    build_query_cpu_s: float
    query_again_s: float
    sign_error: float
    hole_sign_error: float
    invalid: int
    distance_error: float
    max_distance_error: float
    far_share: float
    scored_points: int
    hole_points: int


def remove_cap(vertices: np.ndarray, faces: np.ndarray, axis: int, above: float) -> tuple[np.ndarray, Hole]:
    """(m', 3) faces without those whose three vertices lie above ``above`` along ``axis``, and the hole."""
    cap = (vertices[faces][:, :, axis] > above).all(axis=1)
    if not cap.any():
        raise BadInputError(f"no face lies above {above} along axis {axis}")
    kept = faces[~cap]
    edges = np.sort(np.concatenate([kept[:, [0, 1]], kept[:, [1, 2]], kept[:, [2, 0]]]), axis=1)
    unique, counts = np.unique(edges, axis=0, return_counts=True)
    rim = vertices[np.unique(unique[counts == 1])]
    center = rim.mean(axis=0)
    return kept, Hole(center=center, radius=float(np.linalg.norm(rim - center, axis=1).mean()))


def compact(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop the vertices no face uses: (u, 3) vertices and (m, 3) renumbered faces."""
    used, inverse = np.unique(faces, return_inverse=True)
    return vertices[used], inverse.reshape(faces.shape).astype(np.int64)


def exact_unsigned_distance(vertices: np.ndarray, faces: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(n,) float64 exact distance from (n, 3) points to the triangles (libigl AABB tree)."""
    try:
        import igl
    except ImportError as error:
        raise MissingDependencyError("sdf-compare needs libigl (reference distances): pip install libigl") from error
    squared = igl.point_mesh_squared_distance(
        np.ascontiguousarray(points, dtype=np.float64),
        np.ascontiguousarray(vertices, dtype=np.float64),
        np.ascontiguousarray(faces, dtype=np.int64),
    )[0]
    return np.sqrt(np.asarray(squared, dtype=np.float64))


def triangle_soup(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(3m, 3) vertices and (m, 3) faces: every face with its own three vertices."""
    return vertices[faces.reshape(-1)], np.arange(3 * len(faces), dtype=np.int64).reshape(-1, 3)


def comparison_meshes(resolution: int = 160, seed: int = 0) -> tuple[list[TestMesh], Hole, Callable]:
    """The test meshes of the module docstring, the hole, and the analytic SDF (n, 3) -> (n,)."""
    shape = benchmark_shapes()["snowman"]
    vertices, faces = mesh_from_sdf(shape.sdf, resolution)
    # the head is the sphere of radius 0.2 at y = 0.35: cut its top 0.05
    open_faces, hole = remove_cap(vertices, faces, axis=1, above=0.5)
    flipped = faces.copy()
    chosen = np.random.default_rng(seed).random(len(faces)) < FLIPPED_SHARE
    flipped[chosen] = flipped[chosen][:, ::-1]
    meshes = [
        TestMesh("closed", vertices, faces),
        TestMesh("open", *compact(vertices, open_faces)),
        TestMesh("open+loose", vertices, open_faces),
        TestMesh("soup", *triangle_soup(vertices, faces)),
        TestMesh("open soup", *triangle_soup(vertices, open_faces)),
        TestMesh("flipped", vertices, flipped),
    ]
    return meshes, hole, shape.sdf


def measure_backend(
    mesh: TestMesh, backend: str, points: np.ndarray, truth: np.ndarray, reference: np.ndarray, hole: Hole
) -> BackendResult:
    """Time and score one backend on one mesh.

    points: (n, 3) queries; truth: (n,) analytic SDF of the closed shape;
    reference: (n,) exact unsigned distance to this mesh's triangles.
    """
    start, cpu_start = time.perf_counter(), time.process_time()
    function = signed_distance_function(mesh.vertices, mesh.faces, backend)
    values = np.asarray(function(points), dtype=np.float64).reshape(-1)
    build_query, build_query_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    start = time.perf_counter()
    function(points)
    query_again = time.perf_counter() - start
    scored = np.abs(truth) >= SURFACE_BAND
    near_hole = np.linalg.norm(points - hole.center, axis=1) < HOLE_ZONE_RADII * hole.radius
    wrong_sign = (values < 0) != (truth < 0)
    main, zone = scored & ~near_hole, scored & near_hole
    valid = np.isfinite(values) & (np.abs(values) <= 10.0)
    distance_error = np.abs(np.abs(values[valid]) - reference[valid])
    return BackendResult(
        mesh=mesh.name,
        backend=backend,
        build_query_s=build_query,
        build_query_cpu_s=build_query_cpu,
        query_again_s=query_again,
        sign_error=float(wrong_sign[main].mean()),
        hole_sign_error=float(wrong_sign[zone].mean()) if zone.any() else float("nan"),
        invalid=int((~valid).sum()),
        distance_error=float(distance_error.mean()) if valid.any() else float("nan"),
        max_distance_error=float(distance_error.max()) if valid.any() else float("nan"),
        far_share=float((distance_error > MAX_DISTANCE_ERROR).mean()) if valid.any() else float("nan"),
        scored_points=int(main.sum()),
        hole_points=int(zone.sum()),
    )


def compare_backends(
    points: int = 200_000, resolution: int = 160, seed: int = 0, backends: Sequence[str] | None = None
) -> tuple[list[BackendResult], Hole]:
    """Run every (installed or given) backend on every test mesh; see the module docstring."""
    backends = list(backends) if backends is not None else available_backends()
    if not backends:
        raise MissingDependencyError("no SDF backend is installed: pip install libigl")
    meshes, hole, sdf = comparison_meshes(resolution, seed)
    queries = np.random.default_rng(seed).uniform(-BOUND, BOUND, size=(points, 3))
    truth = sdf(queries)
    results = []
    for mesh in meshes:
        reference = exact_unsigned_distance(mesh.vertices, mesh.faces, queries)
        results.extend(measure_backend(mesh, backend, queries, truth, reference, hole) for backend in backends)
    return results, hole


def machine_description() -> str:
    """One line: CPU model, logical cores, OS, Python and backend versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = []
    for package in ("pysdf", "libigl"):
        try:
            from importlib.metadata import version

            versions.append(f"{package} {version(package)}")
        except Exception:  # not installed: nothing to report
            continue
    return (
        f"{cpu}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {', '.join(versions) or 'no backend'}"
    )


def _table(results: list[BackendResult]) -> list[str]:
    lines = [
        "| mesh | backend | build + query (s) | CPU (s) | query again (s) | sign err | hole sign err | invalid "
        "| mean dist err | max dist err | dist err > 0.001 |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.mesh} | {r.backend} | {r.build_query_s:.2f} | {r.build_query_cpu_s:.2f} | {r.query_again_s:.2f} | "
            f"{100 * r.sign_error:.3f} % | {100 * r.hole_sign_error:.2f} % | {r.invalid} | "
            f"{r.distance_error:.1e} | {r.max_distance_error:.1e} | {100 * r.far_share:.3f} % |"
        )
    return lines


def backend_failures(results: list[BackendResult], backend: str) -> list[str]:
    """Why ``backend`` is unfit as ground truth on these results (empty when fit).

    Fit means, on every mesh: no invalid value, sign error away from the hole
    at most ``MAX_SIGN_ERROR``, and a distance error above ``MAX_DISTANCE_ERROR``
    at no more than ``MAX_FAR_SHARE`` of the points.
    """
    own = [r for r in results if r.backend == backend]
    checks = (
        ("invalid values", lambda r: r.invalid > 0),
        (f"sign error above {100 * MAX_SIGN_ERROR:g} %", lambda r: r.sign_error > MAX_SIGN_ERROR),
        (
            f"distance error above {MAX_DISTANCE_ERROR:g} at more than {100 * MAX_FAR_SHARE:g} % of the points",
            lambda r: not r.far_share <= MAX_FAR_SHARE,
        ),
    )
    failures = []
    for label, failed in checks:
        meshes = [r.mesh for r in own if failed(r)]
        if meshes:
            failures.append(f"{label} on {', '.join(meshes)}")
    return failures


def conclusion(results: list[BackendResult]) -> str:
    """A data-driven paragraph: which backend ``auto`` picks and whether these numbers support it."""
    backends = list(dict.fromkeys(r.backend for r in results))
    lines = [
        "`auto` picks pysdf where it is installed, else libigl. A backend is fit as ground truth here when, "
        f"on every mesh, it returns no invalid value, its sign error away from the hole is at most "
        f"{100 * MAX_SIGN_ERROR:g} % and its distance error exceeds {MAX_DISTANCE_ERROR:g} (0.08 % of the box) "
        f"at no more than {100 * MAX_FAR_SHARE:g} % of the points.",
        "",
    ]
    fit = []
    for backend in backends:
        failures = backend_failures(results, backend)
        own = [r for r in results if r.backend == backend]
        wall = sum(r.build_query_s for r in own)
        cpu = sum(r.build_query_cpu_s for r in own)
        verdict = "fit" if not failures else "NOT fit: " + "; ".join(failures)
        lines.append(f"- {backend}: {wall:.1f} s wall, {cpu:.1f} s CPU over all meshes; {verdict}.")
        if not failures:
            fit.append((cpu, backend))
    lines.append("")
    if "pysdf" in backends and ("pysdf" in [b for _, b in fit]) and min(fit)[1] == "pysdf":
        lines.append("These numbers support the order: pysdf is fit and the fastest.")
    elif fit:
        lines.append(f"These numbers do NOT support the current order: the fastest fit backend is {min(fit)[1]}.")
    else:
        lines.append("No backend is fit on every mesh: see the failures above before trusting `auto`.")
    return "\n".join(lines)


def render_markdown(results: list[BackendResult], hole: Hole, points: int, command: str, load: str = "") -> str:
    """The report of ``docs/sdf_backends.md`` as markdown text; ``load``: the machine load, if known."""
    scored = results[0].scored_points if results else 0
    hole_points = results[0].hole_points if results else 0
    lines = [
        "# Ground-truth SDF backends compared",
        "",
        f"- Date: {datetime.date.today().isoformat()}",
        f"- Machine: {machine_description()}",
        f"- Command: `{command}`",
        f"- Threads: each backend's default (pysdf queries with 2 threads; libigl uses all cores); "
        f"{os.cpu_count()} logical cores here.{' ' + load if load else ''}",
        f"- Queries: {points} points uniform in [-{BOUND}, {BOUND}]^3; {scored} scored away from the hole, "
        f"{hole_points} in the hole zone (centre {np.round(hole.center, 3).tolist()}, rim radius "
        f"{hole.radius:.3f}, zone radius {HOLE_ZONE_RADII * hole.radius:.3f}); points within {SURFACE_BAND} "
        "of the analytic surface are not scored.",
        "",
        "Meshes, scores and the meaning of the hole zone are defined in `bench/sdf_compare.py`'s docstring: "
        "the reference sign is the analytic closed snowman's, so in the hole zone a backend scores right "
        "when it closes the hole.",
        "",
        *_table(results),
        "",
        "## Conclusion",
        "",
        conclusion(results),
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: run the comparison, write the markdown to ``--output`` (or stdout). Returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench sdf-compare", description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000, help="query points (default 200000)")
    parser.add_argument("--resolution", type=int, default=160, help="marching-cubes resolution (default 160)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", action="append", choices=("pysdf", "igl"), help="restrict to this backend")
    parser.add_argument("--output", type=Path, help="markdown file to write (default: stdout)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.points < 1000 or args.resolution < 16:
        parser.error("--points must be at least 1000 and --resolution at least 16")
    load = _load_average()
    results, hole = compare_backends(args.points, args.resolution, args.seed, args.backend)
    command = "python -m bench sdf-compare " + " ".join(argv if argv is not None else sys.argv[1:])
    text = render_markdown(results, hole, args.points, command.strip(), load)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    notes = ""
    if args.output.is_file():
        previous = args.output.read_text(encoding="utf-8")
        if NOTES_MARKER in previous:
            notes = previous[previous.index(NOTES_MARKER) :]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + ("\n" + notes if notes else ""), encoding="utf-8")
    return 0


def _load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return ""
    return f"Load average at start: {one:.1f} (1 min), {five:.1f} (5 min): other processes shared the CPU."


if __name__ == "__main__":
    sys.exit(main())
