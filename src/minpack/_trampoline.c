/* The C trampoline: the callbacks through which the solver calls Python.
 *
 * A Python function is handed to the Fortran glue (_glue.f90) as if it were
 * compiled: the address of one of the functions below, which have the C
 * API's callback signatures, and as user data the address (id) of a context
 * tuple built by minpack._contexts and kept alive by the caller for the whole
 * solver call. minpack_tramp_residual runs for every residual evaluation of
 * a fit with a Python `func`: this is the one hot path of the package, and
 * doing its work here costs a fraction of what the general machinery does.
 * These functions run with the GIL held: the glue entries they are given to
 * are never `threadsafe` in _minpack.pyf. The one exception is
 * minpack_tramp_points, the callback of the vectorised batch (lm_points),
 * which is called with the GIL released and takes it itself.
 *
 * The contexts are named tuples (minpack._contexts); the enums below give the
 * position of each field this file reads, and minpack_tramp_table hands their
 * names to Python, where a test compares them with the tuples' fields.
 *
 * Each call hands the Python function a fresh copy of x (the caller may keep
 * it), and copies the result into the Fortran buffer. It returns 0, or -1
 * after appending the exception (with its traceback) to the context's
 * `errors` list, which stops the solver; the Python caller re-raises it once
 * the solver has returned. Nothing unwinds through Fortran.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NO_IMPORT_ARRAY
#define PY_ARRAY_UNIQUE_SYMBOL _npy_f2py_ARRAY_API
#define NPY_NO_DEPRECATED_API NPY_1_9_API_VERSION
#include "numpy/arrayobject.h"
#include "numpy/arrayscalars.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* FitContext: the user data of the residual, block and Jacobian callbacks
 * below (in the C API, func and jac share one user data).
 *   residual  a ResidualContext
 *   jacobian  None, or a JacobianContext */
enum fit_field { FIT_RESIDUAL, FIT_JACOBIAN, FIT_FIELDS };
static const char *const fit_fields[FIT_FIELDS] = {
    [FIT_RESIDUAL] = "residual", [FIT_JACOBIAN] = "jacobian"};

/* ResidualContext: a Python residual function (minpack_tramp_residual,
 * minpack_tramp_block).
 *   func         the user's callable
 *   args         tuple of extra arguments (often empty)
 *   m            the number of residuals (int)
 *   errors       list; an exception raised while computing the residuals is
 *                appended to it and the solver is told to stop
 *   check        check(result) -> 1-D float64 array of length m, raising a
 *                clear TypeError/ValueError otherwise: the slow path for
 *                anything that is not already such an array
 *   vectorized   True: func takes x of shape (n, k) and returns (m, k); one
 *                point is passed as (n, 1)
 *   check_block  check_block(result, k) -> array of shape (m, k), or raises
 *   model        None, or a ModelContext: curve_fit's residual, computed by
 *                model_residual below; check then takes the model's output */
enum residual_field {
    RES_FUNC, RES_ARGS, RES_M, RES_ERRORS, RES_CHECK, RES_VECTORIZED, RES_CHECK_BLOCK,
    RES_MODEL, RES_FIELDS
};
static const char *const residual_fields[RES_FIELDS] = {
    [RES_FUNC] = "func", [RES_ARGS] = "args", [RES_M] = "m", [RES_ERRORS] = "errors",
    [RES_CHECK] = "check", [RES_VECTORIZED] = "vectorized",
    [RES_CHECK_BLOCK] = "check_block", [RES_MODEL] = "model"};

/* ModelContext: curve_fit's residual w * (f(xdata, *x) - ydata), with ydata
 * and w (None when unweighted) C-contiguous float64 vectors of length m. */
enum model_field { MODEL_F, MODEL_XDATA, MODEL_YDATA, MODEL_W, MODEL_FIELDS };
static const char *const model_fields[MODEL_FIELDS] = {
    [MODEL_F] = "f", [MODEL_XDATA] = "xdata", [MODEL_YDATA] = "ydata", [MODEL_W] = "w"};

/* JacobianContext: a Python Jacobian (minpack_tramp_jacobian).
 *   dfun       Dfun(x, *args) returns the Jacobian, shape (m, n), or (n, m)
 *              with col_deriv
 *   args, errors   as for the residuals
 *   col_deriv  whether dfun returns the transpose
 *   check      check(result) returns it as an array of that shape or raises
 *   model      None, or a ModelJacobianContext (jac, xdata): curve_fit's
 *              unweighted Jacobian, jac(xdata, *x) with x as NumPy scalars */
