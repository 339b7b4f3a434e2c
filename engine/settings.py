"""Frozen settings dataclasses, their presets, and their JSON form.

One ``RunSettings`` describes a whole segmentation run; it is saved as JSON
next to the fitted model so that a re-cluster knows how the model was made.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .errors import BadInputError

QUALITIES = ("fast", "balanced", "high")
DEVICES = ("auto", "cpu", "cuda", "mps")
FEATURES = ("raw", "dino")
"""The activation cue's source: the mesh's own field (raw) or the shared backbone's DINO head (docs/backbone.md)."""


@dataclass(frozen=True)
class ModelSettings:
    """Decoder architecture (see ``engine.field.model.SDFDecoder``)."""

    width: int = 64
    hidden_layers: int = 5
    skip_layer: int = 3
    frequencies: int = 6
    activation: str = "relu"


@dataclass(frozen=True)
class FitSettings:
    """How the neural SDF is fitted to the mesh (unit-cube units)."""

    model: ModelSettings = field(default_factory=ModelSettings)
    iterations: int = 600
    batch_size: int = 4096
    learning_rate: float = 2e-3
    clamp: float = 0.1
    band_sigmas: tuple[float, ...] = (0.002, 0.01, 0.04)
    uniform_fraction: float = 0.15
    sample_bound: float = 0.6
    pool_size: int = 200_000
    pools: int = 1
    sdf_backend: str = "auto"


@dataclass(frozen=True)
class SegmentSettings:
    """How activations become types and parts.

    ``parts`` / ``types``: force the number of parts or of surface types
    (None: chosen by the unsupervised criterion). ``use_activations``,
    ``use_creases``, ``use_thickness``: the cut cues (docs/design.md);
    ``activation_scale``: the activation boundary strength (activation change per unit length over its
    median) is multiplied by this before its Cauchy affinity; under 1 the fit's own noise cuts less
    (docs/design.md "Stability across fits"). ``thickness_scale``: the difference of two regions' mean
    log shape diameter at which their affinity falls to 1/e (chosen on PSB development meshes,
    docs/design.md "Thickness"). ``bridge_ratio``: weak-cut merges whose union's concavity
    exceeds this many times either region's own, over the whole hull and over its part outside the solid,
    are refused (None: never; 1.7 chosen on the whole PSB development split, docs/design.md "Two sides of
    one wall, and the bridge veto judged outside the solid"). ``copy_neck``: in auto
    mode, two regions that are mirror or translated copies of each other (a pair of glasses' rims) are
    not merged as nearly convex unless their seam is longer than this many girths
    (``engine.segment.repetition``; a round bar's halves meet at sqrt 2 = 1.41, a square bar's at 1.56;
    None: no such veto). ``wall_share``: in auto mode, a region at least this share of whose surface
    looks through the solid at one other region, nearer than its radius, joins it (a cup's
    inside and outside; ``engine.segment.walls``; needs the thickness cue; None: never).
    ``end_crease_weight``: in auto mode, a region that touches only one other, along a boundary whose mean
    crease weight (exp(-(concave angle / crease_angle)^2)) is below this, is not merged with it as nearly
    convex (a shaft's thinner end, a fin; ``engine.segment.ends``; needs the crease cue; None: never;
    0.6 chosen on the whole PSB development split, docs/design.md "An end on a crease"). ``features``: ``raw``, the
    activations of the mesh's own field, or ``dino``, the shared backbone's DINO features, with part types
    taken from its prototypes (``engine.backbone.shared_features``; the same type name in every mesh).
    """

    parts: int | None = None
    types: int | None = None
    max_parts: int = 24
    min_fragment_share: float = 0.005
    use_activations: bool = True
    use_creases: bool = True
    use_thickness: bool = True
    activation_scale: float = 0.5
    thickness_scale: float = 0.6
    bridge_ratio: float | None = 1.7
    copy_neck: float | None = 1.3
    wall_share: float | None = 0.6
    end_crease_weight: float | None = 0.6
    crease_angle: float = 0.1
    convex_concavity: float = 0.05
    feature_set: str = "all"
    features: str = "raw"


