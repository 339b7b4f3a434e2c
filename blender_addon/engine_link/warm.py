"""The warm engine: one ``python -m engine serve`` process kept between runs (no bpy, no engine import).

Starting Python and importing torch is about two seconds of every run; a warm engine pays it once.
``run_segment`` sends one request line (``{"segment": [ARGS...]}``) and returns a ``WarmRun``, which a
job follows exactly like an ``EngineProcess`` (``poll``, ``wait``, ``cancel``, ``stop``, ``outcome``):
the run ends at its DONE or ERROR event. Cancel sends SIGINT, which stops only the running request
(on Windows, where there is no SIGINT to send, the process is terminated and the next run starts a
fresh one). An engine that died, or was started for another configuration, is replaced on the next
run; ``close`` (file load, add-on disable, quit) ends it by closing its input.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections import deque

from .client import (
    _ACTIVE,
    _ACTIVE_LOCK,
    CANCEL_GRACE_S,
    READER_GRACE_S,
    STDERR_TAIL_LINES,
    EngineConfig,
    Outcome,
    decode_event,
    engine_env,
    interpret,
    python_executable,
)

ENDING_EVENTS = ("DONE", "ERROR")


class WarmEngine:
    """One ``engine serve`` subprocess, its stdout and stderr readers, and the run it is serving."""

    def __init__(self, config: EngineConfig):
        self.config = config
        self.events: queue.Queue = queue.Queue()
        self.garbage: list[str] = []
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self.failed = False
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
        self.readers = [threading.Thread(target=target, daemon=True)
                        for target in (self._read_stdout, self._read_stderr)]
        for reader in self.readers:
            reader.start()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _read_stdout(self) -> None:
        for raw in self.process.stdout:
            line = raw.strip()
            if line:
                message = decode_event(line)
                if message is None:
                    self.garbage.append(line[:200])
                else:
                    self.events.put(message)

    def _read_stderr(self) -> None:
        for raw in self.process.stderr:
            self.stderr_tail.append(raw.rstrip())

    def submit(self, arguments: list[str]) -> WarmRun:
        """Send one ``segment`` request; raises OSError when the engine cannot take it (it died)."""
        while not self.events.empty():  # nothing of an earlier run may leak into this one
            self.events.get_nowait()
        self.garbage.clear()
        self.stderr_tail.clear()
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


class WarmRun:
    """One request to a warm engine, followed like an ``EngineProcess``."""

    def __init__(self, engine: WarmEngine):
        self.engine = engine
        self.outcome: Outcome | None = None
        self._received: list[dict] = []
        self._cancel_deadline: float | None = None
        self._died_at: float | None = None
        with _ACTIVE_LOCK:
            _ACTIVE.add(self)

    @property
    def running(self) -> bool:
        return self.outcome is None

    @property
    def stderr_tail(self) -> deque[str]:
        return self.engine.stderr_tail

    def poll(self) -> list[dict]:
        """Events received since the last call; sets ``outcome`` at DONE or ERROR, or when the engine died."""
        if self.outcome is not None:
            return []
        events = self._drain()
        ending = next((e for e in events if e.get("type") in ENDING_EVENTS), None)
        if ending is not None:
            code = 0 if ending["type"] == "DONE" else int(ending.get("exit_code", 1))
            self._finish(code)
        elif not self.engine.alive:
            self._died_at = self._died_at or time.monotonic()
            if time.monotonic() > self._died_at + READER_GRACE_S or not any(r.is_alive() for r in self.engine.readers):
                events += self._drain()
                self._finish(self.engine.process.returncode)
        elif self._cancel_deadline is not None and time.monotonic() > self._cancel_deadline:
            self.engine.process.kill()
        return events

    def _drain(self) -> list[dict]:
        events = []
        while True:
            try:
                events.append(self.engine.events.get_nowait())
            except queue.Empty:
                break
            if events[-1].get("type") in ENDING_EVENTS:
                break
        self._received += events
        return events

    def wait(self, on_event=None, interval: float = 0.1) -> Outcome:
        """Block until the run ends, passing each event to ``on_event``."""
        while True:
            for event in self.poll():
                if on_event is not None:
                    on_event(event)
            if self.outcome is not None:
                return self.outcome
            time.sleep(interval)

    def cancel(self) -> None:
        """Stop this request: SIGINT on POSIX (the engine stays), terminate on Windows; killed after a grace."""
        if self.outcome is not None or self._cancel_deadline is not None or not self.engine.alive:
            return
        self._cancel_deadline = time.monotonic() + CANCEL_GRACE_S
        try:
            if os.name == "nt":
                self.engine.process.terminate()
            else:
                self.engine.process.send_signal(signal.SIGINT)
        except OSError:
            pass

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
        self.engine.failed = exit_code == 1  # an internal error: the next run gets a fresh engine
        with _ACTIVE_LOCK:
            _ACTIVE.discard(self)
        self.outcome = interpret(exit_code, self._received, list(self.engine.garbage),
                                 list(self.engine.stderr_tail), self._cancel_deadline is not None)


_engine: WarmEngine | None = None


def run_segment(config: EngineConfig, arguments: list[str]) -> WarmRun:
    """Send ``segment ARGUMENTS`` to the warm engine of ``config``, starting (or replacing) it as needed.

    Raises OSError when no engine can be started.
    """
    global _engine
    if _engine is not None and (not _engine.alive or _engine.config != config or _engine.failed):
        _engine.close()
        _engine = None
    if _engine is None:
        _engine = WarmEngine(config)
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
