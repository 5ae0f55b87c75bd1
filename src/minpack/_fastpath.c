/* The lean entry of a least-squares fit with compiled callbacks.
 *
 * A fit with a compiled residual takes a few microseconds in Fortran; an
 * f2py call adds several more (it converts 19 arguments and allocates the
 * outputs). This entry calls the same glue entry as f2py's _minpack.lm,
 * minpack_glue_lm, with the GIL released, but converts nothing: it accepts
 * only arguments that need no conversion (native float64 arrays, lists and
 * tuples of exact floats and ints, exact floats and ints, NULL or one
 * C-contiguous array as user data) and returns NotImplemented for anything
 * else. minpack.leastsq calls it first with the user's arguments; on
 * NotImplemented it checks and converts them (or explains what is wrong)
 * and calls it again with the converted ones (_compiled.run_lm). So this
 * file decides nothing the checks could decide differently: it only
 * declines.
 *
 * Registered in _minpack.pyf (pymethoddef) as _minpack.lm_compiled.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NO_IMPORT_ARRAY
#define PY_ARRAY_UNIQUE_SYMBOL _npy_f2py_ARRAY_API
#define NPY_NO_DEPRECATED_API NPY_1_9_API_VERSION
#include "numpy/arrayobject.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* The solver's info when the residuals at x0 are not finite (minpack_kinds'
 * info_nonfinite_start): fvec is then returned even when `full` is false. */
#define INFO_NONFINITE_START 10

/* In _glue.f90 (bind(c), every argument by address). */
extern void minpack_glue_lm(const intptr_t *func, const intptr_t *jac, const intptr_t *udata,
                            const intptr_t *block, const intptr_t *progress,
                            const intptr_t *pdata, const int *have_f0, const int *m,
                            const int *n, double *x, double *fvec, const double *ftol,
                            const double *xtol, const double *gtol, const int *maxfev,
                            const double *epsfcn, double *diag, const int *mode,
                            const double *factor, double *fjac, int *ipvt, double *qtf,
                            int *info, int *nfev, int *njev, const int *bounded,
                            const double *lower, const double *upper, int *active);

PyObject *minpack_fast_lm(PyObject *self, PyObject *const *args, Py_ssize_t nargs);

/* An exact float, or an exact int (not bool) within int64 (what NumPy
 * reads as a number, not an object), as a double; 0 otherwise. */
