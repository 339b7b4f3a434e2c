"""Five families of compound shapes that share part kinds (a table leg and a baluster are both ``rod``).

Each builder takes a ``numpy.random.Generator`` and returns ``(parts, blend)``: parts as (kind, SDF) pairs
in an upright canonical frame within about 0.5 of the origin, and the smooth-union radius between parts
(0 for man-made families, whose parts meet at sharp creases; above 0 for organic blobs, which have none).
Kinds name what a part is, whatever its family: orientation does not count, since shapes are posed at random.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .primitives import SDF, box, capsule, cylinder, ellipsoid, sphere, torus_arc, union

KINDS = ("slab", "rod", "disc", "body", "ring", "elbow", "knob", "blob", "limb")
"""Part kinds over every family: flat boards, thin bars, short wide cylinders, bulky main masses,
tube loops and handles, thick bent pipes, small balls, ellipsoidal masses, bent organic limbs."""

Parts = list[tuple[str, SDF]]
Builder = Callable[[np.random.Generator], tuple[Parts, float]]


def _tilt(angle: float) -> np.ndarray:
    """(3, 3) rows: a frame rotated by ``angle`` about x (leans a board back)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, s], [0.0, -s, c]])


def _leg(rng: np.random.Generator, top, bottom, radius: float) -> SDF:
    if rng.random() < 0.5:
        return cylinder(top, bottom, radius)
    centre = (np.asarray(top) + np.asarray(bottom)) / 2.0
    return box(centre, [radius, abs(top[1] - bottom[1]) / 2.0, radius])


def _four_legs(rng, half_x: float, half_z: float, top: float, bottom: float, radius: float) -> Parts:
    inset = rng.uniform(0.02, 0.06)
    return [("rod", _leg(rng, [x * (half_x - inset), top, z * (half_z - inset)],
                         [x * (half_x - inset), bottom, z * (half_z - inset)], radius))
            for x in (-1, 1) for z in (-1, 1)]


def table(rng: np.random.Generator) -> tuple[Parts, float]:
    half_x, half_z, thick = rng.uniform(0.25, 0.42), rng.uniform(0.15, 0.32), rng.uniform(0.015, 0.04)
    top_y = rng.uniform(0.12, 0.28)
    parts: Parts = [("slab", box([0, top_y, 0], [half_x, thick, half_z]))]
    radius = rng.uniform(0.015, 0.035)
    parts += _four_legs(rng, half_x, half_z, top_y - thick, top_y - rng.uniform(0.3, 0.5), radius)
    if rng.random() < 0.4:
        y = top_y - rng.uniform(0.2, 0.28)
        x = half_x - 0.06
        parts += [("rod", cylinder([-x, y, z * (half_z - 0.06)], [x, y, z * (half_z - 0.06)], radius * 0.6))
                  for z in (-1, 1)]
    return parts, 0.0


def chair(rng: np.random.Generator) -> tuple[Parts, float]:
    half_x, half_z, thick = rng.uniform(0.16, 0.26), rng.uniform(0.15, 0.24), rng.uniform(0.02, 0.04)
    seat_y = rng.uniform(-0.08, 0.05)
    radius = rng.uniform(0.015, 0.03)
    parts: Parts = [("slab", box([0, seat_y, 0], [half_x, thick, half_z]))]
    parts += _four_legs(rng, half_x, half_z, seat_y - thick, seat_y - rng.uniform(0.3, 0.42), radius)
    back_height = rng.uniform(0.15, 0.3)
    lean = rng.uniform(0.0, 0.3)
    centre = [0.0, seat_y + thick + back_height * np.cos(lean), -half_z + back_height * np.sin(lean)]
    parts.append(("slab", box(centre, [half_x, back_height, rng.uniform(0.012, 0.025)], _tilt(lean))))
    return parts, 0.0


def shelf(rng: np.random.Generator) -> tuple[Parts, float]:
    half_x, half_y, half_z = rng.uniform(0.2, 0.35), rng.uniform(0.3, 0.42), rng.uniform(0.1, 0.2)
    side = rng.uniform(0.015, 0.03)
    parts: Parts = [("slab", box([x * (half_x - side), 0, 0], [side, half_y, half_z])) for x in (-1, 1)]
    boards = int(rng.integers(2, 6))
    for y in np.linspace(-half_y + side, half_y - side, boards):
        parts.append(("slab", box([0, y, 0], [half_x - 2 * side, side, half_z])))
    return parts, 0.0


