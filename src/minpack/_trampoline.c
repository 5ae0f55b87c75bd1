/* The residual callback of the Python path, in C.
 *
 * The Fortran glue (_glue.f90) calls minpack_py_residual for every residual
 * evaluation of a fit with a Python `func`, instead of going through an f2py
 * callback and a Python closure: this is the one hot path of the package,
 * and doing its work here costs a fraction of what the general machinery
 * does. It runs with the GIL held (the routines that use it are not
 * `threadsafe` in _minpack.pyf).
 *
 * `ctx` is the address of a Python tuple built by minpack._callbacks
 * (residual_context) and kept alive by the caller for the whole fit:
 *
 *     (func, args, m, errors, check, vectorized, check_block, model)
 *
 * func    the user's callable
 * args    tuple of extra arguments (often empty)
 * m       the number of residuals (int)
 * errors  a list; an exception raised while computing the residuals is
 *         appended to it (with its traceback) and the solver is told to stop
 * check   check(result) -> 1-D float64 array of length m, raising a clear
 *         TypeError/ValueError otherwise: the slow path for anything that is
 *         not already such an array
 * vectorized   True: func takes x of shape (n, k) and returns (m, k); one
 *         point is passed as (n, 1)
 * check_block  check_block(result, k) -> array of shape (m, k), or raises
 *         (used by minpack_py_block)
 * model   None, or (f, xdata, ydata, w) for curve_fit's residual
 *         w * (f(xdata, *x) - ydata) (minpack._callbacks.ModelResidual; w
 *         None when unweighted): see model_residual below. check then takes
 *         the model's raw output.
 *
 * Each call hands `func` a fresh copy of x (the caller may keep it), and
 * copies the residuals into the Fortran buffer. Returns 0, or -1 after
 * recording an exception. Nothing unwinds through Fortran.
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
#include <string.h>

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
    const double *y = PyArray_DATA((PyArrayObject *)PyTuple_GET_ITEM(model, 2));
    PyObject *wobj = PyTuple_GET_ITEM(model, 3);
    const double *w = wobj == Py_None ? NULL : PyArray_DATA((PyArrayObject *)wobj);
    PyObject *r;
    PyArrayObject *a;
    const char *src;
    npy_intp stride;
    int i;

    r = call_model(PyTuple_GET_ITEM(model, 0), PyTuple_GET_ITEM(model, 1), n, x);
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

int minpack_py_residual(int m, int n, const double *x, double *fvec, void *ctx)
{
    PyObject *context = (PyObject *)ctx;
    PyObject *func = PyTuple_GET_ITEM(context, 0);
    PyObject *args = PyTuple_GET_ITEM(context, 1);
    PyObject *errors = PyTuple_GET_ITEM(context, 3);
    PyObject *check = PyTuple_GET_ITEM(context, 4);
    PyObject *model = PyTuple_GET_ITEM(context, 7);
    PyObject *r, *checked;
    int ok;

    if (model != Py_None) {
        if (model_residual(model, m, n, x, fvec, &r) == 1) return 0;
        ok = 0; /* r is the model's output, not the residuals: check makes them */
    } else {
        r = call_at(func, args, n, PyObject_IsTrue(PyTuple_GET_ITEM(context, 5)) ? 1 : 0,
                    x);
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

/* The Jacobian callback of the Python path. `ctx` is the address of the tuple
 *
 *     (Dfun, args, col_deriv, errors, check, model)
 *
 * built by minpack._callbacks.jacobian_context: Dfun(x, *args) returns the
 * Jacobian, shape (m, n), or (n, m) with col_deriv; check(result) returns it
 * as an array of that shape or raises SciPy's error. `model` is None, or
 * (jac, xdata) for curve_fit's unweighted Jacobian: then jac(xdata, *x) is
 * called instead, x as NumPy scalars (see call_model). */
int minpack_py_jacobian(int m, int n, const double *x, double *fjac, int ldfjac, void *ctx)
{
    PyObject *context = (PyObject *)ctx;
    PyObject *dfun = PyTuple_GET_ITEM(context, 0);
    PyObject *args = PyTuple_GET_ITEM(context, 1);
    int col_deriv = PyObject_IsTrue(PyTuple_GET_ITEM(context, 2));
    PyObject *errors = PyTuple_GET_ITEM(context, 3);
    PyObject *check = PyTuple_GET_ITEM(context, 4);
    PyObject *model = PyTuple_GET_ITEM(context, 5);
    PyObject *r, *checked, *a;
    npy_intp rows = col_deriv ? n : m, cols = col_deriv ? m : n;

    if (model != Py_None)
        r = call_model(PyTuple_GET_ITEM(model, 0), PyTuple_GET_ITEM(model, 1), n, x);
    else
        r = call_at(dfun, args, n, 0, x);
    if (r == NULL) return record_exception(errors);

    if (!(PyArray_CheckExact(r) && PyArray_NDIM((PyArrayObject *)r) == 2 &&
          PyArray_DIM((PyArrayObject *)r, 0) == rows &&
          PyArray_DIM((PyArrayObject *)r, 1) == cols &&
          PyArray_TYPE((PyArrayObject *)r) == NPY_DOUBLE)) {
        checked = PyObject_CallOneArg(check, r);
        Py_DECREF(r);
        if (checked == NULL) return record_exception(errors);
        r = checked;
    }
    a = PyArray_FROMANY(r, NPY_DOUBLE, 2, 2, NPY_ARRAY_CARRAY_RO);
    Py_DECREF(r);
    if (a == NULL) return record_exception(errors);
    if (PyArray_DIM((PyArrayObject *)a, 0) != rows ||
        PyArray_DIM((PyArrayObject *)a, 1) != cols) {
        Py_DECREF(a);
        PyErr_SetString(PyExc_ValueError, "Dfun returned a Jacobian of the wrong shape");
        return record_exception(errors);
    }
    copy_jacobian(PyArray_DATA((PyArrayObject *)a), m, n, col_deriv, fjac, ldfjac);
    Py_DECREF(a);
    return 0;
}

/* The block callback of a vectorized Python fit: the residuals at k points
 * (the columns of x, n by k) in one call of func, into fvec (m by k, column-
 * major). `ctx` is the residual context (see minpack_py_residual); its
 * check_block turns anything but a float64 (m, k) array into one, or raises. */
int minpack_py_block(int m, int n, int k, const double *x, double *fvec, void *ctx)
{
    PyObject *context = (PyObject *)ctx;
    PyObject *func = PyTuple_GET_ITEM(context, 0);
    PyObject *args = PyTuple_GET_ITEM(context, 1);
    PyObject *errors = PyTuple_GET_ITEM(context, 3);
    PyObject *check_block = PyTuple_GET_ITEM(context, 6);
    PyObject *r, *checked, *a, *kobj;
    const double *src;
    int i, j;

    r = call_at(func, args, n, k, x);
    if (r == NULL) return record_exception(errors);
    if (!(PyArray_CheckExact(r) && PyArray_NDIM((PyArrayObject *)r) == 2 &&
          PyArray_DIM((PyArrayObject *)r, 0) == m &&
          PyArray_DIM((PyArrayObject *)r, 1) == k &&
          PyArray_TYPE((PyArrayObject *)r) == NPY_DOUBLE)) {
        kobj = PyLong_FromLong(k);
        if (kobj == NULL) {
            Py_DECREF(r);
            return record_exception(errors);
        }
        checked = PyObject_CallFunctionObjArgs(check_block, r, kobj, NULL);
        Py_DECREF(kobj);
        Py_DECREF(r);
        if (checked == NULL) return record_exception(errors);
        r = checked;
    }
    a = PyArray_FROMANY(r, NPY_DOUBLE, 2, 2, NPY_ARRAY_CARRAY_RO);
    Py_DECREF(r);
    if (a == NULL) return record_exception(errors);
    if (PyArray_DIM((PyArrayObject *)a, 0) != m || PyArray_DIM((PyArrayObject *)a, 1) != k) {
        Py_DECREF(a);
        PyErr_SetString(PyExc_ValueError, "func returned residuals of the wrong shape");
        return record_exception(errors);
    }
    src = PyArray_DATA((PyArrayObject *)a);
    for (j = 0; j < k; j++)
        for (i = 0; i < m; i++)
            fvec[(size_t)j * m + i] = src[(size_t)i * k + j];
    Py_DECREF(a);
    return 0;
}

/* The progress report of a fit (MINPACK's nprint hook, once per iteration).
 * `ctx` is the address of the tuple (progress, errors): progress(nfev, x,
 * fvec) is built by minpack._callbacks.progress_callback, x and fvec are
 * fresh arrays, and its result is the status (0 continues, anything else
 * stops the solver). An exception that escapes it (progress records those
 * of the user's callback itself) is recorded in `errors` and stops the
 * solver. The caller keeps the tuple alive. */
int minpack_py_progress(int nfev, int m, int n, const double *x, const double *fvec,
                        void *ctx)
{
    PyObject *progress = PyTuple_GET_ITEM((PyObject *)ctx, 0);
    PyObject *errors = PyTuple_GET_ITEM((PyObject *)ctx, 1);
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