static int plain_real(PyObject *obj, double *out)
{
    long long value;

    if (PyFloat_CheckExact(obj)) {
        *out = PyFloat_AS_DOUBLE(obj);
        return 1;
    }
    if (PyLong_CheckExact(obj)) {
        value = PyLong_AsLongLong(obj);
        if (value == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        *out = (double)value;
        return 1;
    }
    return 0;
}

/* An exact int that fits a C int; 0 if not. */
static int plain_int(PyObject *obj, int *out)
{
    long value;

    if (!PyLong_CheckExact(obj)) return 0;
    value = PyLong_AsLong(obj);
    if (value == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (value < INT_MIN || value > INT_MAX) return 0;
    *out = (int)value;
    return 1;
}

/* An address given as an int (0 for NULL); 0 if it is not one. */
static int plain_address(PyObject *obj, intptr_t *out)
{
    void *p;

    if (!PyLong_CheckExact(obj)) return 0;
    p = PyLong_AsVoidPtr(obj);
    if (p == NULL && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    *out = (intptr_t)p;
    return 1;
}

/* The starting point as a fresh 1-D float64 array, or NULL (no error set)
 * when it is not a plain one: a native 1-D float64 array (aligned, any
 * stride), or a list/tuple of exact floats and ints; not empty, all finite. */
static PyArrayObject *plain_start(PyObject *x0)
{
    PyArrayObject *x;
    npy_intp n, i;
    double *xp;

    if (PyArray_CheckExact(x0)) {
        PyArrayObject *a = (PyArrayObject *)x0;
        const char *src = PyArray_BYTES(a);
        npy_intp stride = PyArray_NDIM(a) == 1 ? PyArray_STRIDE(a, 0) : 0;
        if (PyArray_TYPE(a) != NPY_DOUBLE || PyArray_NDIM(a) != 1 || PyArray_SIZE(a) == 0
            || !PyArray_ISALIGNED(a) || PyArray_ISBYTESWAPPED(a))
            return NULL;
        n = PyArray_SIZE(a);
        x = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_DOUBLE);
        if (x == NULL) {
            PyErr_Clear();
            return NULL;
        }
        xp = (double *)PyArray_DATA(x);
        for (i = 0; i < n; i++) xp[i] = *(const double *)(src + i * stride);
    } else if (PyList_CheckExact(x0) || PyTuple_CheckExact(x0)) {
        n = PySequence_Fast_GET_SIZE(x0);
        if (n == 0) return NULL;
        x = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_DOUBLE);
        if (x == NULL) {
            PyErr_Clear();
            return NULL;
        }
        xp = (double *)PyArray_DATA(x);
        for (i = 0; i < n; i++) {
            if (!plain_real(PySequence_Fast_GET_ITEM(x0, i), xp + i)) {
                Py_DECREF(x);
                return NULL;
            }
        }
    } else {
        return NULL;
    }
    xp = (double *)PyArray_DATA(x);
    for (i = 0; i < n; i++) {
        if (!isfinite(xp[i])) {
            Py_DECREF(x);
            return NULL;
        }
    }
    return x;
}

/* The user_data pointer: `udefault` (None or the callable's own address)
 * when `fargs` is empty, else the data of the one C-contiguous array in it.
 * 0 when the Python layer must decide (and explain). */
static int plain_user_data(PyObject *udefault, PyObject *fargs, intptr_t *out)
{
    PyObject *a;

    if (!PyTuple_CheckExact(fargs)) return 0;
    if (PyTuple_GET_SIZE(fargs) == 0) {
        if (udefault == Py_None) {
            *out = 0;
            return 1;
        }
        return plain_address(udefault, out);
    }
    if (udefault != Py_None || PyTuple_GET_SIZE(fargs) != 1) return 0;
    a = PyTuple_GET_ITEM(fargs, 0);
    if (!PyArray_Check(a) || !PyArray_IS_C_CONTIGUOUS((PyArrayObject *)a)) return 0;
    *out = (intptr_t)PyArray_DATA((PyArrayObject *)a);
    return 1;
}

/* The scaling: mode 1 (MINPACK's own; *values NULL) for None, else mode 2
 * with the values of a native 1-D float64 array of length n (copied into the
 * solver's diag). 0 for anything else. */
static int plain_diag(PyObject *given, npy_intp n, int *mode, const double **values)
{
    PyArrayObject *a = (PyArrayObject *)given;

    if (given == Py_None) {
        *mode = 1;
        *values = NULL;
        return 1;
    }
    if (!PyArray_CheckExact(given) || PyArray_TYPE(a) != NPY_DOUBLE
        || PyArray_NDIM(a) != 1 || PyArray_DIM(a, 0) != n || !PyArray_IS_C_CONTIGUOUS(a)
        || !PyArray_ISBEHAVED_RO(a)) /* native byte order, aligned */
        return 0;
    *mode = 2;
    *values = (const double *)PyArray_DATA(a);
    return 1;
}

/* The 9-tuple of results; steals the references to the arrays (NULL: None). */
static PyObject *result(PyArrayObject *x, PyArrayObject *fvec, PyArrayObject *diag,
                        PyArrayObject *fjac, PyArrayObject *ipvt, PyArrayObject *qtf,
                        int info, int nfev, int njev)
{
    PyObject *items[9] = {(PyObject *)x, (PyObject *)fvec, (PyObject *)diag,
                          (PyObject *)fjac, (PyObject *)ipvt, (PyObject *)qtf,
                          PyLong_FromLong(info), PyLong_FromLong(nfev),
                          PyLong_FromLong(njev)};
    PyObject *out = PyTuple_New(9);
    int i, ok = out != NULL;

    for (i = 0; i < 9; i++) {
        if (items[i] == NULL) {
            if (i < 6) {
                items[i] = Py_NewRef(Py_None);
            } else {
                ok = 0;
                continue;
            }
        }
        if (ok) PyTuple_SET_ITEM(out, i, items[i]);
        else Py_DECREF(items[i]);
    }
    if (!ok) {
        Py_XDECREF(out);
        return NULL;
    }
    return out;
}

/* lm_compiled(func, jac, udefault, fargs, x0, m, ftol, xtol, gtol, maxfev,
 *             epsfcn, factor, diag, full)
 * -> (x, fvec, diag, fjac, ipvt, qtf, info, nfev, njev), or NotImplemented.
 * func and jac are addresses (jac 0: lmdif, else lmder); maxfev <= 0 means
 * MINPACK's default (minpack_glue_lm applies it); diag None means mode 1.
 * When `full` is false, fvec, diag, fjac, ipvt and qtf are None: the
 * solver's work space for them is one block of
 * memory, freed before returning (fvec, the residuals at x0, is kept when
 * info is INFO_NONFINITE_START). */
PyObject *minpack_fast_lm(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    intptr_t faddr, jaddr, uaddr, none = 0;
    int m, n, maxfev, mode = 1, full, have_f0 = 0, info = 0, nfev = 0, njev = 0;
    int unbounded = 0, no_active = 0; /* bounds are the checked route's */
    double ftol, xtol, gtol, epsfcn, factor, *work = NULL, no_bound = 0.0;
    const double *diag0;
    npy_intp dims[2];
    PyArrayObject *x, *fvec = NULL, *diag = NULL, *fjac = NULL, *ipvt = NULL, *qtf = NULL;

    (void)self;
    if (nargs != 14) {
        PyErr_Format(PyExc_TypeError, "lm_compiled takes 14 arguments (%zd given)", nargs);
        return NULL;
    }
    if (!plain_address(args[0], &faddr) || faddr == 0 || !plain_address(args[1], &jaddr)
        || !plain_user_data(args[2], args[3], &uaddr) || !plain_int(args[5], &m)
        || !plain_real(args[6], &ftol) || !plain_real(args[7], &xtol)
        || !plain_real(args[8], &gtol) || !plain_int(args[9], &maxfev)
        || !plain_real(args[10], &epsfcn) || !plain_real(args[11], &factor))
        Py_RETURN_NOTIMPLEMENTED;
    full = PyObject_IsTrue(args[13]);
    if (full < 0) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    x = plain_start(args[4]);
    if (x == NULL) Py_RETURN_NOTIMPLEMENTED;
    if (PyArray_SIZE(x) > m) { /* improper input: the Python layer says why */
        Py_DECREF(x);
        Py_RETURN_NOTIMPLEMENTED;
    }
    n = (int)PyArray_SIZE(x);
    if (!plain_diag(args[12], n, &mode, &diag0)) {
        Py_DECREF(x);
        Py_RETURN_NOTIMPLEMENTED;
    }
    dims[0] = m;
    dims[1] = n;
    if (full) {
        fvec = (PyArrayObject *)PyArray_ZEROS(1, dims, NPY_DOUBLE, 0);
        fjac = (PyArrayObject *)PyArray_ZEROS(2, dims, NPY_DOUBLE, 1);
        diag = (PyArrayObject *)PyArray_ZEROS(1, dims + 1, NPY_DOUBLE, 0);
        qtf = (PyArrayObject *)PyArray_ZEROS(1, dims + 1, NPY_DOUBLE, 0);
        ipvt = (PyArrayObject *)PyArray_ZEROS(1, dims + 1, NPY_INT, 0);
        if (!fvec || !fjac || !diag || !qtf || !ipvt) goto fail;
    } else {
        /* fvec (m), fjac (m n), diag (n), qtf (n), then ipvt (n ints) */
        work = PyMem_RawCalloc((size_t)m * (n + 1) + 3 * (size_t)n, sizeof(double));
        if (work == NULL) {
            PyErr_NoMemory();
            goto fail;
        }
    }
    {
        double *wfvec = full ? (double *)PyArray_DATA(fvec) : work;
        double *wfjac = full ? (double *)PyArray_DATA(fjac) : work + m;
        double *wdiag = full ? (double *)PyArray_DATA(diag) : work + (size_t)m * (n + 1);
        double *wqtf = full ? (double *)PyArray_DATA(qtf) : wdiag + n;
        int *wipvt = full ? (int *)PyArray_DATA(ipvt) : (int *)(wqtf + n);

        if (diag0 != NULL) memcpy(wdiag, diag0, (size_t)n * sizeof(double));
        Py_BEGIN_ALLOW_THREADS
        minpack_glue_lm(&faddr, &jaddr, &uaddr, &none, &none, &none, &have_f0, &m, &n,
                        (double *)PyArray_DATA(x), wfvec, &ftol, &xtol, &gtol, &maxfev,
                        &epsfcn, wdiag, &mode, &factor, wfjac, wipvt, wqtf, &info, &nfev,
                        &njev, &unbounded, &no_bound, &no_bound, &no_active);
        Py_END_ALLOW_THREADS
    }
    if (!full && info == INFO_NONFINITE_START) { /* leastsq says which residuals */
        fvec = (PyArrayObject *)PyArray_SimpleNew(1, dims, NPY_DOUBLE);
        if (fvec == NULL) {
            PyMem_RawFree(work);
            goto fail;
        }
        memcpy(PyArray_DATA(fvec), work, (size_t)m * sizeof(double));
    }
    PyMem_RawFree(work);
    return result(x, fvec, diag, fjac, ipvt, qtf, info, nfev, njev);

fail:
    Py_DECREF(x);
    Py_XDECREF(fvec);
    Py_XDECREF(fjac);
    Py_XDECREF(diag);
    Py_XDECREF(qtf);
    Py_XDECREF(ipvt);
    return NULL;
}
