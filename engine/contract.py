"""The one message protocol between the engine and its callers.

With ``--events`` the CLI writes one JSON object per line on stdout, from a
closed set of types:

- ``{"type": "STATUS", "message": str}``
- ``{"type": "PROGRESS", "stage": str, "fraction": float, "overall": float}``
  (``fraction``: done share of this stage, ``overall``: of the whole run, 0..1)
- ``{"type": "WARN", "message": str}``
- ``{"type": "ERROR", "message": str, "exit_code": int}``  (2 bad input, 1 internal, 130 cancelled)
- ``{"type": "DONE", "output": str, "parts": int, "types": int}``

Nothing else is printed on stdout in that mode; logs go to stderr. SIGINT
(or SIGTERM) cancels: the engine stops at the next step, leaves no output
folder, sends ERROR with exit code 130 and exits with 130.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

MESSAGE_TYPES = ("STATUS", "PROGRESS", "WARN", "ERROR", "DONE")


def encode(message_type: str, **fields: Any) -> str:
    """One protocol line (without newline)."""
    if message_type not in MESSAGE_TYPES:
        raise ValueError(f"unknown message type {message_type}")
    return json.dumps({"type": message_type, **fields}, separators=(",", ":"))


def decode(line: str) -> dict:
    """Parse one protocol line; raises ValueError on anything that is not a known message."""
    message = json.loads(line)
    if not isinstance(message, dict) or message.get("type") not in MESSAGE_TYPES:
        raise ValueError(f"not a protocol message: {line[:200]!r}")
    return message


class EventWriter:
    """Writes protocol lines to a stream, flushing each one."""

    def __init__(self, stream: IO[str] | None = None):
        self.stream = stream if stream is not None else sys.stdout

    def send(self, message_type: str, **fields: Any) -> None:
        self.stream.write(encode(message_type, **fields) + "\n")
        self.stream.flush()
