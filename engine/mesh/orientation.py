"""Consistent, outward triangle winding for a welded mesh.

Winding decides which way each face normal points. Inconsistent winding (a
patch of faces flipped, a whole shell inside-out) breaks what reads normals:
the vertex normals behind the concave-crease cue (``engine.mesh.graph``), and the
winding-number sign of libigl's ground-truth SDF (``engine.field.sdf_truth``).

``orient_consistently`` fixes it without moving a vertex or reordering faces:

1. Faces are joined across manifold edges (edges used by exactly two faces);
   boundary edges (one face) and non-manifold edges (three or more) join
   nothing. A breadth-first spanning forest of that face graph (scipy) gives
   each face its parity relative to its component's root: a face is flipped
   when its neighbour across a shared edge traverses the edge the same way.
   Parities are accumulated by pointer jumping, so the work is vectorised.
2. Each component is then turned as a whole, by the sign of its signed volume
   (the cone volume from its area-weighted centroid; for a closed shell this
   is its enclosed volume, independent of the centroid):

   - a closed component (every edge manifold) is turned outward (volume > 0),
     unless it lies wholly inside another closed component (all of up to 8
     sample vertices have |winding number| > 1/2 in it): such a shell is a
     cavity wall or an embedded solid and only the author knows which, so it
     keeps the winding of the larger area share of its original faces;
   - an open component is turned outward when its volume is decisive
     (|volume| >= ``OPEN_VOLUME_SHARE`` x area^1.5: a bowl, a shell with a
     hole); flat or saddle-like sheets keep the winding of the larger area
     share of their original faces.

A non-orientable component (a Moebius strip) keeps the edges that cannot be
made consistent; they are counted in ``conflicting_edges``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components
from scipy.spatial import cKDTree

OPEN_VOLUME_SHARE = 0.01  # an open component's |cone volume| / area^1.5 above which its volume decides
CONTAINMENT_SAMPLES = 8  # vertices of a closed component tested for lying inside another one
_WINDING_BLOCK = 1 << 21  # point-face pairs per block in the winding-number sums


@dataclass(frozen=True)
class OrientationReport:
    """The reoriented faces and what was changed.

    faces: (m, 3) int64, the input faces in the same order, with the winding of
    the flipped ones reversed (corners 1 and 2 swapped).
    flipped: (m,) bool, the faces whose winding was reversed.
    components: face components joined across manifold edges; closed_components
    of them have no boundary or non-manifold edge.
    inverted_components: components whose original majority winding (by area)
    was reversed, i.e. that were inside-out as a whole.
    nonmanifold_edges: edges used by three or more faces (they join nothing).
    conflicting_edges: manifold edges still traversed the same way by both
    faces (only on non-orientable components).
    """

    faces: np.ndarray
    flipped: np.ndarray
    components: int
    closed_components: int
    inverted_components: int
    nonmanifold_edges: int
    conflicting_edges: int

    @property
    def flipped_count(self) -> int:
        return int(self.flipped.sum())

    def warning(self) -> str | None:
        """A one-line warning for the run's reporter, or None when nothing was changed or found."""
        notes = []
        if self.flipped_count:
            notes.append(f"{self.flipped_count:,} of {len(self.faces):,} faces had inconsistent or inside-out "
                         "normals and were reoriented")
        if self.conflicting_edges:
            notes.append(f"{self.conflicting_edges:,} edges cannot be oriented consistently (non-orientable surface)")
        return "; ".join(notes) or None