enum jacobian_field {
    JAC_DFUN, JAC_ARGS, JAC_COL_DERIV, JAC_ERRORS, JAC_CHECK, JAC_MODEL, JAC_FIELDS
};
static const char *const jacobian_fields[JAC_FIELDS] = {
    [JAC_DFUN] = "dfun", [JAC_ARGS] = "args", [JAC_COL_DERIV] = "col_deriv",
    [JAC_ERRORS] = "errors", [JAC_CHECK] = "check", [JAC_MODEL] = "model"};

enum model_jacobian_field { MJAC_JAC, MJAC_XDATA, MJAC_FIELDS };
static const char *const model_jacobian_fields[MJAC_FIELDS] = {
    [MJAC_JAC] = "jac", [MJAC_XDATA] = "xdata"};

/* ProgressContext: the per-iteration report (minpack_tramp_progress).
 *   report  report(nfev, x, fvec) -> status (0 continues)
 *   errors  as for the residuals */
enum progress_field { PROG_REPORT, PROG_ERRORS, PROG_FIELDS };
static const char *const progress_fields[PROG_FIELDS] = {
    [PROG_REPORT] = "report", [PROG_ERRORS] = "errors"};

/* PointsContext: the function of a vectorised batch (minpack_tramp_points).
 *   func    func(x, problem) -> (np, m) C-contiguous float64 array, with x a
 *           fresh (np, n) float64 array of points and problem a fresh (np,)
 *           int32 array, the problem of each point counted from 0 within
 *           the call of _minpack.lm_points (minpack._points builds func
 *           around the user's function and checks what it returns)
 *   errors  as for the residuals */
enum points_field { PTS_FUNC, PTS_ERRORS, PTS_FIELDS };
static const char *const points_fields[PTS_FIELDS] = {
    [PTS_FUNC] = "func", [PTS_ERRORS] = "errors"};

#define FIELD(ctx, i) PyTuple_GET_ITEM((PyObject *)(ctx), (i))

/* Keep the pending exception (normalised, traceback attached) in `errors`. */
static int record_exception(PyObject *errors)
{
    PyObject *type, *value, *traceback;

    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    if (value == NULL) { /* no exception object: should not happen */
        Py_XDECREF(type);
        Py_XDECREF(traceback);
        return -1;
    }
    if (traceback != NULL) PyException_SetTraceback(value, traceback);
    if (PyList_Append(errors, value) < 0) PyErr_Clear();
    Py_XDECREF(type);
    Py_DECREF(value);
    Py_XDECREF(traceback);
    return -1;
}

/* Copy a 1-D float64 array of length m into fvec; 0 if it is not one. */
static int copy_if_exact(PyObject *r, npy_intp m, double *fvec)
{
    PyArrayObject *a;

    if (!PyArray_CheckExact(r)) return 0;
    a = (PyArrayObject *)r;
    if (!(PyArray_NDIM(a) == 1 || (PyArray_NDIM(a) == 2 && PyArray_DIM(a, 1) == 1)) ||
        PyArray_DIM(a, 0) != m ||
        PyArray_TYPE(a) != NPY_DOUBLE || !PyArray_ISBEHAVED_RO(a) ||
        !PyArray_IS_C_CONTIGUOUS(a))
        return 0;
    memcpy(fvec, PyArray_DATA(a), (size_t)m * sizeof(double));
    return 1;
}

/* func(copy of x, *args): a new reference, or NULL with an exception set.
 * x holds k points of n values, one after another (column-major); the copy
 * has shape (n,) when k is 0, else (n, k) in Fortran order. */
