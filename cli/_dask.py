"""``--dask ADDRESS``: run compare, sweep, train and compress on a Dask cluster.

The library takes any ``concurrent.futures.Executor`` (``executor=``); this module
makes one from the option: a connection to a running scheduler, or a ``LocalCluster``
of one worker process per core started here (``--dask local``) and closed afterwards.
Dask is an optional extra (``huffkit[dask]``): ``distributed`` is imported only when
``--dask`` is given, so that ``huffkit --help`` and every run without it stay as cheap
as before.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import importlib
import logging
import os
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from typing import Any, TypeVar

import click

import huffkit

from ._group import CliError, _describe, _report
from ._habits import Habits, remove_input, say

_F = TypeVar("_F", bound=Callable[..., Any])

#: The address that starts a LocalCluster on this machine instead of connecting to one.
LOCAL = "local"

#: Seconds to wait for a scheduler to answer: a wrong address fails after this long,
#: not after distributed's default of 30 s.
CONNECT_TIMEOUT = 10.0

MISSING_EXTRA = "--dask needs Dask's distributed scheduler: pip install 'huffkit[dask]'"


def dask_option(function: _F) -> _F:
    """--dask ADDRESS, as compare, sweep, train and compress take it."""
    return click.option(
        "--dask", "dask_address", metavar="ADDRESS", default=None,
        help="Run on a Dask cluster: a scheduler's address (tcp://host:8786), or local for "
             "a LocalCluster on this machine.")(function)


def local_workers() -> int:
    """The worker processes of ``--dask local``: one per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def executor_for(address: str | None) -> Iterator[Executor | None]:
    """The executor for ``--dask ADDRESS``: None without the option; else the
    ``get_executor()`` of :func:`client_for`'s client."""
    if address is None:
        yield None
        return
    with client_for(address) as client:
        yield client.get_executor()


@contextlib.contextmanager
def client_for(address: str) -> Iterator[Any]:
    """A Dask client for ``--dask ADDRESS``, on a LocalCluster started here for ``local``,
    both closed when the body ends, however it ends (an error, Ctrl-C).

    An error of the cluster's own in the body (a task whose workers kept dying, a lost
    connection) becomes a ``CliError`` saying so, never a traceback.
    """
    try:
        # By name: the extra may be missing where the package is type-checked too.
        distributed = importlib.import_module("distributed")
    except ImportError:
        raise CliError(MISSING_EXTRA) from None
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(_client(distributed, address))
        try:
            yield client
        except Exception as error:
            message = describe_cluster_error(error)
            if message is None:
                raise
            raise CliError(message) from None


def _client(distributed: Any, address: str) -> Any:
    """A distributed.Client for *address* (a context manager that closes it, and the
    LocalCluster it started, if any), or a CliError naming the address."""
    if address == LOCAL:
        return _local_client(distributed)
    try:
        return distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except Exception as error:  # OSError, TimeoutError, ValueError for a bad scheme...
        raise CliError(f"--dask {address}: cannot connect to a Dask scheduler there "
                       f"({_one_line(error)})") from None


@contextlib.contextmanager
def _local_client(distributed: Any) -> Iterator[Any]:
    # Worker processes, not threads: the kernels release the GIL, but the Python between
    # them does not.  One thread each, so that a worker is a core.  The scheduler's HTTP
    # server (its dashboard, if bokeh is installed) on a free port of the loopback: the
    # default, 8787, may be another cluster's, and the world need not see it.
    previous = logging.getLogger("distributed").level
    # The client's side of the cluster logs at INFO (workers starting, closing): only
    # warnings and errors reach the terminal, as silence_logs does for the workers.
    logging.getLogger("distributed").setLevel(logging.WARNING)
    try:
        try:
            with _workers_ignore_ctrl_c() as interrupted:
                cluster = distributed.LocalCluster(
                    n_workers=local_workers(), threads_per_worker=1, processes=True,
                    dashboard_address="127.0.0.1:0", silence_logs=logging.WARNING)
        except Exception as error:
            raise CliError(f"--dask local: cannot start a LocalCluster "
                           f"({_one_line(error)})") from None
        with cluster, distributed.Client(cluster, set_as_default=False) as client:
            try:
                if interrupted[0]:  # a Ctrl-C while the cluster started
                    raise KeyboardInterrupt
                yield client
            except KeyboardInterrupt:
                # The scheduler and the nannies, here, would warn of the workers' end.
                logging.getLogger("distributed").setLevel(logging.ERROR)
                _kill_workers(cluster)
                raise
    finally:
        logging.getLogger("distributed").setLevel(previous)