def stool(rng: np.random.Generator) -> tuple[Parts, float]:
    radius, seat_y = rng.uniform(0.15, 0.28), rng.uniform(0.1, 0.25)
    thick = rng.uniform(0.02, 0.05)
    parts: Parts = [("disc", cylinder([0, seat_y - thick, 0], [0, seat_y + thick, 0], radius))]
    legs = int(rng.integers(3, 5))
    splay, leg_radius, floor = rng.uniform(1.0, 1.5), rng.uniform(0.015, 0.03), seat_y - rng.uniform(0.4, 0.55)
    for angle in np.arange(legs) * 2 * np.pi / legs + rng.uniform(0, np.pi):
        top = [0.7 * radius * np.cos(angle), seat_y - thick, 0.7 * radius * np.sin(angle)]
        bottom = [splay * top[0], floor, splay * top[2]]
        parts.append(("rod", capsule(top, bottom, leg_radius)))
    return parts, 0.0


def railing(rng: np.random.Generator) -> tuple[Parts, float]:
    half_x, half_y = rng.uniform(0.35, 0.45), rng.uniform(0.25, 0.38)
    rail = rng.uniform(0.02, 0.04)
    parts: Parts = [("rod", box([0, half_y, 0], [half_x, rail, rail * rng.uniform(1.0, 2.0)]))]
    balusters = int(rng.integers(4, 11))
    radius = rng.uniform(0.01, 0.02)
    for x in np.linspace(-half_x + 0.05, half_x - 0.05, balusters):
        parts.append(("rod", cylinder([x, -half_y, 0], [x, half_y, 0], radius)))
    parts.append(("slab", box([0, -half_y, 0], [half_x, rail, rng.uniform(0.05, 0.09)])))
    return parts, 0.0


def column(rng: np.random.Generator) -> tuple[Parts, float]:
    half_y, shaft = rng.uniform(0.3, 0.4), rng.uniform(0.06, 0.12)
    plinth = rng.uniform(0.03, 0.06)
    parts: Parts = [("body", cylinder([0, -half_y + plinth, 0], [0, half_y - plinth, 0], shaft))]
    for sign in (-1, 1):
        centre = [0, sign * (half_y - plinth / 2), 0]
        width = shaft * rng.uniform(1.6, 2.2)
        if rng.random() < 0.5:
            parts.append(("disc", cylinder([0, centre[1] - plinth, 0], [0, centre[1] + plinth, 0], width)))
        else:
            parts.append(("slab", box(centre, [width, plinth, width])))
    if rng.random() < 0.5:
        parts.append(("knob", sphere([0, half_y + rng.uniform(0.03, 0.06), 0], rng.uniform(0.05, 0.08))))
    return parts, 0.0


def mug(rng: np.random.Generator) -> tuple[Parts, float]:
    radius, half_y = rng.uniform(0.14, 0.22), rng.uniform(0.14, 0.25)
    parts: Parts = [("body", cylinder([0, -half_y, 0], [0, half_y, 0], radius))]
    major = rng.uniform(0.08, 0.14)
    parts.append(("ring", torus_arc([radius, 0, 0], [0, 0, 1], major, rng.uniform(0.015, 0.03),
                                    arc=np.pi * 1.2, start=-np.pi * 0.6)))
    return parts, 0.0


def pan(rng: np.random.Generator) -> tuple[Parts, float]:
    radius, thick = rng.uniform(0.16, 0.24), rng.uniform(0.03, 0.06)
    parts: Parts = [("disc", cylinder([-0.15, -thick, 0], [-0.15, thick, 0], radius))]
    length = rng.uniform(0.2, 0.28)
    lift = rng.uniform(0.0, 0.1)
    parts.append(("rod", capsule([-0.15 + radius * 0.9, 0, 0], [-0.15 + radius + length, lift, 0],
                                 rng.uniform(0.015, 0.03))))
    return parts, 0.0


def valve(rng: np.random.Generator) -> tuple[Parts, float]:
    body = rng.uniform(0.1, 0.16)
    parts: Parts = [("body", box([0, -0.15, 0], [body, body, body], rounding=0.02))]
    pipe = body * rng.uniform(0.4, 0.6)
    parts += [("rod", cylinder([x * body, -0.15, 0], [x * (body + rng.uniform(0.1, 0.2)), -0.15, 0], pipe))
              for x in (-1, 1)]
    stem_top = rng.uniform(0.12, 0.2)
    parts.append(("rod", cylinder([0, -0.15 + body, 0], [0, stem_top, 0], rng.uniform(0.015, 0.03))))
    parts.append(("ring", torus_arc([0, stem_top, 0], [0, 1, 0], rng.uniform(0.1, 0.16), rng.uniform(0.015, 0.03))))
    return parts, 0.0


