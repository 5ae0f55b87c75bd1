/* Fit the Bard problem (More, Garbow & Hillstrom 1981, problem 8) through the
 * C API of our MINPACK library: minpack_lmder with an analytic Jacobian, the
 * observations reached through the user_data pointer (no globals).
 *
 * Checks the result MINPACK-1's test driver documents for the standard start
 * (1, 1, 1): ||f|| = 0.09063596, x = (0.08241058, 1.133037, 2.343695), info = 1.
 * Exits with status 1 when the fit is off.
 *
 * Build against the installed Python package (see docs/fortran_c.rst):
 *     lib=$(python -c 'import minpack; print(minpack.get_library_dir())')
 *     cc bard_capi.c $(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --cflags --libs minpack) \
 *         -Wl,-rpath,"$lib" -lm
 */
#include <math.h>
#include <stdio.h>

#include "minpack.h"

enum { M = 15, N = 3 };

struct bard_data {
    double y[M]; /* observations */
    int nfev;    /* residual evaluations seen by the callback */
};

/* f_i = y_i - (x1 + u_i / (x2 v_i + x3 w_i)), u_i = i, v_i = 16 - i,
 * w_i = min(u_i, v_i), i = 1..15. */
static int bard_f(int m, int n, const double *x, double *fvec, void *user_data)
{
    struct bard_data *d = user_data;
    (void)n;
    for (int i = 0; i < m; i++) {
        double u = i + 1, v = 15 - i, w = u < v ? u : v;
        fvec[i] = d->y[i] - (x[0] + u / (x[1] * v + x[2] * w));
    }
    d->nfev++;
    return 0;
}

/* Column-major Jacobian: fjac[i + j * ldfjac] = d f_i / d x_j. */
static int bard_j(int m, int n, const double *x, double *fjac, int ldfjac,
                  void *user_data)
{
    (void)n;
    (void)user_data;
    for (int i = 0; i < m; i++) {
        double u = i + 1, v = 15 - i, w = u < v ? u : v;
        double den = x[1] * v + x[2] * w;
        fjac[i] = -1.0;
        fjac[i + ldfjac] = u * v / (den * den);
        fjac[i + 2 * ldfjac] = u * w / (den * den);
    }
    return 0;
}

int main(void)
{
    struct bard_data data = {
        {0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96, 1.34,
         2.10, 4.39},
        0};
    const double x_ref[N] = {0.0824105765758334, 1.133036653471504, 2.343694638941154};
    const double fnorm_ref = 0.09063596;
    double x[N] = {1.0, 1.0, 1.0}, fvec[M], fjac[M * N], diag[N], qtf[N];
    double tol = sqrt(2.220446049250313e-16);
    int ipvt[N], nfev, njev, ok;

    /* lmder1's settings: ftol = xtol = tol, gtol = 0, maxfev = 100 (n + 1),
     * mode = 1, factor = 100. */
    int info = minpack_lmder(bard_f, bard_j, M, N, x, fvec, fjac, M, tol, tol, 0.0,
                             100 * (N + 1), diag, 1, 100.0, &nfev, &njev, ipvt, qtf,
                             &data);
    double fnorm = minpack_enorm(M, fvec);

    printf("Bard problem, C: minpack_lmder from minpack.h\n");
    printf("  x     = %16.8e %16.8e %16.8e\n", x[0], x[1], x[2]);
    printf("  fnorm = %16.8e\n", fnorm);
    printf("  info  = %d, nfev = %d, njev = %d\n", info, nfev, njev);

    ok = info >= 1 && info <= 3 && fabs(fnorm - fnorm_ref) <= 1e-7 && data.nfev == nfev;
    for (int j = 0; j < N; j++)
        ok = ok && fabs(x[j] - x_ref[j]) <= 1e-6 * fabs(x_ref[j]);
    if (!ok) {
        printf("FAILED: expected fnorm = 0.09063596, x = (0.08241058, 1.133037, "
               "2.343695), info in 1..3\n");
        return 1;
    }
    printf("OK: the documented MINPACK-1 result\n");
    return 0;
}
