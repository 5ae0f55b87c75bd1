/* Compiled residuals for the valgrind smoke run (tests/valgrind/smoke.py),
 * built by ci/_hardening.sh with the system C compiler and loaded with
 * ctypes: numba's JIT is slow and noisy under valgrind, a plain shared
 * library is neither.
 *
 * The C signatures minpack expects (src/minpack/_compiled.py):
 *   int func(int m, int n, const double *x, double *fvec, void *user_data);
 *   int jac(int m, int n, const double *x, double *fjac, int ldfjac,
 *           void *user_data);
 * user_data points at the m data values y; t_i = 2 i / (m - 1).
 */
#include <math.h>

static double abscissa(int i, int m) { return m > 1 ? 2.0 * i / (m - 1) : 0.0; }

/* fvec_i = x0 exp(-x1 t_i) + x2 - y_i */
int exp_residual(int m, int n, const double *x, double *fvec, void *user_data)
{
    const double *y = (const double *)user_data;

    (void)n;
    for (int i = 0; i < m; i++)
        fvec[i] = x[0] * exp(-x[1] * abscissa(i, m)) + x[2] - y[i];
    return 0;
}

/* The Jacobian of exp_residual, column-major with leading dimension ldfjac. */
int exp_jacobian(int m, int n, const double *x, double *fjac, int ldfjac,
                 void *user_data)
{
    (void)n;
    (void)user_data;
    for (int i = 0; i < m; i++) {
        double t = abscissa(i, m), e = exp(-x[1] * t);
        fjac[i] = e;
        fjac[i + ldfjac] = -x[0] * t * e;
        fjac[i + 2 * ldfjac] = 1.0;
    }
    return 0;
}

/* As exp_residual, but asks the solver to stop (status 3) on its 5th call
 * for the data set it is given: y[m] counts the calls. */
int stopping_residual(int m, int n, const double *x, double *fvec, void *user_data)
{
    double *y = (double *)user_data;

    y[m] += 1.0;
    exp_residual(m, n, x, fvec, user_data);
    return y[m] >= 5.0 ? 3 : 0;
}

/* fvec = (x0^2 - 2, x0 x1 - 1): a 2 by 2 system for fsolve. */
int square_system(int m, int n, const double *x, double *fvec, void *user_data)
{
    (void)m;
    (void)n;
    (void)user_data;
    fvec[0] = x[0] * x[0] - 2.0;
    fvec[1] = x[0] * x[1] - 1.0;
    return 0;
}
