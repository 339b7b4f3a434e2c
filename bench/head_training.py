"""Training the DINO head on the backbone's activations (issue 14, stages 2-3; seed 001 sections 3-5).

The backbone is frozen. Each step takes points on the surfaces of a few training shapes and reads the
decoder's activations twice, as two views of the same points: the teacher's view under the shape's own
code, the student's under a perturbed code, with noise on the activations and only a subset of the
points. The student learns to predict the teacher's prototype distribution at each point (cross-entropy);
the teacher is the student's exponential moving average, its logits centred and sharpened against
collapse. Views are symmetric (each head sees both). The head reads one point at a time, so seed 001's
point-subset view would change nothing and is not used; its rotation view needs a code per pose, which an
auto-decoder does not have (the collection's shapes are posed at random instead).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from engine.backbone.head import HeadSettings, ProjectionHead
from engine.backbone.model import LatentDecoder

SURFACE_BAND = 0.003


@dataclass(frozen=True)
class HeadRecipe:
    """Everything that decides the head's weights besides the backbone; saved in its JSON record.

    ``context_neighbours`` > 0 adds DINO's local-to-global view: the teacher also reads each point's
    activations averaged over its that many nearest sampled surface points of the same shape (a patch of
    the part around it), and the student, at the point alone, learns to predict it (0: point views only).
    """

    seed: int = 0
    steps: int = 1500
    shapes_per_step: int = 16
    points_per_shape: int = 256
    code_noise: float = 0.3
    activation_noise: float = 0.05
    teacher_temperature: float = 0.04
    student_temperature: float = 0.1
    center_momentum: float = 0.9
    teacher_momentum: float = 0.996
    learning_rate: float = 1e-3
    context_neighbours: int = 0
    head: HeadSettings = field(default_factory=HeadSettings)


def surface_rows(distances: np.ndarray) -> list[np.ndarray]:
    """Per shape, the sample indices within ``SURFACE_BAND`` of its surface: distances (s, k) -> s arrays."""
    return [np.nonzero(np.abs(row) < SURFACE_BAND)[0] for row in distances]


@torch.no_grad()
def layer_activations(decoder: LatentDecoder, points: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """(n, 3), (n, latent) -> (n, layers x width): every hidden layer's activations side by side."""
    return torch.cat(decoder.forward_with_taps(points, codes)[1], dim=1)


def dino_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, center: torch.Tensor,
              recipe: HeadRecipe) -> torch.Tensor:
    """Mean over points of -sum softmax((t - c) / tau_t) * log softmax(s / tau_s); (n, K) each."""
    targets = torch.softmax((teacher_logits - center) / recipe.teacher_temperature, dim=1)
    return -(targets * torch.log_softmax(student_logits / recipe.student_temperature, dim=1)).sum(dim=1).mean()


