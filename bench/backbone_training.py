"""Training the cross-shape backbone: a DeepSDF auto-decoder over the procedural collection (issue 14, stage 1).

One latent code per training shape and one shared ``LatentDecoder`` learn together (Park et al. 2019):
each step takes a few points of many shapes, a clamped L1 loss on their distances and a Gaussian prior on
the codes. Under ``torchrun`` every process trains on its own share of the shapes and PyTorch's DDP averages
the gradients, which equals one process's step on the whole batch. The recipe (``BackboneRecipe``) and a
seed reproduce the weights.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.backbone.latent_fit import clamped_l1
from engine.backbone.model import BackboneSettings, LatentDecoder
from engine.field.training import cosine_with_warmup

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackboneRecipe:
    """Everything that decides the shipped weights besides the code; saved in their JSON record."""

    seed: int = 0
    shapes: int = 1000
    samples_per_shape: int = 16384
    steps: int = 6000
    shapes_per_step: int = 32
    points_per_shape: int = 512
    decoder_learning_rate: float = 1e-3
    code_learning_rate: float = 3e-3
    clamp: float = 0.1
    code_prior: float = 1e-4
    backbone: BackboneSettings = field(default_factory=BackboneSettings)


class AutoDecoder(nn.Module):
    """The shared decoder and one code per training shape, trained together."""

    def __init__(self, settings: BackboneSettings, shapes: int, seed: int):
        super().__init__()
        torch.manual_seed(seed)
        self.decoder = LatentDecoder(settings)
        self.codes = nn.Embedding(shapes, settings.latent_size)
        nn.init.normal_(self.codes.weight, std=0.01)

    def forward(self, points: torch.Tensor, shape_rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(b, 3) points of the (b,) shapes -> (b,) distances and the (b, latent) codes used."""
        codes = self.codes(shape_rows)
        return self.decoder(points, codes), codes


@dataclass(frozen=True)
class Distributed:
    """This process's place in a ``torchrun`` job (rank 0 of 1 without one)."""

    rank: int = 0
    world: int = 1

    @classmethod
    def from_environment(cls) -> Distributed:
        """Joins the process group when ``torchrun`` set WORLD_SIZE above 1 (gloo on CPUs, nccl on GPUs)."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world == 1:
            return cls()
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
        return cls(torch.distributed.get_rank(), world)


def train_backbone(
    recipe: BackboneRecipe,
    points: np.ndarray,
    distances: np.ndarray,
    device: torch.device,
    distributed: Distributed = Distributed(),
    progress: Callable[[int, float], None] | None = None,
) -> tuple[AutoDecoder, list[float]]:
    """Train on samples ``points`` (s, k, 3) with ``distances`` (s, k); returns the model and the loss per step.

    This process draws its shapes from rows ``rank::world`` with a generator seeded by (seed, rank), so a
    run is reproducible for a given world size. ``progress(step, loss)`` is called every 50 steps.
    """
    model = AutoDecoder(recipe.backbone, len(points), recipe.seed).to(device)
    trained: nn.Module = model
    if distributed.world > 1:
        trained = nn.parallel.DistributedDataParallel(model)
    optimiser = torch.optim.Adam([
        {"params": model.decoder.parameters(), "lr": recipe.decoder_learning_rate},
        {"params": model.codes.parameters(), "lr": recipe.code_learning_rate},
    ])
    base_rates = [recipe.decoder_learning_rate, recipe.code_learning_rate]
    schedule = cosine_with_warmup(recipe.steps, warmup=100)
    generator = torch.Generator().manual_seed(recipe.seed * 1000 + distributed.rank)
    own = torch.arange(distributed.rank, len(points), distributed.world)
    all_points, all_distances = torch.from_numpy(points), torch.from_numpy(distances)
    shapes_here = max(1, recipe.shapes_per_step // distributed.world)
    history = []
    for step in range(recipe.steps):
        shapes = own[torch.randint(len(own), (shapes_here,), generator=generator)]
        columns = torch.randint(points.shape[1], (shapes_here, recipe.points_per_shape), generator=generator)
        batch_points = all_points[shapes[:, None], columns].reshape(-1, 3).to(device)
        batch_distances = all_distances[shapes[:, None], columns].reshape(-1).to(device)
        rows = shapes.repeat_interleave(recipe.points_per_shape).to(device)
        for group, base in zip(optimiser.param_groups, base_rates, strict=True):
            group["lr"] = base * schedule(step)
        predicted, codes = trained(batch_points, rows)
        loss = clamped_l1(predicted, batch_distances, recipe.clamp)
        prior = recipe.code_prior * codes.square().sum(dim=1).mean()
        optimiser.zero_grad(set_to_none=True)
        (loss + prior).backward()
        optimiser.step()
        history.append(loss.item())
        if progress is not None and (step + 1) % 50 == 0:
            progress(step + 1, float(np.mean(history[-50:])))
    return model, history


def recipe_record(recipe: BackboneRecipe, seconds: float, history: list[float], world: int) -> dict:
    """The provenance saved beside the weights: the recipe, the world size, time and final loss."""
    return {"recipe": dataclasses.asdict(recipe), "world_size": world, "seconds": round(seconds, 1),
            "final_loss": float(np.mean(history[-100:])), "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "trained": time.strftime("%Y-%m-%d")}


def codes_path(weights: Path) -> Path:
    """Where the training shapes' codes are kept beside the weights (the head trains under them)."""
    return weights.with_name(weights.name + "_codes.pt")


