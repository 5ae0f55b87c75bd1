/* C smoke test of minpack_lmstr1, minpack_lmstr and minpack_chkder.
 *
 * Fits y = b1 exp(-b2 t) + b3 to exact data (m = 12, n = 3) through the C API:
 * lmstr1 must converge to the true parameters with the same nfev and njev as
 * lmder1; the row callback must see every 0-based row 0 .. m-1 in order for each
 * Jacobian; a non-zero callback status must stop the solver with info = -status;
 * chkder must score the true Jacobian about 1 and a wrong one about 0.
 * Exits non-zero on failure. */
#include <math.h>
#include <stdio.h>

int minpack_lmder1(int (*func)(int, int, const double *, double *, void *),
                   int (*jac)(int, int, const double *, double *, int, void *),
                   int m, int n, double *x, double *fvec, double *fjac, int ldfjac,
                   double tol, int *ipvt, int *nfev, int *njev, void *user_data);
int minpack_lmstr1(int (*func)(int, int, const double *, double *, void *),
                   int (*fjrow)(int, int, const double *, double *, int, void *),
                   int m, int n, double *x, double *fvec, double *fjac, int ldfjac,
                   double tol, int *ipvt, int *nfev, int *njev, void *user_data);
int minpack_lmstr(int (*func)(int, int, const double *, double *, void *),
                  int (*fjrow)(int, int, const double *, double *, int, void *),
                  int m, int n, double *x, double *fvec, double *fjac, int ldfjac,
                  double ftol, double xtol, double gtol, int maxfev, double *diag,
                  int mode, double factor, int *nfev, int *njev, int *ipvt,
                  double *qtf, void *user_data);
void minpack_chkder(int m, int n, const double *x, const double *fvec,
                    const double *fjac, int ldfjac, double *xp, const double *fvecp,
                    int mode, double *err);

enum { M = 12, N = 3 };
static const double truth[N] = {2.5, 0.7, -0.4};

struct problem {
    double t[M], y[M];
    int next_row;  /* the row the row callback expects next */
    int row_errors;
    int stop_after;  /* row calls before the row callback asks to stop; 0: never */
    int row_calls;
};

static int func(int m, int n, const double *x, double *fvec, void *user_data)
{
    const struct problem *p = user_data;
    (void)n;
    for (int i = 0; i < m; i++)
        fvec[i] = x[0] * exp(-x[1] * p->t[i]) + x[2] - p->y[i];
    return 0;
}

static void jac_row(const struct problem *p, const double *x, int i, double *row)
{
    double e = exp(-x[1] * p->t[i]);
    row[0] = e;
    row[1] = -x[0] * p->t[i] * e;
    row[2] = 1.0;
}

static int jac(int m, int n, const double *x, double *fjac, int ldfjac, void *user_data)
{
    double row[N];
    (void)n;
    for (int i = 0; i < m; i++) {
        jac_row(user_data, x, i, row);
        for (int j = 0; j < N; j++)
            fjac[i + j * ldfjac] = row[j];
    }
    return 0;
}

static int fjrow(int m, int n, const double *x, double *row, int i, void *user_data)
{
    struct problem *p = user_data;
    (void)n;
    if (i != p->next_row)
        p->row_errors++;
    p->next_row = (i + 1) % m;
    p->row_calls++;
    if (p->stop_after > 0 && p->row_calls >= p->stop_after)
        return 7;
    jac_row(p, x, i, row);
    return 0;
}

static int failures = 0;

static void check(int ok, const char *what)
{
    printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok)
        failures++;
}

int main(void)
{
    struct problem p = {0};
    double x[N], xd[N], fvec[M], fjac[M * N], diag[N], qtf[N], err[M], xp[N], fvecp[M];
    int ipvt[N], nfev, njev, nfevd, njevd, info, infod;
    const double tol = sqrt(2.220446049250313e-16);

    for (int i = 0; i < M; i++) {
        p.t[i] = 0.5 * i;
        p.y[i] = truth[0] * exp(-truth[1] * p.t[i]) + truth[2];
    }

    /* lmstr1 against lmder1 from the same start */
    x[0] = xd[0] = 1.0;
    x[1] = xd[1] = 0.2;
    x[2] = xd[2] = 0.0;
    infod = minpack_lmder1(func, jac, M, N, xd, fvec, fjac, M, tol, ipvt, &nfevd, &njevd, &p);
    info = minpack_lmstr1(func, fjrow, M, N, x, fvec, fjac, N, tol, ipvt, &nfev, &njev, &p);
    printf("lmder1: info %d nfev %d njev %d; lmstr1: info %d nfev %d njev %d\n",
           infod, nfevd, njevd, info, nfev, njev);
    check(info >= 1 && info <= 4, "lmstr1 converges");
    check(fabs(x[0] - truth[0]) < 1e-8 && fabs(x[1] - truth[1]) < 1e-8 &&
              fabs(x[2] - truth[2]) < 1e-8, "lmstr1 finds the true parameters");
    check(info == infod && nfev == nfevd && njev == njevd, "lmstr1 counts equal lmder1's");
    check(p.row_errors == 0 && p.row_calls == M * njev, "rows 0 .. m-1 in order, m per Jacobian");

    /* a non-zero status from the row callback stops the solver: info = -status */
    x[0] = 1.0;
    x[1] = 0.2;
    x[2] = 0.0;
    p.next_row = 0;
    p.row_calls = 0;
    p.stop_after = M + 5;  /* during the second Jacobian */
    info = minpack_lmstr(func, fjrow, M, N, x, fvec, fjac, N, tol, tol, 0.0, 1000, diag, 1,
                         100.0, &nfev, &njev, ipvt, qtf, &p);
    printf("stopped lmstr: info %d nfev %d njev %d\n", info, nfev, njev);
    check(info == -7 && njev == 1, "row callback status 7 gives info -7 after one Jacobian");

    /* bad input: ldfjac < n */
    info = minpack_lmstr1(func, fjrow, M, N, x, fvec, fjac, N - 1, tol, ipvt, &nfev, &njev, &p);
    check(info == 0, "ldfjac < n gives info 0");

    /* chkder: the true Jacobian and a wrong one at a point off the solution */
    x[0] = 1.0;
    x[1] = 0.2;
    x[2] = 0.3;
    minpack_chkder(M, N, x, fvec, fjac, M, xp, fvecp, 1, err);
    func(M, N, x, fvec, &p);
    func(M, N, xp, fvecp, &p);
    jac(M, N, x, fjac, M, &p);
    minpack_chkder(M, N, x, fvec, fjac, M, xp, fvecp, 2, err);
    double lo = 1.0;
    for (int i = 0; i < M; i++)
        lo = fmin(lo, err[i]);
    for (int i = 0; i < M * N; i++)
        fjac[i] = -fjac[i];
    minpack_chkder(M, N, x, fvec, fjac, M, xp, fvecp, 2, err);
    double hi = 0.0;
    for (int i = 0; i < M; i++)
        hi = fmax(hi, err[i]);
    printf("chkder: lowest err, true Jacobian %.4f; highest err, negated %.4f\n", lo, hi);
    check(lo > 0.9, "chkder scores the true Jacobian as correct");
    check(hi < 0.1, "chkder scores the negated Jacobian as wrong");

    if (failures > 0) {
        printf("test_capi_lmstr: FAILED (%d)\n", failures);
        return 1;
    }
    printf("test_capi_lmstr: all checks passed\n");
    return 0;
}