@dataclass(frozen=True)
class PartFieldSettings:
    """How the per-part SDFs (one network channel per part) are fitted and meshed.

    The network starts from the fitted global decoder and is fine-tuned for
    ``iterations`` steps on ``pool_size`` points, of which ``interior_fraction``
    are extra points uniform in the mesh's bounding box (where the cuts between
    parts lie). Surface labels get ``smoothing_rounds`` of majority vote and
    ``surface_samples`` extra area-uniform labelled points before they decide
    ownership. Parts overlap by ``cut_overlap`` at their cuts; within
    ``junction_margin`` beyond its cut a part may run on under its neighbour
    (see ``engine.parts.part_fields.part_target_bounds``). Meshes come from a
    ``mesh_resolution``^3 grid over the unit cube; stray inside pieces below
    ``min_piece_share`` of a part's largest piece are dropped.
    """

    iterations: int = 1200
    batch_size: int = 4096
    learning_rate: float = 2e-3
    pool_size: int = 200_000
    interior_fraction: float = 0.25
    surface_samples: int = 100_000
    smoothing_rounds: int = 2
    cut_overlap: float = 0.01
    junction_margin: float = 0.03
    mesh_resolution: int = 160
    min_piece_share: float = 0.05


@dataclass(frozen=True)
class RunSettings:
    quality: str = "balanced"
    fit: FitSettings = field(default_factory=FitSettings)
    segment: SegmentSettings = field(default_factory=SegmentSettings)
    part_field: PartFieldSettings | None = field(default_factory=PartFieldSettings)
    seed: int = 0
    device: str = "auto"
    threads: int | None = None


def preset(quality: str) -> FitSettings:
    """Fit settings of a quality preset (measured: docs/design.md, "Training budget"; docs/benchmarks_fast.md)."""
    if quality == "fast":
        return FitSettings(iterations=300)
    if quality == "balanced":
        return FitSettings()
    if quality == "high":
        return FitSettings(model=ModelSettings(width=192, hidden_layers=8, skip_layer=4), iterations=1500,
                           batch_size=8192, pools=4)
    raise BadInputError(f"unknown quality '{quality}'; use one of {', '.join(QUALITIES)}")


def part_field_preset(quality: str) -> PartFieldSettings:
    """Per-part SDF settings of a quality preset."""
    if quality == "fast":
        return PartFieldSettings(iterations=500, mesh_resolution=128)
    if quality == "high":
        return PartFieldSettings(iterations=1600, batch_size=8192, pool_size=400_000, mesh_resolution=224)
    return PartFieldSettings()


MAX_SEED = 2**32 - 1  # numpy's and torch's seeds both take it
MAX_THREADS = 1024


def run_settings(
    quality: str = "balanced",
    parts: int | None = None,
    types: int | None = None,
    seed: int = 0,
    device: str = "auto",
    threads: int | None = None,
    part_meshes: bool = True,
    features: str = "raw",
) -> RunSettings:
    """Settings for a run, validated; raises BadInputError on bad values."""
    if device not in DEVICES:
        raise BadInputError(f"unknown device '{device}'; use one of {', '.join(DEVICES)}")
    for name, value in (("parts", parts), ("types", types)):
        if value is not None and not 1 <= value <= 256:
            raise BadInputError(f"--{name} must be between 1 and 256, got {value}")
    if threads is not None and not 1 <= threads <= MAX_THREADS:
        raise BadInputError(f"--threads must be between 1 and {MAX_THREADS}, got {threads}")
    if features not in FEATURES:
        raise BadInputError(f"unknown features '{features}'; use one of {', '.join(FEATURES)}")
    if features == "dino" and types is not None:
        raise BadInputError("--types cannot be combined with --features dino: the types are the shared "
                            "backbone's prototypes; leave --types out")
    if not 0 <= seed <= MAX_SEED:
        raise BadInputError(f"--seed must be between 0 and {MAX_SEED}, got {seed}")
    return RunSettings(
        quality=quality,
        fit=preset(quality),
        segment=SegmentSettings(parts=parts, types=types, features=features),
        part_field=part_field_preset(quality) if part_meshes else None,
        seed=seed,
        device=device,
        threads=threads,
    )


def to_dict(settings: Any) -> dict:
    return dataclasses.asdict(settings)


def _build(cls, data: dict):
    """A flat dataclass from its dict (JSON lists become tuples; unknown keys are ignored)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names})


def fit_settings_from_dict(data: dict) -> FitSettings:
    """FitSettings from their JSON form (``to_dict``).

    Keys that older versions saved and later ones dropped (``eikonal_weight``,
    never enabled) are ignored, so the model.json files of older runs still load.
    """
    return _build(FitSettings, {**data, "model": _build(ModelSettings, data.get("model", {}))})
