/* C test of the bounded Levenberg-Marquardt entry points, through minpack.h.
 *
 * Rosenbrock's residuals (10 (x1 - x0^2), 1 - x0) from (-1.2, 1) with
 * x0 <= 0.5: minpack_lmdif_bounded and minpack_lmder_bounded must end on the
 * solution (0.5, 0.25) with x0 exactly on its bound and active = {1, 0},
 * never calling func or jac outside the box; with NULL bounds they must give
 * exactly what minpack_lmdif and minpack_lmder give; a start outside the box
 * must return info 0 without a call.
 * Exits non-zero on failure. It is passed (and ignores) the MGH table path
 * when run by fpm test, like the other test programs. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "minpack.h"

struct box {
    const double *lower, *upper;  /* NULL: open */
    int calls, outside;
};

static void record(struct box *b, const double *x, int n)
{
    b->calls++;
    for (int j = 0; j < n; j++) {
        if ((b->lower && x[j] < b->lower[j]) || (b->upper && x[j] > b->upper[j])) {
            b->outside++;
            return;
        }
    }
}

static int func(int m, int n, const double *x, double *fvec, void *user_data)
{
    (void)m;
    record(user_data, x, n);
    fvec[0] = 10.0 * (x[1] - x[0] * x[0]);
    fvec[1] = 1.0 - x[0];
    return 0;
}

static int jac(int m, int n, const double *x, double *fjac, int ldfjac, void *user_data)
{
    (void)m;
    record(user_data, x, n);
    fjac[0] = -20.0 * x[0];
    fjac[1] = -1.0;
    fjac[ldfjac] = 10.0;
    fjac[ldfjac + 1] = 0.0;
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
    enum { M = 2, N = 2 };
    const double x0[N] = {-1.2, 1.0};
    const double lower[N] = {-HUGE_VAL, -HUGE_VAL}, upper[N] = {0.5, HUGE_VAL};
    const double tol = 1.49012e-8;
    double x[N], fvec[M], fjac[M * N], qtf[N], diag[N];
    double xp[N], fvecp[M], fjacp[M * N], qtfp[N];
    int ipvt[N], ipvtp[N], active[N], nfev, njev, nfevp, njevp, info, infop;
    struct box b;

    /* lmdif within the box */
    memcpy(x, x0, sizeof x);
    b = (struct box){lower, upper, 0, 0};
    info = minpack_lmdif_bounded(func, M, N, x, fvec, lower, upper, tol, tol, 0.0, 600, 0.0,
                                 diag, 1, 100.0, &nfev, fjac, M, ipvt, qtf, active, &b);
    printf("lmdif_bounded: info %d, nfev %d, x = (%.17g, %.17g), active (%d, %d)\n", info,
           nfev, x[0], x[1], active[0], active[1]);
    check(info >= 1 && info <= 4, "lmdif_bounded converges");
    check(x[0] == 0.5 && fabs(x[1] - 0.25) <= 1e-8, "lmdif_bounded: solution (0.5, 0.25)");
    check(active[0] == 1 && active[1] == 0, "lmdif_bounded: active = {1, 0}");
    check(b.outside == 0 && b.calls == nfev, "lmdif_bounded: every call inside the box");

    /* lmder within the box */
    memcpy(x, x0, sizeof x);
    b = (struct box){lower, upper, 0, 0};
    info = minpack_lmder_bounded(func, jac, M, N, x, fvec, fjac, M, lower, upper, tol, tol,
                                 0.0, 300, diag, 1, 100.0, &nfev, &njev, ipvt, qtf, active,
                                 &b);
    printf("lmder_bounded: info %d, nfev %d, njev %d, x = (%.17g, %.17g)\n", info, nfev,
           njev, x[0], x[1]);
    check(info >= 1 && info <= 4, "lmder_bounded converges");
    check(x[0] == 0.5 && fabs(x[1] - 0.25) <= 1e-10, "lmder_bounded: solution (0.5, 0.25)");
    check(active[0] == 1 && active[1] == 0, "lmder_bounded: active = {1, 0}");
    check(b.outside == 0 && b.calls == nfev + njev, "lmder_bounded: every call inside the box");

    /* NULL bounds: the unbounded solvers, bit for bit */
    memcpy(x, x0, sizeof x);
    b = (struct box){NULL, NULL, 0, 0};
    info = minpack_lmdif_bounded(func, M, N, x, fvec, NULL, NULL, tol, tol, 0.0, 600, 0.0,
                                 diag, 1, 100.0, &nfev, fjac, M, ipvt, qtf, NULL, &b);
    memcpy(xp, x0, sizeof xp);
    infop = minpack_lmdif(func, M, N, xp, fvecp, tol, tol, 0.0, 600, 0.0, diag, 1, 100.0,
                          &nfevp, fjacp, M, ipvtp, qtfp, &b);
    check(info == infop && nfev == nfevp && memcmp(x, xp, sizeof x) == 0 &&
              memcmp(fjac, fjacp, sizeof fjac) == 0 && memcmp(qtf, qtfp, sizeof qtf) == 0,
          "lmdif_bounded with NULL bounds is minpack_lmdif");
    memcpy(x, x0, sizeof x);
    info = minpack_lmder_bounded(func, jac, M, N, x, fvec, fjac, M, NULL, NULL, tol, tol, 0.0,
                                 300, diag, 1, 100.0, &nfev, &njev, ipvt, qtf, active, &b);
    memcpy(xp, x0, sizeof xp);
    infop = minpack_lmder(func, jac, M, N, xp, fvecp, fjacp, M, tol, tol, 0.0, 300, diag, 1,
                          100.0, &nfevp, &njevp, ipvtp, qtfp, &b);
    check(info == infop && nfev == nfevp && njev == njevp && memcmp(x, xp, sizeof x) == 0 &&
              memcmp(fjac, fjacp, sizeof fjac) == 0 && active[0] == 0 && active[1] == 0,
          "lmder_bounded with NULL bounds is minpack_lmder");

    /* a start outside the box: info 0, no call */
    const double upper_low[N] = {-1.5, HUGE_VAL};
    memcpy(x, x0, sizeof x);
    b = (struct box){NULL, upper_low, 0, 0};
    info = minpack_lmdif_bounded(func, M, N, x, fvec, NULL, upper_low, tol, tol, 0.0, 600,
                                 0.0, diag, 1, 100.0, &nfev, fjac, M, ipvt, qtf, active, &b);
    check(info == 0 && b.calls == 0 && x[0] == x0[0], "x0 outside the box: info 0, no call");

    if (failures) {
        printf("test_capi_bounds: %d FAILED\n", failures);
        return 1;
    }
    printf("test_capi_bounds: all passed\n");
    return 0;
}
