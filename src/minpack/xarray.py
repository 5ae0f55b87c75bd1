"""``curvefit`` for xarray, computed by minpack's batch engine.

``minpack.xarray.curvefit(obj, ...)`` takes the arguments of xarray's
``DataArray.curvefit`` / ``Dataset.curvefit`` and returns the same Dataset
(``[var]_curvefit_coefficients`` with dim ``param``,
``[var]_curvefit_covariance`` with dims ``cov_i`` and ``cov_j``), but fits
all the pixels of a block in one call of `minpack.curve_fit_batch` instead
of one SciPy ``curve_fit`` per pixel. A Dask-backed input gives a lazy
result, each chunk of pixels fitted in one task. Importing this module also
registers the accessor ``obj.minpack.curvefit(...)`` on DataArrays and
Datasets. ``import minpack`` never imports xarray.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

try:
    import xarray as xr
except ImportError as exc:  # pragma: no cover - exercised with a blocked import
    raise ImportError("minpack.xarray needs xarray, which is not installed: "
                      "pip install minpack[xarray]") from exc

import minpack

__all__ = ["MinpackAccessor", "curvefit"]


def _parameter_names(func: Callable, param_names: Sequence[str] | None) -> tuple:
    """(names of the fit parameters, func's signature parameters), as xarray
    finds them: every parameter of `func` after the first, unless
    `param_names` is given.
    """
    try:
        signature = dict(inspect.signature(func).parameters)
    except (TypeError, ValueError) as err:
        signature = {}
        if not param_names:
            raise ValueError("Unable to inspect `func` signature, and `param_names` "
                             "was not provided.") from err
    if param_names:
        return list(param_names), signature
    variable = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    if any(p.kind in variable for p in signature.values()):
        raise ValueError("`param_names` must be provided because `func` takes "
                         "variable length arguments.")
    return list(signature)[1:], signature


def _feasible(lb: Any, ub: Any) -> Any:
    """A start inside the box (lb, ub), as SciPy's curve_fit picks it: the
    middle of a finite box, one inside a one-sided one, else 0.
    """
    lo_finite, up_finite = np.isfinite(lb), np.isfinite(ub)
    return xr.where(lo_finite, xr.where(up_finite, 0.5 * (lb + ub), lb + 1),
                    xr.where(up_finite, ub - 1, 0))


def _starts_and_boxes(names: list, signature: dict, p0: Mapping,
                      bounds: Mapping) -> tuple[list, list, list]:
    """The start and box of each parameter: `p0` and `bounds` when given,
    else the default of func's argument, else 1 (moved inside its box).
    """
    starts, lower, upper = [], [], []
    for name in names:
        start: Any = 1
        parameter = signature.get(name)
        if parameter is not None and parameter.default is not parameter.empty:
            start = parameter.default
        lb, ub = bounds.get(name, (-np.inf, np.inf))
        if name in bounds:
            start = xr.where((start < lb) | (start > ub), _feasible(lb, ub), start)
        if name in p0:
            start = p0[name]
        starts.append(start)
        lower.append(lb)
        upper.append(ub)
    return starts, lower, upper


def _fit_block(Y: np.ndarray, *arrays: np.ndarray, n_core: int, n_coords: int,
               n: int, skipna: bool, errors: str, options: dict) -> tuple:
    """Fit every pixel of a block: `Y` has the pixel dims first and the
    `n_core` reduced dims last; `arrays` are the coordinates (reduced dims
    last; pixel dims only if they vary by pixel), then the starts, lower and
    upper bounds of the n parameters (pixel dims only).
    """
    coords = arrays[:n_coords]
    starts = arrays[n_coords:n_coords + n]
    lower = arrays[n_coords + n:n_coords + 2 * n]
    upper = arrays[n_coords + 2 * n:]
    core_shape = Y.shape[Y.ndim - n_core:]
    pixel_shape = Y.shape[:Y.ndim - n_core]
    K = int(np.prod(pixel_shape))
    m = int(np.prod(core_shape))
    ydata = np.asarray(Y, dtype=np.float64).reshape(K, m)

    shared = all(np.ndim(c) <= n_core for c in coords)
    if shared:
        x = [np.broadcast_to(c, core_shape).reshape(m) for c in coords]
        xdata = x[0] if n_coords == 1 else np.stack(x)
    else:
        x = [np.broadcast_to(c, pixel_shape + core_shape).reshape(K, m) for c in coords]
        xdata = x[0] if n_coords == 1 else np.stack(x, axis=1)
    xdata = np.asarray(xdata, dtype=np.float64)

    def per_pixel(values: tuple) -> np.ndarray:
        return np.stack([np.broadcast_to(np.asarray(v, dtype=np.float64),
                                         pixel_shape).reshape(K) for v in values],
                        axis=-1)

    p0 = per_pixel(starts)
    lb, ub = per_pixel(lower), per_pixel(upper)
    box = (lb, ub) if (np.any(lb > -np.inf) or np.any(ub < np.inf)) else (
        -np.inf, np.inf)
    popt = np.full((K, n), np.nan)
    pcov = np.full((K, n, n), np.nan)
    if K == 0:
        return popt.reshape(pixel_shape + (n,)), pcov.reshape(pixel_shape + (n, n))

    # As xarray: with skipna a pixel without any point left gives NaN; a
    # point is kept when its value and a coordinate are not NaN.
    fit = np.ones(K, dtype=bool)
    if skipna:
        y_ok = ~np.isnan(ydata)
        x_nan = np.isnan(xdata)
        if xdata.ndim == (1 if shared else 2):
            x_ok = ~x_nan
        else:  # several coordinates on axis 0 (shared) or 1 (per pixel)
            x_ok = ~np.all(x_nan, axis=0 if shared else 1)
        fit = np.any(y_ok & x_ok, axis=1)
    rows = np.flatnonzero(fit)
    if rows.size == 0:
        return popt.reshape(pixel_shape + (n,)), pcov.reshape(pixel_shape + (n, n))
    take = rows if rows.size < K else slice(None)

    def subset(value: Any) -> Any:
        if isinstance(value, np.ndarray) and value.ndim >= 2 and value.shape[0] == K:
            return value[take]
        return value

    x_fit, y_fit = (xdata if shared else xdata[take]), ydata[take]
    if shared and x_fit.ndim == 2 and x_fit.shape[0] == y_fit.shape[0]:
        # (k, m) shared coordinates that curve_fit_batch would read as one
        # row per pixel: given per pixel, the model sees the same values
        x_fit = np.broadcast_to(xdata, (y_fit.shape[0],) + xdata.shape)
    # 'omit' only where there is something to omit: the same fits, faster
    omit = skipna and bool(np.isnan(y_fit).any() or np.isnan(x_fit).any())
    kwargs = dict(options["kwargs"], full_output=errors == "raise")
    result = minpack.curve_fit_batch(
        options["func"], x_fit, y_fit, p0=p0[take],
        bounds=tuple(subset(b) for b in box),
        nan_policy="omit" if omit else None, **kwargs)
    success = np.asarray(result.success)
    if errors == "raise" and not success.all():
        bad = int(np.flatnonzero(~success)[0])
        where = np.unravel_index(int(rows[bad]), pixel_shape) if pixel_shape else ()
        raise RuntimeError(f"Optimal parameters not found for the pixel at index "
                           f"{tuple(int(i) for i in where)} of this block: "
                           f"{result.mesg[bad]}")
    found_popt = np.where(success[:, None], result.popt, np.nan)
    found_pcov = np.where(success[:, None, None], result.pcov, np.nan)
    popt[rows] = found_popt
    pcov[rows] = found_pcov
    return popt.reshape(pixel_shape + (n,)), pcov.reshape(pixel_shape + (n, n))


def curvefit(
    obj: xr.DataArray | xr.Dataset,
    coords: str | xr.DataArray | Iterable[str | xr.DataArray],
    func: Callable[..., Any],
    reduce_dims: str | Iterable[Hashable] | None = None,
    skipna: bool = True,
    p0: Mapping[str, float | xr.DataArray] | None = None,
    bounds: Mapping[str, tuple[float | xr.DataArray, float | xr.DataArray]]
    | None = None,
    param_names: Sequence[str] | None = None,
    errors: str = "raise",
    kwargs: dict[str, Any] | None = None,
) -> xr.Dataset:
    """Curve fitting of every pixel with minpack's batch engine.

    The arguments and the result of ``xarray.DataArray.curvefit`` /
    ``xarray.Dataset.curvefit``; the pixels of each block (all of them for
    NumPy-backed data, one chunk at a time for Dask-backed data) are fitted
    by one call of `minpack.curve_fit_batch`.

    Parameters
    ----------
    obj : DataArray or Dataset
        The data; for a Dataset every data variable is fitted.
    coords : str, DataArray or sequence of them
        The independent coordinate(s), as in xarray: names of coordinates
        of `obj` or DataArrays sharing a dimension with it. Several
        coordinates reach `func` as a sequence ``(x0, x1, ...)``.
    func : callable
        The model ``func(x, *params)``. It is called with each parameter as
        a column of shape (P, 1) (P pixels at once) and must broadcast, as
        ordinary NumPy expressions do; for a model that does not, pass
        ``kwargs={"vectorized": False}`` (one pixel after another).
    reduce_dims : str or sequence of str, optional
        More dimensions to aggregate over while fitting.
    skipna : bool, default True
        Drop each pixel's NaN points from its fit (``nan_policy='omit'``);
        a pixel without any point left gets NaN.
    p0 : dict, optional
        Starting values by parameter name: numbers or DataArrays over the
        pixel dimensions. Default: the function's default, else 1.
    bounds : dict, optional
        ``{name: (lower, upper)}``, numbers or DataArrays over the pixel
        dimensions. Bounded fits run minpack's bounded Levenberg-Marquardt
        (SciPy's curve_fit, and so xarray, switch to 'trf').
    param_names : sequence of str, optional
        The parameter names, needed when `func` takes ``*params``.
    errors : {'raise', 'ignore'}, default 'raise'
        'raise': a pixel whose fit fails raises a RuntimeError; 'ignore':
        its coefficients and covariance are NaN.
    kwargs : dict, optional
        Further keywords of `minpack.curve_fit_batch` (``sigma`` is not
        per-pixel here; ``maxfev``, ``ftol``, ``vectorized``, ``workers``,
        ...).

    Returns
    -------
    Dataset
        ``[var]_curvefit_coefficients`` (pixel dims, ``param``) and
        ``[var]_curvefit_covariance`` (pixel dims, ``cov_i``, ``cov_j``),
        ``[var]_`` empty for a DataArray; lazy when `obj` holds Dask arrays.

    See Also
    --------
    minpack.curve_fit_batch : the engine.
    xarray.DataArray.curvefit : the same, one SciPy fit per pixel.

    Examples
    --------
    >>> import numpy as np
    >>> import xarray as xr
    >>> import minpack.xarray
    >>> t = np.linspace(0, 5, 30)
    >>> rate = xr.DataArray([0.5, 1.0, 2.0], dims="x")
    >>> da = np.exp(-rate * xr.DataArray(t, dims="t", coords={"t": t}))
    >>> def decay(t, k):
    ...     return np.exp(-k * t)
    >>> fit = da.minpack.curvefit("t", decay)
    >>> fit.curvefit_coefficients.sel(param="k").values.round(6)
    array([0.5, 1. , 2. ])
    >>> fit.curvefit_covariance.dims
    ('x', 'cov_i', 'cov_j')
    """
    p0 = {} if p0 is None else dict(p0)
    bounds = {} if bounds is None else dict(bounds)
    kwargs = {} if kwargs is None else dict(kwargs)
    if not isinstance(obj, (xr.DataArray, xr.Dataset)):
        raise TypeError(f"obj must be an xarray DataArray or Dataset; got "
                        f"{type(obj).__name__}")
    if errors not in ("raise", "ignore"):
        raise ValueError('errors must be either "raise" or "ignore"')

    if not reduce_dims:
        reduced: list = []
    elif isinstance(reduce_dims, str) or not isinstance(reduce_dims, Iterable):
        reduced = [reduce_dims]
    else:
        reduced = list(reduce_dims)
    if isinstance(coords, (str, xr.DataArray)) or not isinstance(coords, Iterable):
        coords = [coords]
    coord_arrays = [obj[c] if isinstance(c, str) else c for c in coords]
    for c in coord_arrays:  # a coordinate that is a dimension's is reduced over
        reduced += [d for d in obj.dims if c.equals(obj[d])]
    reduced = list(dict.fromkeys(reduced))
    pixel_dims = [d for d in obj.dims if d not in reduced]
    if not reduced:
        raise ValueError(
            "No arguments to `coords` were identified as a dimension on the calling "
            "object, and no dims were supplied to `reduce_dims`. This would result "
            "in fitting on scalar data.")
    for name, guess in p0.items():
        if isinstance(guess, xr.DataArray) and set(guess.dims) - set(pixel_dims):
            raise ValueError(
                f"Initial guess for '{name}' has unexpected dimensions "
                f"{tuple(set(guess.dims) - set(pixel_dims))}. It should only have "
                f"dimensions that are in data dimensions {pixel_dims}.")
    for name, pair in bounds.items():
        for label, bound in zip(("Lower", "Upper"), pair, strict=True):
            if isinstance(bound, xr.DataArray) and set(bound.dims) - set(pixel_dims):
                raise ValueError(
                    f"{label} bound for '{name}' has unexpected dimensions "
                    f"{tuple(set(bound.dims) - set(pixel_dims))}. It should only have "
                    f"dimensions that are in data dimensions {pixel_dims}.")

    coord_arrays = list(xr.broadcast(*coord_arrays))
    coord_arrays = [c.broadcast_like(obj, exclude=pixel_dims) for c in coord_arrays]
    names, signature = _parameter_names(func, param_names)
    n = len(names)
    starts, lower, upper = _starts_and_boxes(names, signature, p0, bounds)

    if isinstance(obj, xr.DataArray):
        variables = [("", obj)]
    else:
        variables = [(f"{name}_", value) for name, value in obj.data_vars.items()]
    result = xr.Dataset()
    for prefix, data in variables:
        options = {"func": func, "kwargs": dict(kwargs)}
        if data.chunks is not None:  # Dask runs the chunks side by side
            options["kwargs"].setdefault("workers", 1)
        popt, pcov = xr.apply_ufunc(
            _fit_block, data, *coord_arrays, *starts, *lower, *upper,
            input_core_dims=[reduced] * (len(coord_arrays) + 1) + [[]] * (3 * n),
            output_core_dims=[["param"], ["cov_i", "cov_j"]],
            exclude_dims=set(reduced),
            dask="parallelized",
            output_dtypes=[np.float64, np.float64],
            dask_gufunc_kwargs={"output_sizes": {"param": n, "cov_i": n, "cov_j": n},
                                "allow_rechunk": True},
            kwargs={"n_core": len(reduced), "n_coords": len(coord_arrays), "n": n,
                    "skipna": skipna, "errors": errors, "options": options},
        )
        result[prefix + "curvefit_coefficients"] = popt
        result[prefix + "curvefit_covariance"] = pcov
    result = result.assign_coords({"param": names, "cov_i": names, "cov_j": names})
    result.attrs = dict(obj.attrs) if isinstance(obj, xr.Dataset) else {}
    return result


class MinpackAccessor:
    """``obj.minpack``: minpack's fits on a DataArray or a Dataset.

    Registered as ``minpack`` on both when `minpack.xarray` is imported.
    """

    def __init__(self, obj: xr.DataArray | xr.Dataset) -> None:
        self._obj = obj

    def curvefit(self, coords: Any, func: Callable[..., Any], reduce_dims: Any = None,
                 skipna: bool = True, p0: Mapping | None = None,
                 bounds: Mapping | None = None,
                 param_names: Sequence[str] | None = None, errors: str = "raise",
                 kwargs: dict | None = None) -> xr.Dataset:
        """`minpack.xarray.curvefit` of this object (same arguments)."""
        return curvefit(self._obj, coords, func, reduce_dims=reduce_dims,
                        skipna=skipna, p0=p0, bounds=bounds, param_names=param_names,
                        errors=errors, kwargs=kwargs)


xr.register_dataarray_accessor("minpack")(MinpackAccessor)
xr.register_dataset_accessor("minpack")(MinpackAccessor)
