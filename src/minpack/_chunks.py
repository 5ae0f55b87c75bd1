"""Problems shared among threads in chunks (the batches' scheduler)."""

from __future__ import annotations

import contextvars
import operator
import os
import threading
import time
from collections.abc import Callable

__all__ = ["as_workers", "run_in_chunks"]

# A chunk of problems should take about this long: long enough that thread
# hand-offs cost nothing, short enough that Ctrl-C is answered promptly.
_CHUNK_SECONDS = (0.005, 0.03)


def as_workers(workers: int | None) -> int:
    """The number of threads: all cores when None, else a positive integer."""
    if workers is None:
        return os.cpu_count() or 1
    try:
        workers = operator.index(workers)
    except TypeError:
        raise TypeError(f"workers must be an integer or None; got "
                        f"{type(workers).__name__} {workers!r:.40}") from None
    if workers < 1:
        raise ValueError(f"workers must be at least 1; got {workers}")
    return workers


def run_in_chunks(run: Callable[[int, int], None], K: int, workers: int,
                   fixed: int | None = None) -> None:
    """Run problems [0, K) in chunks on `workers` threads.

    Each thread runs in a copy of the caller's context variables (NumPy's
    errstate among them) and takes chunks of `fixed` problems, or without it
    sizes its chunks to take a few milliseconds (doubling or halving from
    one problem), so the calling
    thread can answer Ctrl-C promptly: it then lets running chunks finish,
    starts no new ones, joins every thread and re-raises.
    """
    lock = threading.Lock()
    cursor = [0]
    cancelled = threading.Event()
    failures: list = []

    def worker() -> None:
        size = fixed or 1
        while not cancelled.is_set():
            with lock:
                k0 = cursor[0]
                k1 = min(K, k0 + size)
                cursor[0] = k1
            if k0 >= K:
                return
            t0 = time.perf_counter()
            try:
                run(k0, k1)
            except BaseException as exc:  # reported by the calling thread
                failures.append(exc)
                cancelled.set()
                return
            elapsed = time.perf_counter() - t0
            if fixed:
                continue
            if elapsed < _CHUNK_SECONDS[0]:
                size *= 2
            elif elapsed > _CHUNK_SECONDS[1] and size > 1:
                size //= 2

    if workers == 1 or K <= 1:
        worker()
    else:
        # each thread runs in a copy of the caller's context, so that
        # np.errstate (a context variable) applies to Python code it calls
        threads = [threading.Thread(target=contextvars.copy_context().run, args=(worker,),
                                    name=f"minpack-batch-{i}", daemon=True)
                   for i in range(min(workers, K))]
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.05)
        except BaseException:
            cancelled.set()
            for t in threads:
                t.join()
            raise
    if failures:
        raise failures[0]