static PyObject *call_at(PyObject *func, PyObject *args, int n, int k, const double *x)
{
    PyObject *xarr, *r;
    npy_intp dims[2] = {n, k};

    if (k == 0)
        xarr = PyArray_SimpleNew(1, dims, NPY_DOUBLE);
    else
        xarr = PyArray_New(&PyArray_Type, 2, dims, NPY_DOUBLE, NULL, NULL, 0,
                           NPY_ARRAY_F_CONTIGUOUS, NULL);
    if (xarr == NULL) return NULL;
    memcpy(PyArray_DATA((PyArrayObject *)xarr), x,
           (size_t)n * (size_t)(k > 0 ? k : 1) * sizeof(double));
    if (PyTuple_GET_SIZE(args) == 0) {
        r = PyObject_CallOneArg(func, xarr);
    } else {
        Py_ssize_t i, k = PyTuple_GET_SIZE(args);
        PyObject *all = PyTuple_New(k + 1);
        if (all == NULL) {
            Py_DECREF(xarr);
            return NULL;
        }
        Py_INCREF(xarr);
        PyTuple_SET_ITEM(all, 0, xarr);
        for (i = 0; i < k; i++) {
            PyObject *item = PyTuple_GET_ITEM(args, i);
            Py_INCREF(item);
            PyTuple_SET_ITEM(all, i + 1, item);
        }
        r = PyObject_Call(func, all, NULL);
        Py_DECREF(all);
    }
    Py_DECREF(xarr);
    return r;
}

/* f(xdata, *x), with x as n NumPy float64 scalars (as unpacking an array
 * gives them): a new reference, or NULL with an exception set. */
static PyObject *call_model(PyObject *f, PyObject *xdata, int n, const double *x)
{
    PyObject *all, *r;
    int i;

    all = PyTuple_New(n + 1);
    if (all == NULL) return NULL;
    Py_INCREF(xdata);
    PyTuple_SET_ITEM(all, 0, xdata);
    for (i = 0; i < n; i++) {
        PyObject *s = PyArrayScalar_New(Double);
        if (s == NULL) {
            Py_DECREF(all);
            return NULL;
        }
        PyArrayScalar_VAL(s, Double) = x[i];
        PyTuple_SET_ITEM(all, i + 1, s);
    }
    r = PyObject_Call(f, all, NULL);
    Py_DECREF(all);
    return r;
}

/* curve_fit's residual: f(xdata, *x) (see call_model), then
 * fvec = w * (f - ydata) in C. The
 * result is taken only when f returned a float64 vector of length m and
 * every value is finite and normal (or zero): then NumPy would have computed
 * the same numbers and had nothing to warn about. Otherwise the raw output
 * goes to `check`, which does it with NumPy (and raises for a wrong shape).
 * A weighted value that underflows to zero counts as not normal too.
 * Returns 1 when the C result was taken, 0 with the model's output (a new
 * reference) in *raw when it was not, -1 with an exception set. */
static int model_residual(PyObject *model, int m, int n, const double *x, double *fvec,
                          PyObject **raw)
{
    const double *y = PyArray_DATA((PyArrayObject *)FIELD(model, MODEL_YDATA));
    PyObject *wobj = FIELD(model, MODEL_W);
    const double *w = wobj == Py_None ? NULL : PyArray_DATA((PyArrayObject *)wobj);
    PyObject *r;
    PyArrayObject *a;
    const char *src;
    npy_intp stride;
    int i;

    r = call_model(FIELD(model, MODEL_F), FIELD(model, MODEL_XDATA), n, x);
    *raw = r;
    if (r == NULL) return -1;

    if (!PyArray_CheckExact(r)) return 0;
    a = (PyArrayObject *)r;
    if (PyArray_NDIM(a) != 1 || PyArray_DIM(a, 0) != m || PyArray_TYPE(a) != NPY_DOUBLE ||
        !PyArray_ISALIGNED(a) || PyArray_ISBYTESWAPPED(a))
        return 0;
    src = PyArray_BYTES(a);
    stride = PyArray_STRIDE(a, 0);
    for (i = 0; i < m; i++) {
        double d = *(const double *)(src + i * stride) - y[i];
        double v = w == NULL ? d : w[i] * d;
        if (!isfinite(v) || (v != 0.0 && fabs(v) < DBL_MIN)) return 0;
        if (w != NULL && v == 0.0 && d != 0.0 && w[i] != 0.0)
            return 0; /* w * d underflowed to zero */
        fvec[i] = v;
    }
    Py_DECREF(r);
    *raw = NULL;
    return 1;
}

/* The residuals of a Python func (C API's func signature; ctx: a
 * FitContext). */