def orient_consistently(vertices: np.ndarray, faces: np.ndarray) -> OrientationReport:
    """Consistent, outward winding for the faces (m, 3) int of a welded mesh with vertices (n, 3).

    Faces must index shared (welded) vertices: only edges with the same two
    vertex indices join faces (``engine.mesh.welding.weld``). Faces with a repeated
    corner join nothing. See the module docstring for the rules.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    m = len(faces)
    if m == 0:
        return OrientationReport(faces.reshape(0, 3), np.zeros(0, bool), 0, 0, 0, 0, 0)

    # Half-edges: face f traverses (faces[f, k], faces[f, k+1]).
    start = faces.reshape(-1)
    end = faces[:, [1, 2, 0]].reshape(-1)
    owner = np.repeat(np.arange(m), 3)
    proper = np.repeat((faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 2] != faces[:, 0]), 3)
    low, high = np.minimum(start, end), np.maximum(start, end)
    key = low * (int(faces.max()) + 1) + high
    order = np.argsort(np.where(proper, key, -1), kind="stable")
    order = order[np.count_nonzero(~proper):]  # collapsed faces join nothing
    sorted_key = key[order]
    first = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    counts = np.diff(np.r_[first, len(sorted_key)])
    nonmanifold_edges = int((counts > 2).sum())

    # Each manifold edge joins two faces; same traversal direction means opposite parity.
    pair = first[counts == 2]
    half_a, half_b = order[pair], order[pair + 1]
    face_a, face_b = owner[half_a], owner[half_b]
    keep = face_a != face_b
    face_a, face_b = face_a[keep], face_b[keep]
    same_direction = (start[half_a] < end[half_a])[keep] == (start[half_b] < end[half_b])[keep]

    # Faces touching a boundary or non-manifold edge make their component open.
    open_face = np.zeros(m, bool)
    open_face[owner[order[np.repeat(counts != 2, counts)]]] = True

    graph = sp.coo_matrix((np.ones(len(face_a)), (face_a, face_b)), shape=(m, m)).tocsr()
    count, component = connected_components(graph, directed=False)
    parity = _parities(graph, component, count, face_a, face_b, same_direction)
    conflicting_edges = int(((parity[face_a] ^ parity[face_b]) != same_direction).sum())

    # Turn each component as a whole: sign of its volume, or the majority of the original winding.
    areas, cone = _areas_and_cones(vertices, faces, component, count)
    sign = np.where(parity, -1.0, 1.0)
    volume = np.bincount(component, sign * cone, minlength=count)
    flipped_area = np.bincount(component, areas * parity, minlength=count)
    total_area = np.bincount(component, areas, minlength=count)
    keep_majority = flipped_area > 0.5 * total_area  # turning the whole makes the parity-0 faces the flipped ones
    closed = np.bincount(component, open_face, minlength=count) == 0
    decisive = np.abs(volume) >= OPEN_VOLUME_SHARE * total_area**1.5
    by_volume = closed | decisive
    contained = _contained(vertices, faces, component, count, closed, parity)
    by_volume &= ~contained
    turn = np.where(by_volume, volume < 0, keep_majority)

    flipped = parity.astype(bool) ^ turn[component]
    oriented = faces.copy()
    oriented[flipped] = oriented[flipped][:, [0, 2, 1]]
    return OrientationReport(
        faces=oriented,
        flipped=flipped,
        components=int(count),
        closed_components=int(closed.sum()),
        inverted_components=int((turn != keep_majority).sum()),
        nonmanifold_edges=nonmanifold_edges,
        conflicting_edges=conflicting_edges,
    )


def _parities(graph: sp.csr_matrix, component: np.ndarray, count: int, face_a: np.ndarray, face_b: np.ndarray,
              same_direction: np.ndarray) -> np.ndarray:
    """(m,) int8: 1 for faces whose winding disagrees with their component's first face.

    A virtual root joined to the first face of every component gives one
    breadth-first spanning forest; each face's parity to its tree parent is
    looked up by face pair, then summed (xor) to the root by pointer jumping.
    """
    m = graph.shape[0]
    roots = np.unique(component, return_index=True)[1]
    link = sp.csr_matrix((np.ones(count), (np.full(count, m), roots)), shape=(m + 1, m + 1))
    forest = sp.bmat([[graph, None], [None, sp.csr_matrix((1, 1))]], format="csr") + link
    _, parent = breadth_first_order(forest, m, directed=False, return_predecessors=True)
    parent[m] = m

    # Parity of each (parent, face) tree edge: from the sorted pair keys of the manifold edges.
    pair_key = np.minimum(face_a, face_b) * (m + 1) + np.maximum(face_a, face_b)
    order = np.argsort(pair_key, kind="stable")
    pair_key, pair_parity = pair_key[order], same_direction[order].astype(np.int8)
    faces = np.flatnonzero(parent[:m] < m)
    query = np.minimum(faces, parent[faces]) * (m + 1) + np.maximum(faces, parent[faces])
    step = np.zeros(m + 1, np.int8)
    step[faces] = pair_parity[np.searchsorted(pair_key, query)]

    pointer = parent.copy()
    while (pointer != m).any():
        step = step ^ step[pointer]
        pointer = pointer[pointer]
    return step[:m]


def _areas_and_cones(vertices: np.ndarray, faces: np.ndarray, component: np.ndarray,
                     count: int) -> tuple[np.ndarray, np.ndarray]:
    """(m,) face areas and (m,) signed cone volumes from their component's area-weighted centroid."""
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    cross = np.cross(b - a, c - a)
    areas = 0.5 * np.linalg.norm(cross, axis=1)
    centre = (a + b + c) / 3.0
    weight = np.maximum(np.bincount(component, areas, minlength=count), 1e-300)
    centroid = np.stack([np.bincount(component, areas * centre[:, k], minlength=count) for k in range(3)], axis=1)
    centroid /= weight[:, None]
    cones = ((a - centroid[component]) * cross).sum(axis=1) / 6.0
    return areas, cones


