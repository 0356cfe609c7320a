"""Blocks are independent, so several threads can code them at once.

The kernels release the GIL (the compiled ones entirely, numpy's in part), so
threads give real parallelism.  Results always come back in order, so the
output does not depend on the number of threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

__all__ = ["check_threads", "default_threads", "map_in_order", "results_in_order", "submit"]

_In = TypeVar("_In")
_Out = TypeVar("_Out")

_pools: dict[int, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def default_threads() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def check_threads(threads: int | None) -> int:
    """*threads* as a count: None means every core; otherwise at least 1."""
    if threads is None:
        return default_threads()
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise TypeError(f"threads must be an int or None, not {type(threads).__name__}")
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    return threads


def _pool(threads: int) -> ThreadPoolExecutor:
    with _lock:
        pool = _pools.get(threads)
        if pool is None:
            pool = _pools[threads] = ThreadPoolExecutor(threads,
                                                        thread_name_prefix="huffkit")
        return pool


def submit(function: Callable[[_In], _Out], item: _In, threads: int) -> Future:
    """Start ``function(item)`` on one of *threads* threads."""
    return _pool(threads).submit(function, item)


def results_in_order(futures: list[Future]) -> list:
    """The results of *futures*, in order, once all are done (so that none still runs on
    data the caller frees when it sees an error): the first exception, in order, is raised."""
    wait(futures)
    return [future.result() for future in futures]


def map_in_order(function: Callable[[_In], _Out], items: Iterable[_In],
                 threads: int) -> list[_Out]:
    """``[function(item) for item in items]``, on up to *threads* threads.

    The first exception, in the order of *items*, is raised, once every call is over.
    """
    items = list(items)
    if threads <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    return results_in_order([submit(function, item, threads) for item in items])
