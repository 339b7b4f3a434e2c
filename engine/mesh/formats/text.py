"""Helpers of the text formats (OBJ, OFF): decoding, token counting, numbers whose errors name their line."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ...errors import BadInputError


def decode_text(path: Path) -> str:
    """The file as text: UTF-8 (bad bytes replaced), classic Mac line ends made ``\\n``, no byte-order mark."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    if "\r" in text and "\n" not in text:  # classic Mac line ends
        text = text.replace("\r", "\n")
    return text[1:] if text.startswith("\ufeff") else text


def tokens_per_line(text: str, count: int) -> np.ndarray:
    """(count,) number of whitespace-separated tokens on each line of ``text``."""
    data = np.frombuffer(text.encode("utf-8", errors="replace"), np.uint8)
    blank = data <= 32
    token_starts = np.flatnonzero(~blank[1:] & blank[:-1]) + 1
    if len(data) and not blank[0]:
        token_starts = np.concatenate([[0], token_starts])
    line_of_token = np.searchsorted(np.flatnonzero(data == 10), token_starts)
    return np.bincount(line_of_token, minlength=count)[:count] if len(token_starts) else np.zeros(count, np.int64)


def parse_xyz(rows: list[list[str]], lines: list[int], name: str, what: str) -> np.ndarray:
    """(len(rows), 3) float64 from the first three tokens of each row; a bad number names its line."""
    try:
        return np.array([t for row in rows for t in row[:3]], dtype=np.float64).reshape(-1, 3)
    except ValueError:
        for row, line in zip(rows, lines, strict=True):
            for token in row[:3]:
                try:
                    float(token)
                except ValueError:
                    raise BadInputError(f"{name} line {line}: '{token}' is not a number ({what})") from None
        raise


def parse_indices(tokens: list[str], corner_lines: np.ndarray, name: str) -> np.ndarray:
    """(len(tokens),) int64 vertex indices; ``corner_lines`` (same length) names the line of a bad token."""
    try:
        return np.array(tokens, dtype=np.int64)
    except (ValueError, OverflowError):
        for token, line in zip(tokens, corner_lines, strict=True):
            try:
                int(token)
            except ValueError:
                raise BadInputError(f"{name} line {line}: '{token}' is not a vertex index") from None
        raise


def numbers_or_none(vertex_text: str, face_text: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The whitespace-separated numbers of two blocks, (p,) float64 and (q,) int64, in one vectorised pass;
    None when a token is not a number of its kind (the caller then reads line by line)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        try:
            return (np.fromstring(vertex_text, dtype=np.float64, sep=" "),
                    np.fromstring(face_text, dtype=np.int64, sep=" "))
        except (DeprecationWarning, ValueError):
            return None
