"""Batch fitting on Dask: `curve_fit_batch` and `leastsq_batch` over chunks.

``import minpack.dask`` (never imported by ``import minpack``) gives the two
batch functions of minpack with the same signatures, for problems held in
Dask arrays chunked along the problem axis (NumPy arrays are chunked here).
Each chunk is fitted by the in-memory batch engine in one task, on whatever
Dask scheduler runs the graph: threads, processes or ``dask.distributed``.
The results are Dask arrays that compute to exactly what the in-memory call
returns.

Compiled residuals (numba ``cfunc``, ctypes or cffi function pointers) cannot
be pickled, so they cannot travel to worker processes. Give instead an
importable name, ``"package.module:attr"``, or a function of no arguments
that returns the compiled function (a factory): each worker process resolves
it once and keeps the result. Python models travel to the workers with
cloudpickle, as Dask sends any function.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

try:
    import dask
    import dask.array as da
    from dask.highlevelgraph import HighLevelGraph
except ImportError as exc:  # pragma: no cover - exercised with a blocked import
    raise ImportError(
        "minpack.dask needs Dask (dask[array], and distributed for a cluster), "
        "which is not installed: pip install minpack[dask]") from exc

import minpack

from ._compiled import as_compiled

__all__ = ["DaskBatchResult", "compiled", "curve_fit_batch", "leastsq_batch"]


# ---------------------------------------------------------------------------
# Functions that reach the workers by name or through a factory
# ---------------------------------------------------------------------------

_RESOLVED: dict[str, Any] = {}
_RESOLVED_LOCK = threading.Lock()


class compiled:  # noqa: N801 - used like a function, as functools.partial
    """A function that each Dask worker process builds once for itself.

    Wrap an importable name ``"package.module:attr"`` or a factory (a
    function of no arguments returning the function to use, typically a
    numba ``cfunc`` compiled inside it). Only the name or the factory is
    pickled; each process resolves it the first time a task needs it and
    keeps the result for every later task. `curve_fit_batch` and
    `leastsq_batch` of this module wrap a string or a zero-argument callable
    given as `f`, `func` or `Dfun` in this for you.

    Parameters
    ----------
    source : str or callable
        ``"package.module:attr"`` (``attr`` may be dotted), or a callable
        taking no arguments.

    Examples
    --------
    >>> from minpack.dask import compiled
    >>> sqrt = compiled("math:sqrt")
    >>> sqrt.resolve()(16.0)
    4.0
    """

    def __init__(self, source: str | Callable[[], Any]) -> None:
        if isinstance(source, compiled):
            source = source.source
        if isinstance(source, str):
            module, sep, attr = source.partition(":")
            if not sep or not module or not attr:
                raise ValueError(
                    f"a compiled function's name must look like "
                    f"'package.module:attr'; got {source!r}")
            self.key = f"name:{source}"
        elif callable(source):
            # Dask's token of the factory (its pickled form): the same for the
            # same factory in every call and every process it reaches, so its
            # tasks share one resolution per process
            self.key = f"factory:{dask.base.tokenize(source)}"
        else:
            raise TypeError(f"a compiled function is given by its importable name "
                            f"'package.module:attr' or by a factory of no arguments; "
                            f"got {type(source).__name__}")
        self.source = source

    def resolve(self) -> Any:
        """The function itself: imported or built once per process."""
        hit = _RESOLVED.get(self.key)
        if hit is not None:
            return hit
        with _RESOLVED_LOCK:
            hit = _RESOLVED.get(self.key)
            if hit is None:
                hit = self._load()
                _RESOLVED[self.key] = hit
        return hit

    def _load(self) -> Any:
        if isinstance(self.source, str):
            module_name, _, attr = self.source.partition(":")
            value: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                try:
                    value = getattr(value, part)
                except AttributeError:
                    raise AttributeError(
                        f"{self.source!r}: module {module_name!r} has no attribute "
                        f"{attr!r}") from None
            return value
        value = self.source()
        if value is None:
            raise TypeError(f"the factory {self.source!r} returned None instead of "
                            f"a function")
        return value

    def __dask_tokenize__(self) -> tuple:
        return ("minpack.dask.compiled", self.key)

    def __repr__(self) -> str:
        return f"compiled({self.source!r})"


class _Unpicklable:
    """A compiled function given as it is: usable where it was made (the
    threads scheduler); refused with an explanation when Dask pickles it.
    """

    def __init__(self, function: Any, argname: str) -> None:
        self.function = function
        self.argname = argname

    def resolve(self) -> Any:
        return self.function

    def __dask_tokenize__(self) -> tuple:  # the object itself, in this process
        return ("minpack.dask.unpicklable", self.argname, id(self.function))

    def __reduce__(self) -> Any:
        raise TypeError(
            f"{self.argname} is a compiled function, which cannot be sent to "
            f"another process. Give its importable name "
            f"('package.module:attr') or a function of no arguments that returns "
            f"it (see minpack.dask.compiled); each worker then builds it once")


class _Plain:
    """A Python callable, or None: sent as it is (cloudpickle)."""

    def __init__(self, function: Any) -> None:
        self.function = function

    def resolve(self) -> Any:
        return self.function

    def __dask_tokenize__(self) -> tuple:
        return ("minpack.dask.plain", dask.base.tokenize(self.function))


def _takes_no_arguments(obj: Any) -> bool:
    try:
        return not inspect.signature(obj).parameters
    except (TypeError, ValueError):  # builtins and extension types
        return False


def _as_shippable(obj: Any, argname: str) -> Any:
    """`obj` in a form that reaches the workers: compiled (a name or a
    factory), a refusal to pickle for a compiled object, or plain.
    """
    if isinstance(obj, compiled):
        return obj
    if isinstance(obj, str):
        return compiled(obj)
    if obj is not None and as_compiled(obj, argname) is not None:
        return _Unpicklable(obj, argname)
    if obj is not None and callable(obj) and _takes_no_arguments(obj):
        return compiled(obj)
    return _Plain(obj)


# ---------------------------------------------------------------------------
# Chunks along the problem axis
# ---------------------------------------------------------------------------

def _is_dask(value: Any) -> bool:
    return isinstance(value, da.Array)


def _problem_chunks(K: int, given: Any, arrays: list, reference: Any) -> tuple:
    """The chunk sizes along the problem axis: `given` (an int, a tuple of
    sizes, or 'auto'), else those of the first Dask array among `arrays`,
    else Dask's automatic choice for `reference`.
    """
    if given is not None:
        if isinstance(given, (int, np.integer)):
            if given < 1:
                raise ValueError(f"chunks must be at least 1 problem; got {given}")
            sizes = tuple([int(given)] * (K // given)) + (
                (K % given,) if K % given else ())
            return sizes or (0,)
        if isinstance(given, str):
            shape = reference.shape
            return da.core.normalize_chunks((given,) + (-1,) * (len(shape) - 1),
                                            shape, dtype=reference.dtype)[0]
        sizes = tuple(int(s) for s in given)
        if sum(sizes) != K or any(s < 0 for s in sizes):
            raise ValueError(f"chunks must be sizes that add up to the number of "
                             f"problems, {K}; got {given!r}")
        return sizes
    for value in arrays:
        if _is_dask(value):
            return value.chunks[0]
    shape = reference.shape
    return da.core.normalize_chunks(("auto",) + (-1,) * (len(shape) - 1), shape,
                                    dtype=reference.dtype)[0]


def _blocks(value: Any, chunks: tuple) -> list:
    """The blocks of a per-problem array (NumPy or Dask) along the problem
    axis, as Delayed objects: one a chunk, whole along the other axes.
    """
    if not _is_dask(value):
        value = np.asarray(value)
        value = da.from_array(value, chunks=(chunks,) + tuple(
            (s,) for s in value.shape[1:]))
    else:
        value = value.rechunk((chunks,) + (-1,) * (value.ndim - 1))
    blocks = value.to_delayed()
    return list(blocks.reshape(blocks.shape[0], -1)[:, 0])


def _starts(chunks: tuple) -> list:
    return [int(s) for s in np.cumsum((0,) + tuple(chunks))[:-1]]


def _shape_of(value: Any) -> tuple:
    return tuple(value.shape) if hasattr(value, "shape") else np.shape(value)


# ---------------------------------------------------------------------------
# Lazy results
# ---------------------------------------------------------------------------

class DaskBatchResult:
    """Lazy results of a batch fit on Dask: one Dask array per field.

    The fields are those of the in-memory result (`minpack.BatchResult` for
    `leastsq_batch`, `minpack.CurveFitBatchResult` for `curve_fit_batch`),
    each a Dask array chunked along the problem axis as the input.
    `compute` computes them all at once (every chunk is fitted once) and
    returns the in-memory result.

    Attributes
    ----------
    fields : tuple of str
        The names of the fields, each also an attribute holding a Dask array.
    """

    def __init__(self, kind: type, arrays: dict[str, Any],
                 absent: tuple[str, ...] = ()) -> None:
        self._kind = kind
        self._absent = absent
        self.fields = tuple(arrays)
        for name, value in arrays.items():
            setattr(self, name, value)

    def compute(self, **kwargs: Any) -> Any:
        """Fit every chunk and return the in-memory result.

        Keyword arguments go to ``dask.compute`` (``scheduler=`` and so on).
        """
        values = dask.compute(*[getattr(self, name) for name in self.fields],
                              **kwargs)
        computed = dict(zip(self.fields, values))
        if "mesg" in computed:
            computed["mesg"] = [str(s) for s in computed["mesg"]]
        return _rebuild(self._kind, computed, self._absent)

    def __len__(self) -> int:
        return int(getattr(self, self.fields[0]).shape[0])

    def __repr__(self) -> str:
        arrays = getattr(self, self.fields[0])
        return (f"DaskBatchResult({self._kind.__name__}, K={arrays.shape[0]}, "
                f"chunks={len(arrays.chunks[0])}, fields={list(self.fields)})")


def _rebuild(kind: type, values: dict[str, Any], absent: tuple[str, ...]) -> Any:
    """An in-memory result of type `kind` from its computed fields."""
    names = _init_names(kind)
    given = {name: values.get(name) for name in names if name in values or
             name in absent}
    return kind(**given)


def _init_names(kind: type) -> list[str]:
    if dataclasses.is_dataclass(kind):
        return [f.name for f in dataclasses.fields(kind) if f.init]
    return [p for p in inspect.signature(kind).parameters if p != "self"]


def _field(parts: list, name: str, sizes: tuple, rest: tuple, dtype: Any) -> Any:
    """One field of the result: the blocks `name` of every chunk's result,
    one block per chunk (an empty chunk keeps its empty block).
    """
    token = dask.base.tokenize([part.key for part in parts], name, rest)
    key = f"minpack-{name}-{token}"
    zeros = (0,) * len(rest)
    layer = {(key, i) + zeros: (_take, part.key, name, (size,) + rest, dtype)
             for i, (part, size) in enumerate(zip(parts, sizes))}
    graph = HighLevelGraph.from_collections(key, layer, dependencies=parts)
    return da.Array(graph, key, chunks=(tuple(sizes),) + tuple((s,) for s in rest),
                    dtype=dtype)


def _take(result: Any, name: str, shape: tuple, dtype: Any) -> np.ndarray:
    """The field `name` of one chunk's result, checked against its promised
    shape (an empty chunk's arrays may come back flat).
    """
    value = result[name] if isinstance(result, dict) else getattr(result, name)
    if name == "mesg":
        value = np.array(list(value) if value is not None else [], dtype=object)
    value = np.asarray(value, dtype=dtype)
    if value.size == 0 and value.shape != shape:
        value = value.reshape(shape)
    if value.shape != shape:
        raise RuntimeError(f"a chunk's {name} has shape {value.shape}, expected "
                           f"{shape}")
    return value


# ---------------------------------------------------------------------------
# curve_fit_batch
# ---------------------------------------------------------------------------

def _fit_curves(f: Any, xdata: Any, ydata: np.ndarray, p0: Any, sigma: Any,
                lower: Any, upper: Any, shared_x: bool, bounded: bool,
                options: dict) -> Any:
    """One chunk: the in-memory `curve_fit_batch`."""
    if shared_x and np.ndim(xdata) >= 2 and np.shape(xdata)[0] != 1:
        # a shared (k, m) xdata: (1, k, m) is shared whatever this chunk's size
        xdata = np.asarray(xdata)[np.newaxis]
    result = minpack.curve_fit_batch(f.resolve(), xdata, ydata, p0=p0, sigma=sigma,
                                     bounds=(lower, upper), **options)
    if bounded and result.active_mask is None:  # this chunk's boxes all infinite
        result.active_mask = np.zeros(result.popt.shape, dtype=np.int_)
    return result


def _per_problem_xdata(xdata: Any, K: int) -> bool:
    """Whether xdata has one row (or block of rows) per problem, as the
    in-memory call decides: at least two dimensions, the first being K.
    """
    shape = _shape_of(xdata)
    if len(shape) >= 2 and shape[0] == 1 and K != 1:
        return False  # (1, ..., m): shared, said so
    return len(shape) >= 2 and (shape[0] == K or _is_dask(xdata))


def _number_of_parameters(model: Any, p0: Any) -> int:
    """n from p0's shape, or else from the model's signature (resolving a
    compiled name or factory here, in the client, only then)."""
    if p0 is not None:
        shape = _shape_of(p0)
        if len(shape) in (1, 2) and shape[-1] >= 1:
            return int(shape[-1])
        raise ValueError(f"p0 must have shape (n,) (shared) or (K, n) (one row per "
                         f"problem); got shape {shape}")
    from ._curve_fit import _number_of_parameters as count

    return count(model.resolve())


def curve_fit_batch(
    f: Any,
    xdata: Any,
    ydata: Any,
    p0: Any = None,
    sigma: Any = None,
    absolute_sigma: bool = False,
    bounds: Any = (-np.inf, np.inf),
    nan_policy: str | None = None,
    workers: int | None = 1,
    full_output: bool = False,
    *,
    chunks: Any = None,
    **options: Any,
) -> DaskBatchResult:
    """Fit a model to many data sets, chunk by chunk on Dask.

    `minpack.curve_fit_batch` with the problems in Dask arrays: each chunk
    of problems is one task that runs the in-memory `curve_fit_batch`. The
    result computes to exactly what the in-memory call returns for the
    whole batch.

    Parameters
    ----------
    f : callable, str or factory
        The model ``f(xdata, *params)``, as for `minpack.curve_fit_batch`.
        A Python function is sent to the workers with cloudpickle. A string
        ``"package.module:attr"`` or a function of no arguments that returns
        the model is resolved once by each worker process (see `compiled`).
    xdata : array_like or dask array
        Shape (m,) or (k, m), shared by every problem; or (K, m) or
        (K, k, m), one per problem (then chunked as `ydata`).
    ydata : array_like or dask array, shape (K, m)
        One problem per row.
    p0 : array_like or dask array, optional
        Shape (n,) shared or (K, n) per problem.
    sigma : array_like or dask array, optional
        Shape (m,) shared or (K, m) per problem.
    absolute_sigma : bool, optional
        As in `minpack.curve_fit_batch`.
    bounds : 2-tuple, optional
        ``(lb, ub)``, each a scalar, shape (n,) (shared) or (K, n) (per
        problem; may be Dask arrays).
    nan_policy : {None, 'omit'}, optional
        ``'omit'`` drops each row's NaN points from that row's fit.
    workers : int, optional
        Threads used by each chunk's fit (default 1: Dask runs the chunks
        in parallel; None uses all cores in every task).
    full_output : bool, optional
        Also return ``fvec`` and ``mesg``.
    chunks : int, tuple of int or 'auto', optional
        Problems per chunk. Default: the chunks of the Dask arrays given,
        else Dask's automatic chunking of `ydata`.
    **options
        Further keywords of `minpack.curve_fit_batch` (``vectorized``,
        ``ftol``, ``maxfev``, ...), passed to every chunk.

    Returns
    -------
    DaskBatchResult
        Dask arrays ``popt`` (K, n), ``pcov`` (K, n, n), ``perr`` (K, n),
        ``ier``, ``nfev``, ``success`` (K,), with `full_output` ``fvec``
        (K, m) and ``mesg`` (K,) (object); ``compute()`` returns the
        `minpack.CurveFitBatchResult`.

    See Also
    --------
    minpack.curve_fit_batch : the same fits in memory.
    leastsq_batch : the general form.

    Examples
    --------
    Ten thousand exponential decays in chunks of 2,500, on Dask's threads:

    >>> import numpy as np
    >>> import dask.array as da
    >>> import minpack.dask
    >>> t = np.linspace(0, 4, 40)
    >>> rng = np.random.default_rng(0)
    >>> rates = rng.uniform(0.5, 2.0, 10_000)
    >>> y = da.from_array(3.0 * np.exp(-rates[:, None] * t), chunks=(2_500, 40))
    >>> def decay(t, a, k):
    ...     return a * np.exp(-k * t)
    >>> lazy = minpack.dask.curve_fit_batch(decay, t, y, p0=[1.0, 1.0])
    >>> lazy.popt
    dask.array<minpack-popt, shape=(10000, 2), dtype=float64, chunksize=(2500, 2), chunktype=numpy.ndarray>
    >>> res = lazy.compute(scheduler="threads")
    >>> bool(res.success.all()), bool(np.allclose(res.popt[:, 1], rates))
    (True, True)
    """  # noqa: E501
    y_shape = _shape_of(ydata)
    if len(y_shape) != 2:
        raise ValueError(f"ydata must have shape (K, m): one problem per row; got "
                         f"shape {y_shape}")
    K, m = (int(s) for s in y_shape)
    model = _as_shippable(f, "f")
    n = _number_of_parameters(model, p0)
    lb, ub = _split_bounds(bounds)

    per_problem = {
        "xdata": _per_problem_xdata(xdata, K),
        "p0": p0 is not None and len(_shape_of(p0)) == 2,
        "sigma": sigma is not None and len(_shape_of(sigma)) == 2,
        "lower": len(_shape_of(lb)) == 2,
        "upper": len(_shape_of(ub)) == 2,
    }
    values = {"xdata": xdata, "p0": p0, "sigma": sigma, "lower": lb, "upper": ub}
    for name, value in values.items():
        if _is_dask(value) and not per_problem[name]:
            values[name] = value.compute()  # a small shared array
    rowwise = [ydata] + [values[k] for k, v in per_problem.items() if v]
    for name, value in [("ydata", ydata)] + [(k, values[k]) for k, v in
                                             per_problem.items() if v]:
        if int(_shape_of(value)[0]) != K:
            raise ValueError(f"{name} must have one row per problem ({K}, as ydata); "
                             f"got shape {_shape_of(value)}")
    sizes = _problem_chunks(K, chunks, rowwise, _as_reference(ydata))

    nblocks = len(sizes)
    y_blocks = _blocks(ydata, sizes)
    args: dict[str, list] = {}
    for name, value in values.items():
        if per_problem[name]:
            args[name] = _blocks(value, sizes)
        else:
            shared = dask.delayed(value, pure=True) if isinstance(value, np.ndarray) \
                and value.size > 64 else value
            args[name] = [shared] * nblocks
    bounded = _has_bounds(values["lower"], values["upper"])
    model_key = dask.delayed(model, pure=True, traverse=False)
    kwargs = dict(absolute_sigma=absolute_sigma, nan_policy=nan_policy,
                  workers=workers, full_output=full_output, **options)
    parts = [dask.delayed(_fit_curves, pure=True)(
        model_key, args["xdata"][i], y_blocks[i], args["p0"][i], args["sigma"][i],
        args["lower"][i], args["upper"][i], not per_problem["xdata"], bounded, kwargs)
        for i in range(nblocks)]

    spec = [("popt", (n,), np.float64), ("pcov", (n, n), np.float64),
            ("perr", (n,), np.float64), ("ier", (), np.int32),
            ("nfev", (), np.int32), ("success", (), bool)]
    if full_output:
        spec += [("fvec", (m,), np.float64), ("mesg", (), object)]
    if bounded:
        spec += [("active_mask", (n,), np.int_)]
    arrays = {name: _field(parts, name, sizes, rest, dtype)
              for name, rest, dtype in spec}
    absent = tuple(name for name in ("fvec", "mesg", "active_mask")
                   if name not in arrays)
    return DaskBatchResult(minpack.CurveFitBatchResult, arrays, absent)


def _has_bounds(lower: Any, upper: Any) -> bool:
    """Whether the result has an active_mask: some bound finite, or bounds in
    Dask arrays (not computed to find out).
    """
    if _is_dask(lower) or _is_dask(upper):
        return True
    with np.errstate(invalid="ignore"):
        return bool(np.any(np.asarray(lower, dtype=np.float64) > -np.inf)
                    or np.any(np.asarray(upper, dtype=np.float64) < np.inf))


def _split_bounds(bounds: Any) -> tuple[Any, Any]:
    try:
        lb, ub = bounds
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be a pair (lb, ub); got "
                         f"{type(bounds).__name__}") from None
    return lb, ub


def _as_reference(value: Any) -> Any:
    return value if _is_dask(value) else np.asarray(value)


# ---------------------------------------------------------------------------
# leastsq_batch
# ---------------------------------------------------------------------------

def _fit_problems(func: Any, Dfun: Any, start: int, x0: np.ndarray, args: Any,
                  lower: Any, upper: Any, bounded: bool, options: dict) -> Any:
    """One chunk: the in-memory `leastsq_batch` on problems start, ..."""
    bounds = (lower, upper) if bounded else None
    residual = func.resolve()
    if options.get("vectorized", False) and args is None and start:
        residual = _offset(residual, start)
    result = minpack.leastsq_batch(residual, x0, args=args, Dfun=Dfun.resolve(),
                                   bounds=bounds, **options)
    if bounded and result.active_mask is None:  # this chunk's boxes all infinite
        result.active_mask = np.zeros(result.x.shape, dtype=np.int_)
    return result


def _offset(function: Any, start: int) -> Any:
    """A vectorized residual ``func(X, k)`` (without args) sees the problem
    indices of the whole batch, not the chunk's.
    """

    def shifted(X: np.ndarray, k: np.ndarray) -> Any:
        return function(X, k + start)

    return shifted


def leastsq_batch(
    func: Any,
    x0: Any,
    args: Any = None,
    Dfun: Any = None,
    *,
    m: int | None = None,
    workers: int | None = 1,
    full_output: bool = False,
    bounds: Any = None,
    chunks: Any = None,
    **options: Any,
) -> DaskBatchResult:
    """Fit many least-squares problems, chunk by chunk on Dask.

    `minpack.leastsq_batch` with the problems in Dask arrays: each chunk of
    problems is one task that runs the in-memory `leastsq_batch`; the result
    computes to exactly what the in-memory call returns.

    Parameters
    ----------
    func : compiled function, callable, str or factory
        The residuals, as for `minpack.leastsq_batch`. A compiled function
        (numba ``cfunc``, ctypes, cffi) cannot be pickled: give its name
        ``"package.module:attr"`` or a function of no arguments returning it
        (see `compiled`); each worker process resolves it once. A compiled
        object given as it is works on the threads scheduler only. Python
        callables are sent with cloudpickle.
    x0 : array_like or dask array, shape (K, n)
        One starting point per problem.
    args : array_like or dask array, shape (K, ...), optional
        Per-problem data, chunked as `x0`.
    Dfun : as `func`, optional
        The Jacobian.
    m : int, optional
        Residuals per problem (required with a compiled `func`; with a
        Python `func` and `full_output`, found by one call of `func` at the
        first problem's start when not given).
    workers : int, optional
        Threads used by each chunk's fit (default 1: Dask runs the chunks
        in parallel).
    full_output : bool, optional
        Also return ``cov_x`` and ``fvec``.
    bounds : 2-tuple, optional
        ``(lb, ub)``, each a scalar, shape (n,) or (K, n) (per problem; may
        be Dask arrays).
    chunks : int, tuple of int or 'auto', optional
        Problems per chunk. Default: the chunks of the Dask arrays given,
        else Dask's automatic chunking of `x0`.
    **options
        Further keywords of `minpack.leastsq_batch`, passed to every chunk.

    Returns
    -------
    DaskBatchResult
        Dask arrays ``x`` (K, n), ``ier``, ``nfev``, ``njev``, ``fnorm``
        (K,), with `full_output` ``cov_x`` (K, n, n) and ``fvec`` (K, m),
        with `bounds` ``active_mask`` (K, n); ``compute()`` returns the
        `minpack.BatchResult`.

    See Also
    --------
    minpack.leastsq_batch : the same fits in memory.
    curve_fit_batch : for models ``f(x, *params)``.

    Notes
    -----
    With per-problem bounds in Dask arrays that turn out to be infinite
    everywhere, ``active_mask`` holds zeros where the in-memory call gives
    None (it cannot know without computing them).

    Examples
    --------
    A compiled residual reaches the workers by its importable name,
    ``func="mymodels:decay"``, or by a factory that compiles it: complete
    examples with numba are in the documentation's Dask and xarray page.

    Below, a Python residual (sent with cloudpickle) on three problems in
    two chunks:

    >>> import numpy as np
    >>> import minpack.dask
    >>> t = np.linspace(0, 3, 12)
    >>> data = np.array([a * np.exp(-b * t) for a, b in [(1, 1), (2, .5), (3, 2)]])
    >>> lazy = minpack.dask.leastsq_batch(
    ...     lambda p, y: y - p[0] * np.exp(-p[1] * t), np.ones((3, 2)),
    ...     args=data, chunks=(2, 1))
    >>> lazy.x.chunks
    ((2, 1), (2,))
    >>> np.round(lazy.compute(scheduler="threads").x, 6)
    array([[1. , 1. ],
           [2. , 0.5],
           [3. , 2. ]])
    """
    x_shape = _shape_of(x0)
    if len(x_shape) != 2:
        raise ValueError(f"x0 must have shape (K, n): one starting point per "
                         f"problem; got an array of shape {x_shape}")
    K, n = (int(s) for s in x_shape)
    residual = _as_shippable(func, "func")
    jacobian = _as_shippable(Dfun, "Dfun")
    if args is not None and int(_shape_of(args)[0]) != K:
        raise ValueError(f"args must have one row per problem (shape ({K}, ...)); "
                         f"got shape {_shape_of(args)}")
    bounded = bounds is not None
    lb, ub = _split_bounds(bounds) if bounded else (None, None)
    per_problem = {"lower": bounded and len(_shape_of(lb)) == 2,
                   "upper": bounded and len(_shape_of(ub)) == 2}
    if bounded and not (per_problem["lower"] or per_problem["upper"]):
        lower_ = np.asarray(lb.compute() if _is_dask(lb) else lb, dtype=np.float64)
        upper_ = np.asarray(ub.compute() if _is_dask(ub) else ub, dtype=np.float64)
        lb, ub = lower_, upper_
        bounded = bool(np.any(lower_ > -np.inf) or np.any(upper_ < np.inf))
    values = {"lower": lb, "upper": ub}
    rowwise = [x0] + ([args] if args is not None else []) + [
        values[k] for k, v in per_problem.items() if v]
    sizes = _problem_chunks(K, chunks, rowwise, _as_reference(x0))
    nblocks = len(sizes)
    x_blocks = _blocks(x0, sizes)
    a_blocks = _blocks(args, sizes) if args is not None else [None] * nblocks
    bound_blocks = {name: _blocks(value, sizes) if per_problem[name] else
                    [value] * nblocks for name, value in values.items()}
    if m is None and (full_output or options.get("vectorized", False)):
        # as the in-memory call does, once here rather than once a chunk
        m = _count_residuals(residual, x0, args, options)
    func_key = dask.delayed(residual, pure=True, traverse=False)
    jac_key = dask.delayed(jacobian, pure=True, traverse=False)
    kwargs = dict(m=m, workers=workers, full_output=full_output, **options)
    starts = _starts(sizes)
    parts = [dask.delayed(_fit_problems, pure=True)(
        func_key, jac_key, starts[i], x_blocks[i], a_blocks[i],
        bound_blocks["lower"][i], bound_blocks["upper"][i], bounded, kwargs)
        for i in range(nblocks)]
    spec = [("x", (n,), np.float64), ("ier", (), np.int32), ("nfev", (), np.int32),
            ("njev", (), np.int32), ("fnorm", (), np.float64)]
    if full_output:
        spec += [("cov_x", (n, n), np.float64), ("fvec", (int(m),), np.float64)]
    if bounded:
        spec += [("active_mask", (n,), np.int_)]
    arrays = {name: _field(parts, name, sizes, rest, dtype)
              for name, rest, dtype in spec}
    absent = tuple(name for name in ("cov_x", "fvec", "active_mask")
                   if name not in arrays)
    return DaskBatchResult(minpack.BatchResult, arrays, absent)


def _count_residuals(residual: Any, x0: Any, args: Any, options: dict) -> int:
    """m for a Python residual: one call at the first problem's start."""
    vectorized = options.get("vectorized", False)
    K = int(_shape_of(x0)[0])
    if K == 0:
        if vectorized:
            raise ValueError("m (the number of residuals) is needed for an empty "
                             "batch: there is no problem to ask")
        return 0
    first = np.asarray(x0[:1].compute() if _is_dask(x0) else np.asarray(x0)[:1],
                       dtype=np.float64)
    row = None if args is None else (args[:1].compute() if _is_dask(args) else
                                     np.asarray(args)[:1])
    function = residual.resolve()
    if vectorized:
        out = function(first, np.zeros(1, dtype=np.intp) if row is None else row)
        return int(np.shape(out)[-1])
    out = function(first[0]) if row is None else function(first[0], row[0])
    return int(np.size(out))
