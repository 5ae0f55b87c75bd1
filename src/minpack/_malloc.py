"""Room for the temporaries of a vectorised batch under a frugal malloc.

A vectorised batch (``_points.py``) calls the user's NumPy model once a
round with a block of points, and NumPy allocates and frees temporaries of a
few hundred kilobytes each time. glibc's malloc normally keeps such memory
for reuse (its thresholds adapt to the program). A process started with
``MALLOC_TRIM_THRESHOLD_`` or ``MALLOC_MMAP_THRESHOLD_`` in its environment
has fixed thresholds instead: Dask's nanny starts every worker with
``MALLOC_TRIM_THRESHOLD_=65536``, and there each temporary becomes a fresh
memory mapping or a trim of the heap, and the fits run 2.7 times slower.

`roomy_malloc` raises the two thresholds while a batch runs, in such a
process only, then puts back the values glibc took from its environment and
returns the free memory to the system (``malloc_trim``), as those settings
intend. The environment is the one the process started with
(``/proc/self/environ``), which is what glibc read: a variable set later in
``os.environ`` (Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_`` there for the
workers it spawns, also inside a client that runs a LocalCluster) changed
nothing in this process, and nothing is done for it. The
thresholds are process-wide: batches running at once in several threads
share one raise, undone when the last one ends. Elsewhere (another C
library, no such variable) it does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import sys
import threading
from collections.abc import Iterator

__all__ = ["roomy_malloc"]

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# while a batch runs: keep up to 256 MiB of free heap; map only blocks above
# 32 MiB (glibc's largest mmap threshold on 64-bit systems)
_ROOMY = {_M_TRIM_THRESHOLD: 256 * 2**20, _M_MMAP_THRESHOLD: 32 * 2**20}
# glibc's defaults, for a variable that is not set
_DEFAULTS = {_M_TRIM_THRESHOLD: 128 * 1024, _M_MMAP_THRESHOLD: 128 * 1024}
_VARIABLES = {_M_TRIM_THRESHOLD: "MALLOC_TRIM_THRESHOLD_",
              _M_MMAP_THRESHOLD: "MALLOC_MMAP_THRESHOLD_"}

_lock = threading.Lock()
_users = 0


def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc, else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it
    except (OSError, AttributeError):
        return None
    return libc


def _start_environment() -> dict[str, str]:
    """The variables this process started with (what glibc read)."""
    try:
        with open("/proc/self/environ", "rb") as f:
            entries = f.read().split(b"\0")
    except OSError:
        return {}
    found = {}
    for entry in entries:
        name, sep, value = entry.partition(b"=")
        if sep:
            found[name.decode("latin-1")] = value.decode("latin-1")
    return found


def _fixed_thresholds(environ: dict[str, str]) -> dict[int, int] | None:
    """The thresholds glibc took from `environ`, with its defaults for the
    other one; None when it fixed neither (malloc then adapts by itself)."""
    given = {p: environ.get(v) for p, v in _VARIABLES.items()}
    if all(value is None for value in given.values()):
        return None
    fixed = dict(_DEFAULTS)
    for parameter, value in given.items():
        if value is None:
            continue
        try:
            number = int(value)
        except ValueError:
            continue  # glibc ignores what it cannot read
        if 0 <= number and (parameter != _M_MMAP_THRESHOLD or
                            number <= _ROOMY[_M_MMAP_THRESHOLD]):
            fixed[parameter] = number  # (glibc refuses a larger mmap one)
    return fixed


_LIBC = _glibc()
_FIXED = _fixed_thresholds(_start_environment()) if _LIBC is not None else None


@contextlib.contextmanager
def roomy_malloc() -> Iterator[None]:
    """Raise glibc's trim and mmap thresholds for the duration (see above)."""
    global _users
    fixed = _FIXED
    if fixed is None:
        yield
        return
    with _lock:
        _users += 1
        if _users == 1:
            for parameter, value in _ROOMY.items():
                _LIBC.mallopt(parameter, value)
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                for parameter, value in fixed.items():
                    _LIBC.mallopt(parameter, value)
                _LIBC.malloc_trim(0)
