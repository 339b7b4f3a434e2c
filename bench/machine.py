"""The one-line description of the measuring machine that every benchmark report opens with."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what ``platform`` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine_summary() -> str:
    """'<cpu model> (<torch kernels>), <n> cores, <OS>' of this machine. The kernels torch picks for
    the CPU (AVX2, AVX512, ...) change the fitted field's last bits, and a segmentation can follow them:
    numbers from machines with different kernels differ by more than a re-run on one machine does."""
    import torch

    return (f"{cpu_model()} ({platform.machine()}, torch kernels {torch.backends.cpu.get_cpu_capability()}), "
            f"{os.cpu_count()} cores, {platform.system()}")
