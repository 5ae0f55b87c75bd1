"""``minpack.xarray.curvefit``: xarray's ``curvefit`` on minpack's batch engine.

The contract: the same Dataset as ``xarray.DataArray.curvefit`` /
``Dataset.curvefit`` (names, dims, coordinates, attrs), the coefficients to
1e-8 relative of xarray's own (which runs SciPy's ``curve_fit``, 'lm' when
unbounded) on the same data; lazy on Dask-backed input and then exactly the
in-memory result on every scheduler; failed pixels NaN with
``errors='ignore'``; NaN points dropped per pixel with ``skipna``.
"""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest
import xarray as xr

import minpack
import minpack.xarray

# The tests marked scipy_oracle compare with xarray's results, which SciPy
# computes (pcov through OpenBLAS): ci/test runs them again under other
# OpenBLAS core types.
oracle = pytest.mark.scipy_oracle

T = np.linspace(0.0, 5.0, 40)


def decay(t, a, k):
    """An exponential decay, plain NumPy (as xarray users write it)."""
    return a * np.exp(-k * t)


def decay_with_defaults(t, a, k=0.7, c=0.0):
    """The same with an offset; k and c have defaults (the starts)."""
    return a * np.exp(-k * t) + c


def gaussian(coords, a, x0, y0, s):
    """A 2-D Gaussian spot of the two coordinates (x, y)."""
    x, y = coords
    return a * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * s * s))


def decay_cube(nx: int = 6, ny: int = 5, seed: int = 0) -> xr.DataArray:
    """Noisy decays on an (x, y) grid of pixels, time last."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(1, 3, (nx, ny, 1))
    k = rng.uniform(0.3, 2, (nx, ny, 1))
    y = a * np.exp(-k * T) + 0.01 * rng.standard_normal((nx, ny, T.size))
    return xr.DataArray(y, dims=("x", "y", "time"),
                        coords={"x": np.arange(nx), "y": 10.0 * np.arange(ny),
                                "time": T}, name="signal", attrs={"units": "V"})


def assert_same_layout(ours: xr.Dataset, ref: xr.Dataset) -> None:
    """Names, dims, coordinates and attrs as xarray's."""
    assert list(ours.data_vars) == list(ref.data_vars)
    for name in ref.data_vars:
        assert ours[name].dims == ref[name].dims, name
        assert ours[name].dtype == ref[name].dtype, name
    assert set(ours.coords) == set(ref.coords)
    for name in ref.coords:
        np.testing.assert_array_equal(ours[name].values, ref[name].values)
    assert ours.attrs == ref.attrs


@oracle
def test_dataarray_matches_xarray():
    """The coefficients to 1e-8 relative of xarray's curvefit, same layout."""
    cube = decay_cube()
    ref = cube.curvefit("time", decay)
    ours = minpack.xarray.curvefit(cube, "time", decay)
    assert_same_layout(ours, ref)
    xr.testing.assert_allclose(ours.curvefit_coefficients, ref.curvefit_coefficients,
                               rtol=1e-8, atol=0)
    # pcov comes from SciPy's SVD and from our QR: agreement to rounding of
    # an ill-conditioned product, far below the statistical meaning
    xr.testing.assert_allclose(ours.curvefit_covariance, ref.curvefit_covariance,
                               rtol=1e-6, atol=0)


@oracle
def test_dataset_matches_xarray():
    """Every data variable, [var]_ prefixes, the Dataset's attrs kept."""
    cube = decay_cube(4, 3, seed=1)
    ds = xr.Dataset({"first": cube, "second": 2.0 * cube}, attrs={"site": "A"})
    ref = ds.curvefit("time", decay)
    ours = ds.minpack.curvefit("time", decay)
    assert_same_layout(ours, ref)
    for name in ("first", "second"):
        key = f"{name}_curvefit_coefficients"
        xr.testing.assert_allclose(ours[key], ref[key], rtol=1e-8, atol=0)


