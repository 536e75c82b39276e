"""Where replications run: in this process, in a local process pool, or on a Dask cluster named
by its scheduler address — all behind the `concurrent.futures.Executor` interface, so the code
that submits work and the numbers it gets back are the same whichever runs it."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager


@contextmanager
def open_executor(workers: int = 1, scheduler: str | None = None) -> Iterator[Executor | None]:
    """A Dask cluster's executor when `scheduler` (e.g. tcp://10.0.0.5:8786) is given, a pool
    of `workers` local processes when more than one, else None (run in this process)."""
    if scheduler:
        from distributed import Client

        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client.get_executor(pure=False)  # random tasks: never deduplicated
        return
    if workers <= 1:
        yield None
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield pool