def wrench(rng: np.random.Generator) -> tuple[Parts, float]:
    length, width = rng.uniform(0.25, 0.32), rng.uniform(0.02, 0.035)
    parts: Parts = [("rod", box([0, 0, 0], [length, width, width * 0.7]))]
    for sign in (-1, 1):
        major = rng.uniform(0.05, 0.08)
        parts.append(("ring", torus_arc([sign * (length + major), 0, 0], [0, 0, 1], major, width * 0.8)))
    return parts, 0.0


def bent_pipe(rng: np.random.Generator) -> tuple[Parts, float]:
    major, radius = rng.uniform(0.12, 0.2), rng.uniform(0.04, 0.07)
    arc = rng.uniform(0.5, 1.0) * np.pi
    parts: Parts = [("elbow", torus_arc([0, 0, 0], [0, 0, 1], major, radius, arc=arc))]
    ends = [(0.0, -1.0), (arc, 1.0)]
    for angle, direction in ends:
        point = np.array([major * np.cos(angle), major * np.sin(angle), 0.0])
        tangent = direction * np.array([-np.sin(angle), np.cos(angle), 0.0])
        far = point + tangent * rng.uniform(0.1, 0.2)
        parts.append(("rod", cylinder(point, far, radius)))
        parts.append(("disc", cylinder(far - tangent * 0.015, far + tangent * 0.015, radius * rng.uniform(1.5, 2.0))))
    return parts, 0.0


def ring(rng: np.random.Generator) -> tuple[Parts, float]:
    major, minor = rng.uniform(0.2, 0.3), rng.uniform(0.03, 0.06)
    parts: Parts = [("ring", torus_arc([0, 0, 0], [0, 1, 0], major, minor))]
    knobs = int(rng.integers(2, 7))
    size = minor * rng.uniform(1.4, 2.0)
    for angle in np.arange(knobs) * 2 * np.pi / knobs:
        parts.append(("knob", sphere([major * np.cos(angle), 0, major * np.sin(angle)], size)))
    return parts, 0.0


def _limb(rng: np.random.Generator, root: np.ndarray, direction: np.ndarray, length: float, radius: float) -> SDF:
    """A two-segment bent capsule from ``root`` roughly along ``direction``."""
    bend = rng.normal(size=3) * 0.6
    knee = root + direction * length * 0.5
    foot = knee + (direction + bend) / np.linalg.norm(direction + bend) * length * 0.5
    return union(capsule(root, knee, radius), capsule(knee, foot, radius * 0.8))


def creature(rng: np.random.Generator) -> tuple[Parts, float]:
    radii = np.array([rng.uniform(0.15, 0.25), rng.uniform(0.1, 0.15), rng.uniform(0.1, 0.15)])
    parts: Parts = [("blob", ellipsoid([0, 0, 0], radii))]
    head_direction = np.array([1.0, rng.uniform(0.2, 0.8), 0.0])
    head_direction /= np.linalg.norm(head_direction)
    head = rng.uniform(0.06, 0.1)
    parts.append(("blob", sphere(head_direction * (radii[0] + head * 0.6), head)))
    legs = int(rng.choice([2, 4, 6]))
    for index in range(legs):
        x = (index // 2 / max(legs // 2 - 1, 1) - 0.5) * radii[0] * 1.2 if legs > 2 else 0.0
        z = (1 if index % 2 else -1) * radii[2] * 0.6
        root = np.array([x, -radii[1] * 0.5, z])
        direction = np.array([0.0, -1.0, np.sign(z) * rng.uniform(0.0, 0.6)])
        parts.append(("limb", _limb(rng, root, direction / np.linalg.norm(direction),
                                    rng.uniform(0.2, 0.3), rng.uniform(0.025, 0.045))))
    return parts, rng.uniform(0.02, 0.05)


FAMILIES: dict[str, tuple[Builder, ...]] = {
    "furniture": (table, chair, shelf, stool),
    "architecture": (railing, column),
    "mechanical": (mug, pan, valve, wrench),
    "pipes": (bent_pipe, ring),
    "organic": (creature,),
}
