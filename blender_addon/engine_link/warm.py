"""The warm engine: one ``python -m engine serve`` process kept between runs (no bpy, no engine import).

Starting Python and importing torch is about two seconds of every run; a warm engine pays it once.
``run_segment`` sends one request line (``{"segment": [ARGS...]}``) and returns a ``WarmRun``, which a
job follows exactly like an ``EngineProcess`` (``poll``, ``wait``, ``cancel``, ``stop``, ``outcome``):
the run ends at its DONE or ERROR event. Cancel sends SIGINT, which stops only the running request
(on Windows, where there is no SIGINT to send, the process is terminated and the next run starts a
fresh one). An engine that died, or was started for another configuration, is replaced on the next
run; ``close`` (file load, add-on disable, quit) ends it by closing its input. ``prepare`` starts it
ahead of the first run (the panel does, when it is shown), so that a click pays no process start.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import deque

from .client import (
    _ACTIVE,
    _ACTIVE_LOCK,
    CANCEL_GRACE_S,
    READER_GRACE_S,
    EngineConfig,
    FollowedRun,
    Outcome,
    ProcessOutput,
    engine_env,
    interpret,
    python_executable,
    send_cancel,
)

ENDING_EVENTS = ("DONE", "ERROR")


class WarmEngine:
    """One ``engine serve`` subprocess and what it has written (``ProcessOutput``)."""

    def __init__(self, config: EngineConfig):
        self.config = config
        self.failed = False  # its last request ended in an internal error: the next run starts a fresh one
        self.process = subprocess.Popen(
            [python_executable(config), "-m", "engine", "serve"],
            env=engine_env(config),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        self.output = ProcessOutput(self.process)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def submit(self, arguments: list[str]) -> WarmRun:
        """Send one ``segment`` request; raises OSError when the engine cannot take it (it died)."""
        self.output.clear()  # nothing of an earlier run may leak into this one
        self.process.stdin.write(json.dumps({"segment": arguments}) + "\n")
        self.process.stdin.flush()
        return WarmRun(self)

    def close(self, timeout: float = CANCEL_GRACE_S) -> None:
        """End the engine: close its input (it exits between requests), kill it after ``timeout``."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class WarmRun(FollowedRun):
    """One request to a warm engine, followed like an ``EngineProcess``: it ends at its DONE or ERROR."""

    def __init__(self, engine: WarmEngine):
        self.engine = engine
        self.outcome: Outcome | None = None
        self._received: list[dict] = []
        self._cancel_deadline: float | None = None
        self._died_at: float | None = None
        with _ACTIVE_LOCK:
            _ACTIVE.add(self)

    @property
    def stderr_tail(self) -> deque[str]:
        return self.engine.output.stderr_tail

    def poll(self) -> list[dict]:
        """Events received since the last call; sets ``outcome`` at DONE or ERROR, or when the engine died."""
        if self.outcome is not None:
            return []
        events = self.engine.output.drain(until=ENDING_EVENTS)
        self._received += events
        ending = next((e for e in events if e.get("type") in ENDING_EVENTS), None)
        if ending is not None:
            self._finish(0 if ending["type"] == "DONE" else int(ending.get("exit_code", 1)))
        elif not self.engine.alive:
            self._died_at = self._died_at or time.monotonic()
            if not self.engine.output.reading or time.monotonic() > self._died_at + READER_GRACE_S:
                last = self.engine.output.drain(until=ENDING_EVENTS)
                self._received += last
                events += last
                self._finish(self.engine.process.returncode)
        elif self._cancel_deadline is not None and time.monotonic() > self._cancel_deadline:
            self.engine.process.kill()
        return events

    def cancel(self) -> None:
        """Stop this request: SIGINT on POSIX (the engine stays), terminate on Windows; killed after a grace."""
        if self.outcome is not None or self._cancel_deadline is not None or not self.engine.alive:
            return
        self._cancel_deadline = time.monotonic() + CANCEL_GRACE_S
        send_cancel(self.engine.process)

    def stop(self, timeout: float = CANCEL_GRACE_S) -> Outcome:
        """Cancel and block until the request (or the engine) has ended."""
        if self.outcome is not None:
            return self.outcome
        self.cancel()
        deadline = time.monotonic() + timeout + READER_GRACE_S
        while self.outcome is None:
            self.poll()
            if self.outcome is None and time.monotonic() > deadline:
                self.engine.process.kill()
                self.engine.process.wait()
                deadline = float("inf")
            time.sleep(0.02)
        return self.outcome

    def _finish(self, exit_code: int | None) -> None:
        self.engine.failed = exit_code == 1
        with _ACTIVE_LOCK:
            _ACTIVE.discard(self)
        self.outcome = interpret(exit_code, self._received, list(self.engine.output.garbage),
                                 list(self.engine.output.stderr_tail), self._cancel_deadline is not None)


_engine: WarmEngine | None = None


def is_ready(config: EngineConfig) -> bool:
    """Whether a live warm engine of ``config`` is waiting (or working): the next run starts no process."""
    return _engine is not None and _engine.alive and _engine.config == config and not _engine.failed


def prepare(config: EngineConfig) -> WarmEngine:
    """The warm engine of ``config``, started (or replacing a dead, failed or differently configured one) now.

    Raises OSError when no engine can be started.
    """
    global _engine
    if not is_ready(config):
        if _engine is not None:
            _engine.close()
            _engine = None
        _engine = WarmEngine(config)
    return _engine


def run_segment(config: EngineConfig, arguments: list[str]) -> WarmRun:
    """Send ``segment ARGUMENTS`` to the warm engine of ``config``, starting (or replacing) it as needed.

    Raises OSError when no engine can be started.
    """
    global _engine
    prepare(config)
    try:
        return _engine.submit(arguments)
    except OSError:  # it died between the check and the request: one fresh start
        _engine.close()
        _engine = WarmEngine(config)
        return _engine.submit(arguments)


def current_engine() -> WarmEngine | None:
    """The warm engine, if one was started (its process: tests and benchmarks look at it)."""
    return _engine


def close() -> None:
    """End the warm engine, if any (file load, add-on disable, quit)."""
    global _engine
    engine, _engine = _engine, None
    if engine is not None:
        engine.close()