int minpack_tramp_residual(int m, int n, const double *x, double *fvec, void *fit)
{
    PyObject *ctx = FIELD(fit, FIT_RESIDUAL);
    PyObject *func = FIELD(ctx, RES_FUNC);
    PyObject *args = FIELD(ctx, RES_ARGS);
    PyObject *errors = FIELD(ctx, RES_ERRORS);
    PyObject *check = FIELD(ctx, RES_CHECK);
    PyObject *model = FIELD(ctx, RES_MODEL);
    PyObject *r, *checked;
    int ok;

    if (model != Py_None) {
        if (model_residual(model, m, n, x, fvec, &r) == 1) return 0;
        ok = 0; /* r is the model's output, not the residuals: check makes them */
    } else {
        r = call_at(func, args, n, PyObject_IsTrue(FIELD(ctx, RES_VECTORIZED)) ? 1 : 0, x);
        ok = r != NULL && copy_if_exact(r, m, fvec);
    }
    if (r == NULL) return record_exception(errors);

    if (!ok) {
        /* slow path: anything else goes through Python's check, which either
         * returns a proper array or raises a clear error */
        checked = PyObject_CallOneArg(check, r);
        Py_DECREF(r);
        if (checked == NULL) return record_exception(errors);
        r = PyArray_FROMANY(checked, NPY_DOUBLE, 1, 1, NPY_ARRAY_CARRAY_RO);
        Py_DECREF(checked);
        if (r == NULL) return record_exception(errors);
        ok = copy_if_exact(r, m, fvec);
        if (!ok) {
            Py_DECREF(r);
            PyErr_SetString(PyExc_ValueError,
                            "func returned residuals of the wrong length");
            return record_exception(errors);
        }
    }
    Py_DECREF(r);
    return 0;
}

/* r as a C-contiguous float64 array of shape (rows, cols): r itself when it
 * is exactly a float64 array of that shape, else what check(r) returns (or
 * check(r, k) when k > 0), which converts it or raises a clear error; a
 * result of another shape is a ValueError with the message `wrong_shape`.
 * Steals the reference to r; returns a new reference, or NULL with an
 * exception set. */
static PyObject *as_matrix(PyObject *r, npy_intp rows, npy_intp cols, PyObject *check,
                           int k, const char *wrong_shape)
{
    PyObject *checked, *a;

    if (!(PyArray_CheckExact(r) && PyArray_NDIM((PyArrayObject *)r) == 2 &&
          PyArray_DIM((PyArrayObject *)r, 0) == rows &&
          PyArray_DIM((PyArrayObject *)r, 1) == cols &&
          PyArray_TYPE((PyArrayObject *)r) == NPY_DOUBLE)) {
        if (k > 0) {
            PyObject *kobj = PyLong_FromLong(k);
            if (kobj == NULL) {
                Py_DECREF(r);
                return NULL;
            }
            checked = PyObject_CallFunctionObjArgs(check, r, kobj, NULL);
            Py_DECREF(kobj);
        } else {
            checked = PyObject_CallOneArg(check, r);
        }
        Py_DECREF(r);
        if (checked == NULL) return NULL;
        r = checked;
    }
    a = PyArray_FROMANY(r, NPY_DOUBLE, 2, 2, NPY_ARRAY_CARRAY_RO);
    Py_DECREF(r);
    if (a == NULL) return NULL;
    if (PyArray_DIM((PyArrayObject *)a, 0) != rows ||
        PyArray_DIM((PyArrayObject *)a, 1) != cols) {
        Py_DECREF(a);
        PyErr_SetString(PyExc_ValueError, wrong_shape);
        return NULL;
    }
    return a;
}

/* Copy J (a C-contiguous float64 array: (m, n) row by row, or with col_deriv
 * (n, m), which is already column-major) into the column-major fjac. */
static void copy_jacobian(const double *J, int m, int n, int col_deriv, double *fjac,
                          int ldfjac)
{
    int i, j;

    if (col_deriv) {
        for (j = 0; j < n; j++)
            memcpy(fjac + (size_t)j * ldfjac, J + (size_t)j * m, (size_t)m * sizeof(double));
    } else {
        for (j = 0; j < n; j++)
            for (i = 0; i < m; i++)
                fjac[(size_t)j * ldfjac + i] = J[(size_t)i * n + j];
    }
}