def _kill_workers(cluster: Any) -> None:
    """Kill the LocalCluster's worker processes at once, on Ctrl-C.

    A worker cannot stop the task it is running: closed the polite way, its nanny would
    wait four seconds for it, then kill it, with two warnings on the terminal.  The
    results are not wanted any more, so the processes go now; the cluster's closing then
    finds them gone (or a worker a nanny restarted meanwhile, idle, which closes at once).
    """
    kill = getattr(signal, "SIGKILL", signal.SIGTERM)  # Windows has no SIGKILL
    for nanny in list(getattr(cluster, "workers", {}).values()):
        pid = getattr(nanny, "pid", None)
        if isinstance(pid, int) and pid > 0:
            with contextlib.suppress(OSError):
                os.kill(pid, kill)


@contextlib.contextmanager
def _workers_ignore_ctrl_c() -> Iterator[list[bool]]:
    """SIGINT ignored while the LocalCluster starts its worker processes, which inherit
    that (an ignored signal stays ignored across exec, and Python then leaves it so);
    yields a list whose one item says, afterwards, whether a Ctrl-C came meanwhile.

    A Ctrl-C on the terminal goes to every process of the command: each worker would
    print its own KeyboardInterrupt traceback, and one interrupted while starting breaks
    the cluster's closing.  Only this process should act on it, closing the cluster and
    with it the workers.  SIGINT is also blocked meanwhile, so that one sent during the
    start waits (Linux keeps a blocked signal pending even while it is ignored) and is
    taken here at the end, for the caller to act on once the cluster can be closed.  Not
    every one: while Dask's event loop thread starts, a Ctrl-C is still lost (measured:
    sent 0.4 to 0.6 s after the command started, of a start of 0.9 s).
    """
    held = [False]
    if threading.current_thread() is not threading.main_thread():
        yield held  # only the main thread may set handlers; the workers then hear Ctrl-C
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    can_hold = hasattr(signal, "pthread_sigmask") and hasattr(signal, "sigtimedwait")
    if can_hold:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield held
    finally:
        if can_hold and signal.SIGINT in signal.sigpending():
            signal.sigtimedwait({signal.SIGINT}, 0)  # taken, not delivered
            held[0] = True
        signal.signal(signal.SIGINT, previous)
        if can_hold:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def describe_cluster_error(error: BaseException) -> str | None:
    """What the command line says of an error raised by the cluster rather than by huffkit
    (a worker that died more often than ``distributed.scheduler.allowed-failures``, a
    cancelled task, a lost scheduler), or None for any other error."""
    module = type(error).__module__ or ""
    if isinstance(error, concurrent.futures.CancelledError):
        return "the Dask cluster cancelled the work (was the scheduler closed?)"
    if module == "distributed" or module.startswith("distributed."):
        return f"the Dask cluster failed: {type(error).__name__}: {_one_line(error)}"
    return None


def _one_line(error: BaseException) -> str:
    """*error*'s message on one line (distributed's messages run over several)."""
    text = " ".join(str(error).split())
    return text or type(error).__name__


# -- compress --dask ----------------------------------------------------------------


def chunk_options(**given: Any) -> dict[str, Any]:
    """compress's options as huffkit.compress_file takes them: those given, and -T only if
    given (each chunk is one worker's, coded on one thread unless -T says otherwise)."""
    if given["threads"] is None:
        del given["threads"]
    else:
        given["threads"] = given["threads"] or None  # 0 is one per core, as None is
    return given


def refuse_streams(files: tuple[str, ...], output: str | None, to_stdout: bool) -> None:
    """compress --dask's usage errors: the workers read each FILE by its path, and FILE.huf
    is written whole, so neither standard input nor standard output will do."""
    if to_stdout or output == "-":
        raise click.UsageError("--dask cannot be used with -c/--stdout: the workers read "
                               "each FILE by its path, and FILE.huf is written whole")
    if not files or "-" in files:
        raise click.UsageError("--dask cannot read standard input: the workers read each "
                               "FILE by its path; name the files")


#: A FILE of compress --dask: its path, its output's, and why it cannot be done, if so.
Job = tuple[str, str | None, CliError | None]