def run_train_backbone(argv: list[str]) -> int:
    """``python -m bench train-backbone``: samples the collection, trains, writes the weights (rank 0)."""
    import argparse

    from engine.backbone.weights import SHIPPED, save_backbone
    from engine.device import resolve_device

    from .collection.samples import SAMPLES_CACHE, collection_samples

    defaults = BackboneRecipe()
    parser = argparse.ArgumentParser(prog="python -m bench train-backbone", description="train the cross-shape "
                                     "backbone on the procedural collection (under torchrun: DDP)")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--shapes", type=int, default=defaults.shapes)
    parser.add_argument("--steps", type=int, default=defaults.steps)
    parser.add_argument("--samples-per-shape", type=int, default=defaults.samples_per_shape)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--output", type=Path, default=SHIPPED, help="weights path without suffix")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    recipe = dataclasses.replace(defaults, seed=args.seed, shapes=args.shapes, steps=args.steps,
                                 samples_per_shape=args.samples_per_shape)
    distributed = Distributed.from_environment()
    device = resolve_device(args.device)
    if device.type == "cuda" and distributed.world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    started = time.perf_counter()
    LOG.info("sampling %d shapes x %d points", recipe.shapes, recipe.samples_per_shape)
    points, distances = collection_samples(recipe.seed, "train", recipe.shapes, recipe.samples_per_shape, SAMPLES_CACHE)
    LOG.info("sampled in %.0f s; training %d steps on %s (process %d of %d)", time.perf_counter() - started,
             recipe.steps, device, distributed.rank + 1, distributed.world)

    def progress(step: int, loss: float) -> None:
        elapsed = time.perf_counter() - started
        LOG.info("step %d/%d loss %.5f, %.0f s, ETA %.0f min", step, recipe.steps, loss, elapsed,
                 elapsed / step * (recipe.steps - step) / 60)

    model, history = train_backbone(recipe, points, distances, device, distributed, progress)
    if distributed.rank == 0:
        record = recipe_record(recipe, time.perf_counter() - started, history, distributed.world)
        save_backbone(model.decoder, args.output, record)
        torch.save(model.codes.weight.detach().cpu().clone(), codes_path(args.output))
        LOG.info("wrote %s.pt (%.1f MB)", args.output, args.output.with_suffix(".pt").stat().st_size / 1e6)
    if distributed.world > 1:
        torch.distributed.destroy_process_group()
    return 0