/* The Jacobian of a Python Dfun (C API's jac signature; ctx: a FitContext
 * whose jacobian is a JacobianContext). */
int minpack_tramp_jacobian(int m, int n, const double *x, double *fjac, int ldfjac,
                           void *fit)
{
    PyObject *ctx = FIELD(fit, FIT_JACOBIAN);
    PyObject *dfun = FIELD(ctx, JAC_DFUN);
    PyObject *args = FIELD(ctx, JAC_ARGS);
    int col_deriv = PyObject_IsTrue(FIELD(ctx, JAC_COL_DERIV));
    PyObject *errors = FIELD(ctx, JAC_ERRORS);
    PyObject *check = FIELD(ctx, JAC_CHECK);
    PyObject *model = FIELD(ctx, JAC_MODEL);
    PyObject *r, *a;
    npy_intp rows = col_deriv ? n : m, cols = col_deriv ? m : n;

    if (model != Py_None)
        r = call_model(FIELD(model, MJAC_JAC), FIELD(model, MJAC_XDATA), n, x);
    else
        r = call_at(dfun, args, n, 0, x);
    if (r == NULL) return record_exception(errors);
    a = as_matrix(r, rows, cols, check, 0, "Dfun returned a Jacobian of the wrong shape");
    if (a == NULL) return record_exception(errors);
    copy_jacobian(PyArray_DATA((PyArrayObject *)a), m, n, col_deriv, fjac, ldfjac);
    Py_DECREF(a);
    return 0;
}

/* The block callback of a vectorized Python fit: the residuals at k points
 * (the columns of x, n by k) in one call of func, into fvec (m by k, column-
 * major). `fit` is the FitContext; the check_block of its residual context
 * turns anything but a float64 (m, k) array into one, or raises. */
int minpack_tramp_block(int m, int n, int k, const double *x, double *fvec, void *fit)
{
    PyObject *ctx = FIELD(fit, FIT_RESIDUAL);
    PyObject *func = FIELD(ctx, RES_FUNC);
    PyObject *args = FIELD(ctx, RES_ARGS);
    PyObject *errors = FIELD(ctx, RES_ERRORS);
    PyObject *check_block = FIELD(ctx, RES_CHECK_BLOCK);
    PyObject *r, *a;
    const double *src;
    int i, j;

    r = call_at(func, args, n, k, x);
    if (r == NULL) return record_exception(errors);
    a = as_matrix(r, m, k, check_block, k, "func returned residuals of the wrong shape");
    if (a == NULL) return record_exception(errors);
    src = PyArray_DATA((PyArrayObject *)a);
    for (j = 0; j < k; j++)
        for (i = 0; i < m; i++)
            fvec[(size_t)j * m + i] = src[(size_t)i * k + j];
    Py_DECREF(a);
    return 0;
}

/* The progress report of a fit (MINPACK's nprint hook, once per iteration).
 * `ctx` is a ProgressContext: report(nfev, x, fvec) is built by
 * minpack._contexts.progress_context, x and fvec are fresh arrays, and its
 * result is the status (0 continues, anything else stops the solver). An
 * exception that escapes it (report records those of the user's callback
 * itself) is recorded in `errors` and stops the solver. */
int minpack_tramp_progress(int nfev, int m, int n, const double *x, const double *fvec,
                           void *ctx)
{
    PyObject *progress = FIELD(ctx, PROG_REPORT);
    PyObject *errors = FIELD(ctx, PROG_ERRORS);
    PyObject *xarr, *farr, *nobj, *r;
    npy_intp dx = n, df = m;
    long status;

    xarr = PyArray_SimpleNew(1, &dx, NPY_DOUBLE);
    farr = PyArray_SimpleNew(1, &df, NPY_DOUBLE);
    nobj = PyLong_FromLong(nfev);
    if (xarr == NULL || farr == NULL || nobj == NULL) {
        Py_XDECREF(xarr);
        Py_XDECREF(farr);
        Py_XDECREF(nobj);
        return record_exception(errors);
    }
    memcpy(PyArray_DATA((PyArrayObject *)xarr), x, (size_t)n * sizeof(double));
    memcpy(PyArray_DATA((PyArrayObject *)farr), fvec, (size_t)m * sizeof(double));
    r = PyObject_CallFunctionObjArgs(progress, nobj, xarr, farr, NULL);
    Py_DECREF(nobj);
    Py_DECREF(xarr);
    Py_DECREF(farr);
    if (r == NULL) return record_exception(errors);
    status = PyLong_AsLong(r);
    Py_DECREF(r);
    if (status == -1 && PyErr_Occurred()) return record_exception(errors);
    return status == 0 ? 0 : 1;
}