@oracle
def test_defaults_p0_dataarray_and_param_names():
    """Starts from the function's defaults, a per-pixel p0 given as a
    DataArray, param_names: as xarray.
    """
    cube = decay_cube(5, 4, seed=2) + 0.2
    start = xr.DataArray(np.linspace(0.5, 2.0, 5), dims="x")
    kwargs = dict(p0={"a": start})
    ref = cube.curvefit("time", decay_with_defaults, **kwargs)
    ours = cube.minpack.curvefit("time", decay_with_defaults, **kwargs)
    assert_same_layout(ours, ref)
    xr.testing.assert_allclose(ours.curvefit_coefficients, ref.curvefit_coefficients,
                               rtol=1e-8, atol=0)

    def star(t, *p):
        return p[0] * np.exp(-p[1] * t)

    ref = cube.curvefit("time", star, param_names=["amp", "rate"])
    ours = cube.minpack.curvefit("time", star, param_names=["amp", "rate"])
    assert list(ours.param.values) == ["amp", "rate"]
    xr.testing.assert_allclose(ours.curvefit_coefficients, ref.curvefit_coefficients,
                               rtol=1e-8, atol=0)


@oracle
def test_two_coordinates_and_reduce_dims():
    """A 2-D model over two reduced dimensions, one spot per frame; and a
    fit that aggregates repeated series with reduce_dims.
    """
    x = np.linspace(-2, 2, 9)
    y = np.linspace(-1.5, 1.5, 7)
    rng = np.random.default_rng(3)
    frames = []
    for i in range(4):
        a, x0, y0, s = 1 + i, 0.3 * i - 0.5, 0.2 - 0.1 * i, 0.8 + 0.1 * i
        spot = gaussian(np.meshgrid(x, y, indexing="ij"), a, x0, y0, s)
        frames.append(spot + 0.005 * rng.standard_normal(spot.shape))
    data = xr.DataArray(np.array(frames), dims=("frame", "x", "y"),
                        coords={"x": x, "y": y})
    p0 = {"a": 1.0, "x0": 0.0, "y0": 0.0, "s": 1.0}
    ref = data.curvefit(["x", "y"], gaussian, p0=p0)
    ours = data.minpack.curvefit(["x", "y"], gaussian, p0=p0)
    assert_same_layout(ours, ref)
    # xarray orders the reduced dims through a set, so its points come in an
    # order that depends on the string hash seed; sums in another order round
    # differently, and the fits agree to their convergence tolerance only.
    # In our order (x, y), each frame is minpack.curve_fit's fit exactly.
    xr.testing.assert_allclose(ours.curvefit_coefficients, ref.curvefit_coefficients,
                               rtol=1e-6, atol=1e-7)
    points = np.stack([g.ravel() for g in np.meshgrid(x, y, indexing="ij")])
    for i in range(4):
        popt, _ = minpack.curve_fit(gaussian, points, data.values[i].ravel(),
                                    p0=list(p0.values()))
        np.testing.assert_array_equal(ours.curvefit_coefficients.values[i], popt)

    cube = decay_cube(3, 4, seed=4)  # the y pixels as repeats of x's series
    ref = cube.curvefit("time", decay, reduce_dims="y")
    ours = cube.minpack.curvefit("time", decay, reduce_dims="y")
    assert_same_layout(ours, ref)
    assert ours.curvefit_coefficients.dims == ("x", "param")
    xr.testing.assert_allclose(ours.curvefit_coefficients, ref.curvefit_coefficients,
                               rtol=1e-8, atol=0)


@oracle
def test_skipna_drops_points_per_pixel():
    """NaN points dropped in their pixel only; an all-NaN pixel gives NaN."""
    cube = decay_cube(4, 4, seed=5)
    values = cube.values
    values[1, 2, ::3] = np.nan
    values[0, 0, 5] = np.nan
    values[3, 1, :] = np.nan
    ref = cube.curvefit("time", decay)
    ours = cube.minpack.curvefit("time", decay)
    xr.testing.assert_allclose(ours.curvefit_coefficients, ref.curvefit_coefficients,
                               rtol=1e-8, atol=0)
    assert np.isnan(ours.curvefit_coefficients[3, 1]).all()
    assert np.isnan(ours.curvefit_covariance[3, 1]).all()
    assert np.isfinite(ours.curvefit_coefficients.drop_sel(x=3)).all()


@oracle
def test_skipna_drops_a_point_whose_coordinate_is_nan():
    """A NaN in the shared coordinate leaves that point out of every pixel."""
    cube = decay_cube(3, 2, seed=6)
    time = cube["time"].values.copy()
    time[4] = np.nan
    cube = cube.assign_coords(time=time)
    ref = cube.curvefit("time", decay)
    ours = cube.minpack.curvefit("time", decay)
    assert np.isfinite(ours.curvefit_coefficients).all()
    xr.testing.assert_allclose(ours.curvefit_coefficients, ref.curvefit_coefficients,
                               rtol=1e-8, atol=0)


