"""Progress and warnings of a run: shown as a bar on stderr or sent as protocol events."""

from __future__ import annotations

import logging
import sys

from .contract import EventWriter

STAGE_WEIGHTS = {"load": 0.02, "fit": 0.55, "probe": 0.02, "segment": 0.08, "parts": 0.3, "write": 0.03}
SHARED_STAGE_WEIGHTS = {"load": 0.02, "fit": 0.45, "backbone": 0.2, "probe": 0.02, "segment": 0.06, "parts": 0.22,
                        "write": 0.03}
"""With ``--features dino``: the code fit against the shared backbone is a stage of its own."""

log = logging.getLogger("engine")


class Reporter:
    """Receives stage changes, in-stage fractions and warnings; base class reports nothing."""

    def __init__(self):
        self.weights = STAGE_WEIGHTS
        self.current = ""
        self.done_before = 0.0

    def stage(self, name: str) -> None:
        """Start stage ``name``: every stage listed before it counts as done (skipped ones too)."""
        names = list(self.weights)
        if name in names:
            self.done_before = sum(self.weights[k] for k in names[:names.index(name)])
        elif self.current:
            self.done_before += self.weights.get(self.current, 0.0)
        self.current = name
        self.progress(0.0)

    def overall(self, fraction: float) -> float:
        total = sum(self.weights.values())
        return min(1.0, (self.done_before + self.weights.get(self.current, 0.0) * fraction) / total)

    def progress(self, fraction: float) -> None:
        """Done share of the current stage, 0..1."""

    def warn(self, message: str) -> None:
        log.warning(message)

    def close(self) -> None:
        """Called once at the end of the run."""


class EventReporter(Reporter):
    """Sends PROGRESS and WARN protocol messages (the add-on's view)."""

    def __init__(self, writer: EventWriter):
        super().__init__()
        self.writer = writer

    def stage(self, name: str) -> None:
        super().stage(name)
        self.writer.send("STATUS", message=name)

    def progress(self, fraction: float) -> None:
        self.writer.send("PROGRESS", stage=self.current, fraction=round(fraction, 4),
                         overall=round(self.overall(fraction), 4))

    def warn(self, message: str) -> None:
        self.writer.send("WARN", message=message)


class BarReporter(Reporter):
    """A tqdm bar on stderr, described by the current stage."""

    def __init__(self):
        super().__init__()
        from tqdm import tqdm

        layout = "{desc:<8} {percentage:3.0f}%|{bar}| {elapsed}"
        self.bar = tqdm(total=1000, file=sys.stderr, unit="‰", bar_format=layout)

    def stage(self, name: str) -> None:
        self.bar.set_description_str(name)
        super().stage(name)

    def progress(self, fraction: float) -> None:
        self.bar.n = int(1000 * self.overall(fraction))
        self.bar.refresh()

    def warn(self, message: str) -> None:
        self.bar.write(f"warning: {message}", file=sys.stderr)

    def close(self) -> None:
        self.bar.close()
