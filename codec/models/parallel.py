"""Calls spread over a ``concurrent.futures.Executor``: a process pool, or a Dask client's
``get_executor()`` running them on a cluster.

The library's functions that take ``executor=`` (``Distribution.from_files``,
``compare``, ``sweep``, ``compress_file``) submit top-level functions given
paths and byte ranges, so that the workers read the files themselves (shared
storage) and only small arguments and results pass through the executor.  They
take the results in the order the calls were made, whatever order the workers
finish in, so the result is the one a single process computes.

Lives with the models because it is the lowest layer that needs it
(``Distribution.from_files``); it imports nothing of huffkit.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

__all__ = ["CALLS_PER_WORKER", "SMALL_CALLS_PER_WORKER", "in_order", "workers_of"]

_Out = TypeVar("_Out")

#: How many calls per worker :func:`in_order` keeps submitted and not yet taken: enough to
#: keep every worker busy while the caller takes a result, few enough that the results
#: waiting for their turn (a frame of a chunk each, for ``compress_file``) fit in memory.
CALLS_PER_WORKER = 2

#: The same for calls whose results are small (counts, a row of figures): more of them in
#: flight hide the round trip to a remote worker (a few ms on Dask) behind the work.
SMALL_CALLS_PER_WORKER = 8


def workers_of(executor: Executor) -> int:
    """How many calls *executor* runs at once, as far as it says: the ``max_workers`` of the
    standard library's pools, the threads of a Dask client's workers; else this machine's
    cores."""
    # The standard pools keep max_workers here; Executor itself has no public way to ask.
    count = getattr(executor, "_max_workers", None)
    if isinstance(count, int) and not isinstance(count, bool) and count > 0:
        return count
    # distributed's ClientExecutor: the threads of the cluster's workers at this moment.
    nthreads = getattr(getattr(executor, "_client", None), "nthreads", None)
    if callable(nthreads):
        try:
            threads = nthreads()
            total = sum(threads.values()) if isinstance(threads, dict) else 0
        except Exception:  # an asynchronous or closed client: fall back on the guess below
            total = 0
        if isinstance(total, int) and total > 0:
            return total
    return os.cpu_count() or 1


def in_order(executor: Executor, function: Callable[..., _Out],
             calls: Iterable[tuple[Any, ...]], *, window: int | None = None,
             per_worker: int = CALLS_PER_WORKER) -> Generator[_Out, None, None]:
    """``function(*call)`` for each of *calls*, run by *executor*, the results yielded in the
    order of *calls*.

    At most *window* calls (by default *per_worker* per worker of *executor*) are
    submitted and not yet yielded, so memory stays bounded however many calls there are.
    The first exception, in order, propagates (a worker that died: whatever the executor
    raises for it); the calls not yet started are then cancelled, as they are when the
    caller closes the iterator early.
    """
    limit = max(1, window if window is not None else per_worker * workers_of(executor))
    pending: collections.deque[Future[_Out]] = collections.deque()
    try:
        for call in calls:
            if len(pending) >= limit:
                yield pending.popleft().result()
            pending.append(executor.submit(function, *call))
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
