"""Spreading a batch's inputs over the cores: engine processes from a thread pool, or Ray tasks.

Either way each input is one engine process (``tasks``), tried at most ``ATTEMPTS`` times when it
crashes or is killed (a bad input is not retried). A cancel (``stop``: Ctrl-C) ends the running
processes with SIGTERM, so they leave no output, and records the inputs not done as 'cancelled'.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict
from pathlib import Path

from .inputs import BatchInput
from .tasks import (
    TaskOptions,
    finish_task,
    input_record,
    is_retryable,
    output_counts,
    staging_folder,
    start_task,
    stop_process,
)

ATTEMPTS = 2  # a crashed or killed input is tried once more
MEMORY_PER_WORKER_GB = 2.0  # a 50k-vertex run peaks at about 0.65 GB; room for bigger meshes


def plan_workers(
    cpus: int, workers: int | None, threads: int | None, memory_gb: float | None = None
) -> tuple[int, int]:
    """(workers, threads per engine) so that workers x threads fits ``cpus`` (and workers fit the memory).

    One thread per engine by default: a run's segmenting does not scale with threads, so on a
    CPU more engines side by side finish more meshes per hour than fewer engines with more threads.
    """
    if threads is None:
        threads = 1 if workers is None else max(1, cpus // workers)
    if workers is None:
        workers = max(1, cpus // threads)
        if memory_gb:
            workers = max(1, min(workers, int(memory_gb // MEMORY_PER_WORKER_GB)))
    return workers, threads


def machine_memory_gb() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return None


def run_local(items: list[BatchInput], options: TaskOptions, workers: int, on_record: Callable[[dict], None],
              cancelled: threading.Event) -> None:
    """Run the inputs with ``workers`` engine processes at a time on this machine (``cancelled``: set on
    Ctrl-C; the workers start no new engine once it is set)."""
    running: dict[int, object] = {}
    lock = threading.Lock()

    def one(index: int, item: BatchInput) -> dict:
        record = None
        for attempt in range(1, ATTEMPTS + 1):
            if cancelled.is_set():
                return _cancelled(item, attempt - 1)
            started = time.monotonic()
            try:
                process = start_task(item.source, item.output, item.kind, options)
            except OSError as error:
                return _record(item, "failed", error=str(error), attempts=attempt)
            with lock:
                running[index] = process
            if cancelled.is_set():  # the cancel came while it started: the main thread may not have seen it
                stop_process(process)
            try:
                record = finish_task(process, item.source, item.output, item.kind, started)
            except Exception as error:  # noqa: BLE001 - costs this input only
                record = _record(item, "failed", error=str(error), exit_code=process.returncode)
            finally:
                with lock:
                    running.pop(index, None)
            record["attempts"] = attempt
            if cancelled.is_set() and record["status"] != "ok":
                return _cancelled(item, attempt)
            if not is_retryable(record):
                return record
        return record

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="partsdf-batch")
    futures = {pool.submit(one, i, item): item for i, item in enumerate(items)}
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                on_record(future.result())
    except KeyboardInterrupt:
        cancelled.set()
        with lock:
            processes = list(running.values())
        stop_processes(processes)
        for future in pending:
            future.cancel()
        for future in pending:
            on_record(_cancelled(futures[future], 0) if future.cancelled() else future.result())
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_ray(items: list[BatchInput], options: TaskOptions, workers: int, on_record: Callable[[dict], None],
            address: str | None, complete: Callable[[BatchInput], bool]) -> None:
    """Run the inputs as Ray tasks: on this machine (Ray embedded, ``workers`` engines at a time) or on
    the cluster at ``address`` (inputs and outputs on a path every node sees; one CPU slot per thread).

    complete: whether an input's output is finished; on a cancel, a task whose engine finished just
    before it is recorded 'ok' from its output, whatever Ray reports of the task."""
    import ray

    from .tasks import run_task

    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(address="local", num_cpus=workers * options.threads, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)  # never an instance already on the machine
    signal.signal(signal.SIGTERM, raise_interrupt)  # ray.init put its own, which ends the process at once
    remote = ray.remote(num_cpus=options.threads, max_retries=0)(run_task)
    settings = asdict(options)

    def submit(item: BatchInput):
        return remote.remote(str(item.source), str(item.output), item.kind, settings)

    attempts = {}
    waiting = {}
    for item in items:
        waiting[submit(item)] = item
        attempts[item] = 1
    try:
        while waiting:
            ready, _ = ray.wait(list(waiting), num_returns=1, timeout=0.5)
            for ref in ready:
                item = waiting[ref]
                try:
                    record = ray.get(ref)
                except ray.exceptions.RayError as error:  # the worker died, or the task was lost
                    record = _record(item, "failed", exit_code=-1,
                                     error=f"the Ray worker failed: {type(error).__name__}: {error}"[:300])
                record["attempts"] = attempts[item]
                del waiting[ref]
                if is_retryable(record) and attempts[item] < ATTEMPTS:
                    attempts[item] += 1
                    waiting[submit(item)] = item
                    continue
                on_record(record)
    except KeyboardInterrupt:
        for ref in waiting:
            ray.cancel(ref)  # KeyboardInterrupt in the task: run_task stops its engine process
        for ref, item in waiting.items():
            try:
                ray.get(ref, timeout=30)
            except (ray.exceptions.RayError, KeyboardInterrupt):
                pass
            on_record(_finished(item, attempts[item]) if complete(item) else _cancelled(item, attempts[item]))
        raise
    finally:
        ray.shutdown()


def stop_processes(processes: list, grace_s: float = 10.0) -> None:
    """SIGTERM to all at once, then SIGKILL to those still running after ``grace_s``."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + grace_s
    for process in processes:
        stop_process(process, max(0.0, deadline - time.monotonic()))


def raise_interrupt(signum, frame):
    """SIGTERM handled like Ctrl-C: the batch stops its engines and writes its summary."""
    raise KeyboardInterrupt


def _finished(item: BatchInput, attempts: int) -> dict:
    return _record(item, "ok", exit_code=0, attempts=attempts, **output_counts(item.output, item.kind, item.source))


def _cancelled(item: BatchInput, attempts: int) -> dict:
    return _record(item, "cancelled", error="cancelled", attempts=attempts)


def _record(item: BatchInput, status: str, **fields) -> dict:
    return input_record(item.source, item.output, item.kind, status, **fields)


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def staging_leftovers(items: list[BatchInput]) -> list[Path]:
    """Staging folders of these .blend inputs that a killed batch left behind (removed before a batch starts)."""
    folders = [staging_folder(item.output) for item in items if item.kind == "blend"]
    return [folder for folder in folders if folder.is_dir()]