def test_failed_pixels_nan_with_errors_ignore():
    """A pixel with a single point left cannot be fitted: NaN with
    errors='ignore', a RuntimeError with 'raise'; the other pixels as alone.
    """
    cube = decay_cube(3, 3, seed=6)
    cube.values[2, 0, 1:] = np.nan
    ours = cube.minpack.curvefit("time", decay, errors="ignore")
    assert np.isnan(ours.curvefit_coefficients[2, 0]).all()
    assert np.isnan(ours.curvefit_covariance[2, 0]).all()
    clean = cube.copy()
    clean.values[2, 0] = 1.0 + T  # any fittable series in its place
    alone = clean.minpack.curvefit("time", decay)
    others = ours.curvefit_coefficients.values.copy()
    others[2, 0] = alone.curvefit_coefficients.values[2, 0]
    np.testing.assert_array_equal(others, alone.curvefit_coefficients.values)
    with pytest.raises(RuntimeError, match=r"pixel at index \(2, 0\)"):
        cube.minpack.curvefit("time", decay, errors="raise")


# the reference fits hold k on its bound for some pixels, and say so
@pytest.mark.filterwarnings("ignore:Parameters held on a bound")
def test_bounds_as_dataarrays():
    """Per-pixel bounds: each pixel's fit as minpack.curve_fit's bounded one."""
    cube = decay_cube(3, 2, seed=7)
    upper = xr.DataArray([0.6, 5.0, 0.9], dims="x")
    ours = cube.minpack.curvefit("time", decay, bounds={"k": (0.0, upper)},
                                 p0={"k": 0.5})
    for i in range(3):
        for j in range(2):
            popt, _ = minpack.curve_fit(decay, T, cube.values[i, j], p0=[1.0, 0.5],
                                        bounds=([-np.inf, 0.0],
                                                [np.inf, float(upper[i])]))
            np.testing.assert_allclose(ours.curvefit_coefficients.values[i, j], popt,
                                       rtol=1e-10)
    assert (ours.curvefit_coefficients.sel(param="k") <= upper).all()


def test_chunked_is_lazy_and_exact(scheduler):
    """Chunked along the pixel dims: lazy, and computing gives exactly the
    in-memory result, on every scheduler.
    """
    cube = decay_cube(7, 5, seed=8)
    cube.values[2, 3, ::5] = np.nan
    eager = cube.minpack.curvefit("time", decay)
    lazy = cube.chunk({"x": 3, "y": 2}).minpack.curvefit("time", decay)
    assert lazy.curvefit_coefficients.chunks == ((3, 3, 1), (2, 2, 1), (2,))
    computed = lazy.compute(**scheduler)
    xr.testing.assert_identical(computed, eager)


def test_chunked_along_time_is_rechunked():
    """A series split over chunks is joined for its fit."""
    cube = decay_cube(4, 3, seed=9)
    lazy = cube.chunk({"x": 2, "time": 15}).minpack.curvefit("time", decay)
    xr.testing.assert_identical(lazy.compute(scheduler="threads"),
                                cube.minpack.curvefit("time", decay))


def test_input_errors():
    """xarray's own messages for the arguments it checks."""
    cube = decay_cube(2, 2)
    with pytest.raises(ValueError, match="No arguments to `coords`"):
        cube.minpack.curvefit(xr.DataArray(T, dims="other"), decay)
    with pytest.raises(ValueError, match="Initial guess for 'a' has unexpected"):
        cube.minpack.curvefit("time", decay, p0={"a": cube})
    with pytest.raises(ValueError, match="errors must be either"):
        cube.minpack.curvefit("time", decay, errors="warn")
    with pytest.raises(ValueError, match="`param_names` must be provided"):
        cube.minpack.curvefit("time", lambda t, *p: p[0] * t)
    with pytest.raises(TypeError, match="DataArray or Dataset"):
        minpack.xarray.curvefit(np.zeros((2, 3)), "time", decay)


def test_clear_error_without_xarray(monkeypatch):
    """Without xarray, importing minpack.xarray says which extra to install."""
    monkeypatch.setitem(sys.modules, "xarray", None)
    monkeypatch.delitem(sys.modules, "minpack.xarray")
    with pytest.raises(ImportError, match=r"pip install minpack\[xarray\]"):
        importlib.import_module("minpack.xarray")
