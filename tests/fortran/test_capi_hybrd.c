/* C test of the hybrd/hybrj entry points of the C API, through minpack.h.
 *
 * Solves Powell's classic system  x0 cos(x1) = a,  x1 x0 - x1 = b  with (a, b)
 * reached through user_data, from (1, 1): minpack_hybrd, minpack_hybrj,
 * minpack_hybrd1 and minpack_hybrj1 must converge (info 1) to the same root
 * with tiny residuals, hybrj with fewer function evaluations than hybrd; a
 * residual function that returns 7 must stop the solver with info -7; a NaN
 * at the start must stop it with info 10 (MINPACK_INFO_NONFINITE_START)
 * after that one call.
 * Exits non-zero on failure. It is passed (and ignores) the MGH table path
 * when run by fpm test, like the other test programs. */
#include <math.h>
#include <stdio.h>

#include "minpack.h"

struct data {
    double a, b;
    int calls;
    int stop_after;  /* calls before func returns 7; 0: never */
};

static int func(int m, int n, const double *x, double *fvec, void *user_data)
{
    struct data *d = user_data;
    (void)m;
    (void)n;
    d->calls++;
    if (d->stop_after && d->calls > d->stop_after) return 7;
    fvec[0] = x[0] * cos(x[1]) - d->a;
    fvec[1] = x[1] * x[0] - x[1] - d->b;
    return 0;
}

static int jac(int m, int n, const double *x, double *fjac, int ldfjac, void *user_data)
{
    (void)m;
    (void)n;
    (void)user_data;
    fjac[0] = cos(x[1]);                 /* d f0 / d x0 */
    fjac[1] = x[1];                      /* d f1 / d x0 */
    fjac[ldfjac] = -x[0] * sin(x[1]);    /* d f0 / d x1 */
    fjac[ldfjac + 1] = x[0] - 1.0;       /* d f1 / d x1 */
    return 0;
}

static int failures = 0;

static void check(int ok, const char *what)
{
    printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) failures++;
}

int main(void)
{
    enum { N = 2, LR = N * (N + 1) / 2 };
    struct data d = {4.0, 5.0, 0, 0};
    double x[N], fvec[N], fjac[N * N], r[LR], qtf[N], diag[N], root[N];
    int nfev, njev, info, nfev_hybrd;

    x[0] = 1.0; x[1] = 1.0;
    info = minpack_hybrd(func, N, x, fvec, 1.49012e-8, 200 * (N + 1), N - 1, N - 1,
                         0.0, diag, 1, 100.0, &nfev, fjac, N, r, LR, qtf, &d);
    printf("hybrd:  x = (%.10f, %.10f), info %d, nfev %d\n", x[0], x[1], info, nfev);
    check(info == 1, "hybrd converges");
    check(fabs(fvec[0]) + fabs(fvec[1]) < 1e-9, "hybrd residuals below 1e-9");
    check(nfev == d.calls, "hybrd's nfev counts every call");
    root[0] = x[0]; root[1] = x[1];
    nfev_hybrd = nfev;

    x[0] = 1.0; x[1] = 1.0; d.calls = 0;
    info = minpack_hybrj(func, jac, N, x, fvec, fjac, N, 1.49012e-8, 100 * (N + 1),
                         diag, 1, 100.0, &nfev, &njev, r, LR, qtf, &d);
    printf("hybrj:  x = (%.10f, %.10f), info %d, nfev %d, njev %d\n", x[0], x[1], info,
           nfev, njev);
    check(info == 1 && fabs(x[0] - root[0]) + fabs(x[1] - root[1]) < 1e-8,
          "hybrj converges to hybrd's root");
    check(nfev < nfev_hybrd && njev >= 1, "hybrj needs fewer evaluations");

    x[0] = 1.0; x[1] = 1.0;
    info = minpack_hybrd1(func, N, x, fvec, 1.49012e-8, &nfev, &d);
    check(info == 1 && fabs(x[0] - root[0]) + fabs(x[1] - root[1]) < 1e-8,
          "hybrd1 converges to the same root");

    x[0] = 1.0; x[1] = 1.0;
    info = minpack_hybrj1(func, jac, N, x, fvec, fjac, N, 1.49012e-8, &nfev, &njev, &d);
    check(info == 1 && fabs(x[0] - root[0]) + fabs(x[1] - root[1]) < 1e-8,
          "hybrj1 converges to the same root");

    x[0] = 1.0; x[1] = 1.0; d.calls = 0; d.stop_after = 3;
    info = minpack_hybrd(func, N, x, fvec, 1.49012e-8, 200 * (N + 1), N - 1, N - 1, 0.0,
                         diag, 1, 100.0, &nfev, fjac, N, r, LR, qtf, &d);
    check(info == -7, "a status of 7 stops hybrd with info -7");

    info = minpack_hybrd(func, N, x, fvec, -1.0, 200 * (N + 1), N - 1, N - 1, 0.0, diag,
                         1, 100.0, &nfev, fjac, N, r, LR, qtf, &d);
    check(info == 0, "a negative xtol is improper input (info 0)");

    x[0] = 1.0; x[1] = 1.0; d.calls = 0; d.a = NAN;
    info = minpack_hybrd1(func, N, x, fvec, 1.49012e-8, &nfev, &d);
    check(info == MINPACK_INFO_NONFINITE_START && info == 10 && nfev == 1 && d.calls == 1
              && x[0] == 1.0 && x[1] == 1.0 && isnan(fvec[0]),
          "a NaN at x0 stops hybrd1 with info 10 after one call");

    printf("%s\n", failures ? "test_capi_hybrd: FAILED" : "test_capi_hybrd: all passed");
    return failures ? 1 : 0;
}