def _contained(vertices: np.ndarray, faces: np.ndarray, component: np.ndarray, count: int, closed: np.ndarray,
               parity: np.ndarray) -> np.ndarray:
    """(count,) bool: closed components lying wholly inside another closed component.

    Candidates are pairs whose bounding boxes nest; one sample vertex is tested
    first, the other samples only where it lies inside (|winding number| > 1/2).
    """
    contained = np.zeros(count, bool)
    shells = np.flatnonzero(closed)
    if len(shells) < 2:
        return contained
    by_component = np.argsort(component, kind="stable")
    begin = np.searchsorted(component[by_component], np.arange(count + 1))
    corners = vertices[faces[by_component]]  # (m, 3, 3) in component order
    low = np.minimum.reduceat(corners.min(axis=1), begin[:-1], axis=0)
    high = np.maximum.reduceat(corners.max(axis=1), begin[:-1], axis=0)
    sizes = np.diff(begin)
    spread = (begin[:-1, None] + np.arange(CONTAINMENT_SAMPLES) * sizes[:, None] // CONTAINMENT_SAMPLES)
    samples = corners[spread, np.arange(CONTAINMENT_SAMPLES) % 3]  # (count, samples, 3) vertices spread over each

    # Boxes nest only where the inner box's centre lies within the outer box's half diagonal of its centre.
    centre, radius = (low[shells] + high[shells]) / 2.0, np.linalg.norm(high[shells] - low[shells], axis=1) / 2.0
    near = cKDTree(centre).query_ball_point(centre, radius * (1.0 + 1e-9))
    outer = np.repeat(shells, [len(found) for found in near])
    inner = shells[np.concatenate([np.asarray(found, dtype=np.int64) for found in near])]
    nested = (inner != outer) & np.all(low[inner] >= low[outer], axis=1) & np.all(high[inner] <= high[outer], axis=1)
    inner, outer = inner[nested], outer[nested]
    oriented = faces[by_component]
    turned = parity[by_component].astype(bool)
    oriented[turned] = oriented[turned][:, [0, 2, 1]]
    for shell in np.unique(outer):
        candidates = inner[(outer == shell) & ~contained[inner]]
        if len(candidates) == 0:
            continue
        shell_faces = oriented[begin[shell]:begin[shell + 1]]
        probe = np.abs(_winding_numbers(vertices, shell_faces, samples[candidates, 0])) > 0.5
        candidates = candidates[probe]
        if len(candidates) == 0:
            continue
        rest = samples[candidates, 1:].reshape(-1, 3)
        inside = np.abs(_winding_numbers(vertices, shell_faces, rest)) > 0.5
        contained[candidates[inside.reshape(len(candidates), -1).all(axis=1)]] = True
    return contained


def _winding_numbers(vertices: np.ndarray, faces: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(p,) generalised winding numbers of the points (p, 3) w.r.t. the triangles (libigl, else exact numpy)."""
    try:
        import igl
    except ImportError:
        igl = None
    if igl is not None:
        return np.asarray(igl.winding_number(np.ascontiguousarray(vertices, dtype=np.float64),
                                             np.ascontiguousarray(faces, dtype=np.int64),
                                             np.ascontiguousarray(points, dtype=np.float64)))
    return _solid_angle_sum(vertices, faces, points)


def _solid_angle_sum(vertices: np.ndarray, faces: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(p,) winding numbers from exact triangle solid angles (Van Oosterom and Strackee), in blocks."""
    total = np.zeros(len(points))
    step = max(1, _WINDING_BLOCK // max(1, len(points)))
    for begin in range(0, len(faces), step):
        block = faces[begin:begin + step]
        a, b, c = (vertices[block[:, k]][None, :, :] - points[:, None, :] for k in range(3))
        la, lb, lc = (np.linalg.norm(x, axis=2) for x in (a, b, c))
        numerator = (a * np.cross(b, c)).sum(axis=2)
        denominator = (la * lb * lc + (a * b).sum(axis=2) * lc + (a * c).sum(axis=2) * lb
                       + (b * c).sum(axis=2) * la)
        total += 2.0 * np.arctan2(numerator, denominator).sum(axis=1)
    return total / (4.0 * np.pi)
