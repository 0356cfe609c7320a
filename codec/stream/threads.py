"""Blocks are independent, so several threads can code them at once.

The kernels release the GIL (the compiled ones entirely, numpy's in part), so
threads give real parallelism.  Results always come back in order, so the
output does not depend on the number of threads.

All calls share one pool of worker threads, named ``huffkit-worker_N``.  It has
as many workers as the largest *threads* asked for so far; when a larger count
is asked for, a larger pool replaces it, and the old one is shut down without
waiting: the work it holds still runs to the end, then its threads exit.  The
calls that ask for *threads* threads run at most that many functions at once
(those with the same count share that many), the rest waiting their turn in
the order they were submitted.  concurrent.futures joins the workers at
interpreter exit, after they have run the work they hold.

A function run here must not wait for another it submits with the same count:
when all of that count's turns are taken by such waiters, none is left to run
what they wait for.
"""

from __future__ import annotations

import collections
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

from .._buffers import BytesLike, as_buffers
from ..kernels import backend

__all__ = ["MAX_THREADS", "THREAD_NAME_PREFIX", "check_threads", "default_threads",
           "join_parts", "map_in_order", "results_in_order", "shutdown", "submit"]

_In = TypeVar("_In")
_Out = TypeVar("_Out")

#: The most threads a call may ask for.  More than a few per core gain nothing, and every
#: thread holds blocks in memory.  zstd bounds its workers alike (ZSTDMT_NBWORKERS_MAX:
#: 200 in older releases; 256 on 64-bit systems and 64 on 32-bit ones in current ones).
MAX_THREADS = 256

#: The start of the names of huffkit's worker threads.
THREAD_NAME_PREFIX = "huffkit-worker"


def default_threads() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def check_threads(threads: int | None) -> int:
    """*threads* as a count, 1 to MAX_THREADS: None or 0 mean one per core (as zstd's and
    xz's ``-T0``), but no more than MAX_THREADS.  TypeError unless an int or None,
    ValueError if negative or above MAX_THREADS."""
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)):
        raise TypeError(f"threads must be an int or None, not {type(threads).__name__}")
    if threads is None or threads == 0:
        return min(default_threads(), MAX_THREADS)
    if threads < 0:
        raise ValueError(f"threads must be at least 0 (0: one per core), got {_shown(threads)}")
    if threads > MAX_THREADS:
        raise ValueError(f"threads must be at most {MAX_THREADS}, got {_shown(threads)}")
    return threads


def _shown(number: int) -> str:
    # str() refuses integers of more than 4300 digits; none of these need showing whole.
    if number.bit_length() <= 128:
        return str(number)
    return f"{'a negative' if number < 0 else 'an'} integer of {number.bit_length()} bits"


class _Limit:
    """The calls of one thread count: how many run, and those waiting to, in order."""

    __slots__ = ("count", "running", "waiting")

    def __init__(self, count: int) -> None:
        self.count = count
        self.running = 0
        # Calls of any function, each with its own item and future.
        self.waiting: collections.deque[tuple[Future[Any], Callable[[Any], Any], object]] = (
            collections.deque())


_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_limits: dict[int, _Limit] = {}


def submit(function: Callable[[_In], _Out], item: _In, threads: int) -> Future[_Out]:
    """Start ``function(item)`` on one of the workers, with at most *threads* of the calls
    that ask for *threads* running at once; a later one waits for an earlier one to end."""
    future: Future[_Out] = Future()
    replaced = None
    try:
        with _lock:
            limit = _limits.get(threads)
            if limit is None:
                limit = _limits[threads] = _Limit(threads)
            if limit.running >= limit.count:
                limit.waiting.append((future, function, item))
                return future
            # Submitted with the lock held, so that no other caller shuts this pool down
            # in between.
            pool, replaced = _grown_pool(threads)
            limit.running += 1
            try:
                pool.submit(_run, limit, future, function, item)
            except BaseException:  # no pool will run it (the interpreter is shutting down)
                _release(limit)
                raise
    finally:
        if replaced is not None:
            # Its workers run every function it was given, then exit: running work is not
            # lost, and no caller waits here for another's.
            replaced.shutdown(wait=False)
    return future


def _grown_pool(threads: int) -> tuple[ThreadPoolExecutor, ThreadPoolExecutor | None]:
    """The pool (the lock held), replaced by one of *threads* workers if it has fewer; and
    the pool it replaced, if it did, for the caller to shut down once the lock is free."""
    global _pool, _pool_size
    old = _pool
    if old is not None and _pool_size >= threads:
        return old, None
    _pool = ThreadPoolExecutor(threads, thread_name_prefix=THREAD_NAME_PREFIX)
    _pool_size = threads
    return _pool, old


def _run(limit: _Limit, future: Future[Any], function: Callable[[Any], Any],
         item: object) -> None:
    """Run one call of *limit*, then those that wait for a turn, on this worker thread."""
    while True:
        _call(future, function, item)
        with _lock:
            if not limit.waiting:
                _release(limit)
                return
            future, function, item = limit.waiting.popleft()


def _call(future: Future[Any], function: Callable[[Any], Any], item: object) -> None:
    if not future.set_running_or_notify_cancel():  # cancelled while it waited
        return
    try:
        result = function(item)
    except BaseException as error:  # the caller's to see, as ThreadPoolExecutor does
        future.set_exception(error)
    else:
        future.set_result(result)


def _release(limit: _Limit) -> None:
    """One call of *limit* fewer runs (the lock held); an idle limit is forgotten."""
    limit.running -= 1
    if not limit.running and not limit.waiting and _limits.get(limit.count) is limit:
        del _limits[limit.count]


def shutdown() -> None:
    """Shut the pool down, once the work it holds is done; the next call starts another."""
    global _pool, _pool_size
    with _lock:
        pool, _pool, _pool_size = _pool, None, 0
    if pool is not None:
        pool.shutdown(wait=True)


def _forget_in_child() -> None:
    """A forked child has none of the parent's threads: its pool and locks start afresh."""
    global _lock, _pool, _pool_size, _limits
    _lock = threading.Lock()
    _pool, _pool_size, _limits = None, 0, {}


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


def results_in_order(futures: list[Future[_Out]]) -> list[_Out]:
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


def join_parts(parts: Sequence[BytesLike], threads: int) -> bytes:
    """b"".join(parts); a large output is copied by several threads, if there are."""
    if threads == 1 or len(parts) < 2:
        return b"".join(as_buffers(parts))
    joined: bytes = backend.kernels.join(parts, threads)
    return joined
