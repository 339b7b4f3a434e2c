"""The one-line description of the measuring machine that every benchmark report opens with."""

from __future__ import annotations

import os
import platform


def machine_summary() -> str:
    """'<cpu>, <n> cores, <OS>' of this machine."""
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.system()}"