def compress_on_cluster(jobs: list[Job], address: str, *, force: bool, habits: Habits,
                        options: dict[str, Any], check: Callable[[str, str], None],
                        describe: Callable[[Any], str]) -> int:
    """compress --dask: each FILE through huffkit.compress_file on the cluster at
    *address*, FILE.huf written frame by frame in order, through a temporary file (by the
    workers themselves where they share its folder, else by this process).

    *check* refuses a FILE or an output as compress does (a folder, an existing output
    without -f); *describe* says a HuffmanError in the command line's words.  A FILE that
    fails is reported and the others go on, as without --dask; exit status 1 if any failed.
    """
    status = 0
    with client_for(address) as client:
        executor = client.get_executor()
        for source, target, problem in jobs:
            try:
                if problem is not None:
                    raise problem
                assert target is not None  # standard output is refused before
                check(source, target)
                # The workers write FILE.huf's frames in place themselves (shared_target)
                # where they share its folder: always on this machine; for a cluster
                # elsewhere, if a file made here is there.  Otherwise the frames come back
                # here (docs/distributed.md).
                shared = address == LOCAL or workers_share(
                    client, os.path.dirname(os.path.abspath(target)))
                _compress_one(source, target, executor, force, habits, options,
                              shared_target=shared)
            except Exception as error:
                message = _describe_chunked_error(source, error, describe)
                if message is None:
                    raise
                _report(message)
                status = 1
    return status


def workers_share(client: Any, folder: str) -> bool:
    """Whether every worker of *client*'s cluster sees *folder* as this process does and
    may write to it: a hidden file made in it here is found there, at the same path.

    False, never an error, when it cannot tell (the folder is not writable here, a worker
    does not answer): the frames then come back to this process, which is slower but
    needs nothing of the workers' storage.
    """
    try:
        descriptor, probe = tempfile.mkstemp(dir=folder, prefix=".huffkit-probe.")
    except OSError:
        return False
    os.close(descriptor)
    try:
        seen = client.run(_can_write_beside, probe)
    except Exception:  # a worker lost, a timeout: not known to share
        return False
    finally:
        with contextlib.suppress(OSError):
            os.unlink(probe)
    return bool(seen) and all(answer is True for answer in seen.values())


def _can_write_beside(probe: str) -> bool:
    """On a worker: whether the file *probe* is there, and its folder writable."""
    return os.path.isfile(probe) and os.access(os.path.dirname(probe), os.W_OK)


def _compress_one(source: str, target: str, executor: Executor | None, force: bool,
                  habits: Habits, options: dict[str, Any], *, shared_target: bool) -> None:
    opened = os.stat(source)
    if not stat.S_ISREG(opened.st_mode):
        raise CliError(f"{source}: not a regular file; --dask reads each FILE by byte ranges")
    with _chunk_progress(source, opened.st_size, habits.quiet) as progress:
        written = huffkit.compress_file(source, target, executor=executor, overwrite=force,
                                        progress=progress, shared_target=shared_target,
                                        **options)
    # As compress without --dask: FILE.huf gets FILE's permission bits and times.
    os.chmod(target, stat.S_IMODE(opened.st_mode) & 0o777)
    os.utime(target, ns=(opened.st_atime_ns, opened.st_mtime_ns))
    if habits.remove:
        remove_input(source, opened)  # only now, with the output whole and published
    if habits.verbose:
        say(source, target, opened.st_size, written, True, habits)


@contextlib.contextmanager
def _chunk_progress(name: str, size: int,
                    quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar of FILE's chunks on standard error, when it is a terminal and not -q."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=size, label=name, file=sys.stderr) as bar:
        yield lambda done, total: bar.update(done - bar.pos)


def _describe_chunked_error(source: str, error: Exception,
                            describe: Callable[[Any], str]) -> str | None:
    """What compress --dask says of *error* about FILE *source*, or None for a bug."""
    if isinstance(error, FileExistsError):
        return f"{error.filename} already exists; use -f to overwrite it"
    if isinstance(error, click.ClickException):
        return error.format_message()
    if isinstance(error, huffkit.HuffmanError):
        message = describe(error)
        # compress_file's own messages name the file already.
        return message if message.startswith(f"{source}: ") else f"{source}: {message}"
    if isinstance(error, OSError):
        return _describe(error)
    cluster = describe_cluster_error(error)
    return None if cluster is None else f"{source}: {cluster}"