def activation_statistics(decoder: LatentDecoder, points: np.ndarray, codes: torch.Tensor,
                          rows: list[np.ndarray], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and std (inputs,) of surface activations over up to 64 training shapes (the head's standardiser)."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(points), min(64, len(points)), replace=False)
    batches = []
    for shape in chosen:
        picked = rng.choice(rows[shape], min(512, len(rows[shape])), replace=False)
        batch = torch.from_numpy(points[shape, picked])
        batches.append(layer_activations(decoder, batch, codes[shape].expand(len(batch), -1)))
    stacked = torch.cat(batches)
    return stacked.mean(dim=0), stacked.std(dim=0).clamp_min(1e-4)


def patch_means(activations: torch.Tensor, points: torch.Tensor, per_shape: int, neighbours: int) -> torch.Tensor:
    """Each point's activations averaged over its ``neighbours`` nearest points of the same shape (itself
    included); activations (n, d) and points (n, 3) hold ``per_shape`` consecutive rows per shape."""
    shapes = len(points) // per_shape
    grouped = points.reshape(shapes, per_shape, 3)
    nearest = torch.cdist(grouped, grouped).topk(min(neighbours, per_shape), dim=2, largest=False).indices
    values = activations.reshape(shapes, per_shape, -1)
    gathered = torch.gather(values.unsqueeze(1).expand(-1, per_shape, -1, -1), 2,
                            nearest.unsqueeze(-1).expand(-1, -1, -1, values.shape[2]))
    return gathered.mean(dim=2).reshape(len(points), -1)


def train_head(
    recipe: HeadRecipe,
    decoder: LatentDecoder,
    codes: torch.Tensor,
    points: np.ndarray,
    distances: np.ndarray,
    progress: Callable[[int, float, float], None] | None = None,
) -> tuple[ProjectionHead, list[float]]:
    """The student head after ``recipe.steps`` and the loss per step.

    ``codes`` (s, latent) are the backbone's training codes of the shapes whose samples are ``points``
    (s, k, 3) and ``distances`` (s, k). ``progress(step, loss, prototypes in use)`` every 50 steps.
    """
    torch.manual_seed(recipe.seed)
    generator = np.random.default_rng(recipe.seed)
    decoder = decoder.eval()
    rows = surface_rows(distances)
    usable = np.array([i for i, r in enumerate(rows) if len(r) >= recipe.points_per_shape // 4])
    settings = dataclasses.replace(recipe.head, inputs=decoder.settings.width * decoder.settings.hidden_layers)
    student = ProjectionHead(settings)
    student.mean, student.std = activation_statistics(decoder, points, codes, rows, recipe.seed)
    teacher = copy.deepcopy(student)
    for parameter in teacher.parameters():
        parameter.requires_grad_(False)
    optimiser = torch.optim.AdamW(student.parameters(), lr=recipe.learning_rate, weight_decay=0.04)
    center = torch.zeros(settings.prototypes)
    code_spread = codes.std(dim=0)
    history = []
    for step in range(recipe.steps):
        shapes = generator.choice(usable, recipe.shapes_per_step)
        picked = [generator.choice(rows[s], recipe.points_per_shape) for s in shapes]
        batch = torch.from_numpy(np.concatenate([points[s, p] for s, p in zip(shapes, picked, strict=True)]))
        own = codes[torch.from_numpy(np.repeat(shapes, recipe.points_per_shape))]
        noise = torch.randn(recipe.shapes_per_step, codes.shape[1]) * code_spread * recipe.code_noise
        perturbed = own + noise.repeat_interleave(recipe.points_per_shape, dim=0)
        clean = layer_activations(decoder, batch, own)
        noisy = layer_activations(decoder, batch, perturbed)
        noisy = noisy + torch.randn_like(noisy) * student.std * recipe.activation_noise
        wide = clean if not recipe.context_neighbours else patch_means(
            clean, batch, recipe.points_per_shape, recipe.context_neighbours)
        with torch.no_grad():
            teacher_clean, teacher_noisy = teacher(wide), teacher(noisy)
        loss = 0.5 * (dino_loss(student(noisy), teacher_clean, center, recipe)
                      + dino_loss(student(clean), teacher_noisy, center, recipe))
        for group in optimiser.param_groups:
            group["lr"] = recipe.learning_rate * 0.5 * (1.0 + math.cos(math.pi * step / recipe.steps))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        momentum = 1.0 - (1.0 - recipe.teacher_momentum) * 0.5 * (1.0 + math.cos(math.pi * step / recipe.steps))
        with torch.no_grad():
            for teacher_parameter, student_parameter in zip(teacher.parameters(), student.parameters(), strict=True):
                teacher_parameter.lerp_(student_parameter, 1.0 - momentum)
            center.mul_(recipe.center_momentum).add_(teacher_clean.mean(dim=0), alpha=1.0 - recipe.center_momentum)
        history.append(loss.item())
        if progress is not None and (step + 1) % 50 == 0:
            in_use = int(len(torch.unique(teacher_clean.argmax(dim=1))))
            progress(step + 1, float(np.mean(history[-50:])), in_use)
    return student.eval(), history



def run_train_head(argv: list[str]) -> int:
    """``python -m bench train-head``: the DINO head on the shipped backbone's training shapes."""
    import argparse
    import json
    import logging
    import time
    from pathlib import Path

    from engine.backbone.weights import SHIPPED, SHIPPED_HEAD, load_backbone, save_backbone

    from .backbone_training import codes_path
    from .collection.samples import SAMPLES_CACHE, collection_samples

    log = logging.getLogger(__name__)
    defaults = HeadRecipe()
    parser = argparse.ArgumentParser(prog="python -m bench train-head", description="train the DINO head on "
                                     "the backbone's activations")
    parser.add_argument("--backbone", type=Path, default=SHIPPED)
    parser.add_argument("--steps", type=int, default=defaults.steps)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--prototypes", type=int, default=defaults.head.prototypes)
    parser.add_argument("--context-neighbours", type=int, default=defaults.context_neighbours,
                        help="the teacher's patch view: nearest surface points averaged (0: point views only)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path, default=SHIPPED_HEAD)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    recipe = dataclasses.replace(defaults, steps=args.steps, seed=args.seed, context_neighbours=args.context_neighbours,
                                 head=dataclasses.replace(defaults.head, prototypes=args.prototypes))
    decoder, record = load_backbone(args.backbone)
    codes = torch.load(codes_path(args.backbone), weights_only=True)
    backbone_recipe = record["provenance"]["recipe"]
    started = time.perf_counter()
    points, distances = collection_samples(backbone_recipe["seed"], "train", backbone_recipe["shapes"],
                                           backbone_recipe["samples_per_shape"], SAMPLES_CACHE)

    def progress(step: int, loss: float, in_use: int) -> None:
        log.info("step %d/%d loss %.4f, %d prototypes in use, %.0f s", step, recipe.steps, loss, in_use,
                 time.perf_counter() - started)

    head, history = train_head(recipe, decoder, codes, points, distances, progress)
    provenance = {"recipe": dataclasses.asdict(recipe), "backbone": json.loads(
        json.dumps(record["provenance"]["recipe"])), "seconds": round(time.perf_counter() - started, 1),
        "final_loss": float(np.mean(history[-100:])), "torch": torch.__version__}
    save_backbone(head, args.output, provenance)
    log.info("wrote %s.pt", args.output)
    return 0