/* The values of a vectorised batch at np points (minpack_glue_points'
 * signature; ctx: a PointsContext), called by lm_points with the GIL
 * released: it takes the GIL for the call to Python and gives it back. */
int minpack_tramp_points(int m, int n, int np, const double *x, const int *problem,
                         double *f, void *ctx)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *errors = FIELD(ctx, PTS_ERRORS);
    PyObject *xarr = NULL, *parr = NULL, *r = NULL;
    PyArrayObject *a;
    npy_intp dx[2] = {np, n}, dp = np;
    int status = -1, i;

    xarr = PyArray_SimpleNew(2, dx, NPY_DOUBLE);
    parr = PyArray_SimpleNew(1, &dp, NPY_INT32);
    if (xarr == NULL || parr == NULL) goto done;
    memcpy(PyArray_DATA((PyArrayObject *)xarr), x, (size_t)np * (size_t)n * sizeof(double));
    for (i = 0; i < np; i++)
        ((npy_int32 *)PyArray_DATA((PyArrayObject *)parr))[i] = problem[i] - 1;
    r = PyObject_CallFunctionObjArgs(FIELD(ctx, PTS_FUNC), xarr, parr, NULL);
    if (r == NULL) goto done;
    a = (PyArrayObject *)r;
    if (!PyArray_CheckExact(r) || PyArray_NDIM(a) != 2 || PyArray_DIM(a, 0) != np ||
        PyArray_DIM(a, 1) != m || PyArray_TYPE(a) != NPY_DOUBLE ||
        !PyArray_ISCARRAY_RO(a) || PyArray_ISBYTESWAPPED(a)) {
        PyErr_SetString(PyExc_SystemError,
                        "minpack internal error: the batch function did not return "
                        "a C-contiguous float64 array of shape (points, m)");
        goto done;
    }
    memcpy(f, PyArray_DATA(a), (size_t)np * (size_t)m * sizeof(double));
    status = 0;
done:
    if (status != 0) record_exception(errors);
    Py_XDECREF(xarr);
    Py_XDECREF(parr);
    Py_XDECREF(r);
    PyGILState_Release(gil);
    return status;
}

/* A tuple of n field names. */
static PyObject *names(const char *const *fields, int n)
{
    PyObject *t = PyTuple_New(n);
    int i;

    if (t == NULL) return NULL;
    for (i = 0; i < n; i++) {
        PyObject *s = PyUnicode_FromString(fields[i]);
        if (s == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, s);
    }
    return t;
}

PyObject *minpack_tramp_table(PyObject *self, PyObject *unused);

/* _minpack.trampoline() -> (addresses, fields): the addresses of the
 * callbacks above by name, and the fields of each context, in the order this
 * file reads them. Registered in _minpack.pyf (pymethoddef). */
PyObject *minpack_tramp_table(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return Py_BuildValue(
        "{s:N,s:N,s:N,s:N,s:N}{s:N,s:N,s:N,s:N,s:N,s:N,s:N}",
        "residual", PyLong_FromVoidPtr((void *)(uintptr_t)&minpack_tramp_residual),
        "jacobian", PyLong_FromVoidPtr((void *)(uintptr_t)&minpack_tramp_jacobian),
        "block", PyLong_FromVoidPtr((void *)(uintptr_t)&minpack_tramp_block),
        "progress", PyLong_FromVoidPtr((void *)(uintptr_t)&minpack_tramp_progress),
        "points", PyLong_FromVoidPtr((void *)(uintptr_t)&minpack_tramp_points),
        "fit", names(fit_fields, FIT_FIELDS),
        "residual", names(residual_fields, RES_FIELDS),
        "model", names(model_fields, MODEL_FIELDS),
        "jacobian", names(jacobian_fields, JAC_FIELDS),
        "model_jacobian", names(model_jacobian_fields, MJAC_FIELDS),
        "progress", names(progress_fields, PROG_FIELDS),
        "points", names(points_fields, PTS_FIELDS));
}
