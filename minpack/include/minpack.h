/* minpack.h: the C interface of our MINPACK library (minpack/minpack_capi.f90).
 *
 * Link with -lminpack (pkg-config: minpack). Every symbol is named minpack_*.
 *
 * Conventions (as MINPACK-1, see minpack/README.md):
 *   - matrices are column-major (Fortran order): element (i, j) of fjac is
 *     fjac[i + j * ldfjac], 0-based here;
 *   - ipvt holds 1-based column indices, as MINPACK-1 returns them;
 *   - scalars are passed by value, arrays and outputs by pointer;
 *   - user_data is passed untouched to every callback: reach your problem data
 *     through it, no global variables needed; NULL is fine;
 *   - callbacks return 0 to continue; any other value stops the solver, which
 *     then returns info = -|status| (INT_MIN stays as it is);
 *   - every routine is reentrant: a callback may call a solver again, and
 *     threads may run solvers at the same time.
 *
 * info (the return value of the solvers), as MINPACK-1 (0 to 8) and two more:
 *   0  improper input parameters
 *   1  both actual and predicted relative reductions in the sum of squares are
 *      at most ftol
 *   2  relative error between two consecutive iterates is at most xtol
 *   3  conditions 1 and 2 both hold
 *   4  fvec is orthogonal to the columns of the Jacobian to machine precision
 *      (gtol)
 *   5  number of calls to func has reached maxfev
 *   6  ftol is too small: no further reduction in the sum of squares is possible
 *   7  xtol is too small: no further improvement in x is possible
 *   8  gtol is too small: fvec is orthogonal to the columns of the Jacobian to
 *      machine precision
 *  10  the residuals at the starting point are not all finite (NaN or inf):
 *      the solver stopped after that one evaluation (x and fvec: x0, f(x0))
 *  11  the Jacobian at x is not all finite (a user Jacobian or row with NaN
 *      or inf, or a difference quotient from a point where the residuals are
 *      not finite): the solver stopped at x, the last iterate
 *  <0  a callback returned a non-zero status
 * The driver-1 forms (minpack_lmdif1, minpack_lmder1, minpack_lmstr1) report 8
 * as 4, as MINPACK-1's lmdif1/lmder1/lmstr1.
 *
 * 10 and 11 are not in MINPACK-1, which has no test for NaN or inf. A trial
 * point whose residuals are not finite is a failed step here (the step bound
 * shrinks, x and fvec keep the last iterate), so a model undefined in part
 * of the space is fitted where it is defined. While every value stays
 * finite, the solvers take MINPACK-1's steps exactly. The hybrid solvers
 * (minpack_hybrd, minpack_hybrj and their driver-1 forms) use 10 and 11 in
 * the same sense.
 */
#ifndef MINPACK_H
#define MINPACK_H

/* info values 10 and 11 (see above). */
#define MINPACK_INFO_NONFINITE_START 10
#define MINPACK_INFO_NONFINITE_JACOBIAN 11

#ifdef __cplusplus
extern "C" {
#endif

/* Residuals: fvec[0..m-1] = f(x[0..n-1]). */
typedef int (*minpack_func)(int m, int n, const double *x, double *fvec,
                            void *user_data);

/* Jacobian: fjac[i + j * ldfjac] = d f_i / d x_j for 0 <= i < m, 0 <= j < n. */
typedef int (*minpack_jac)(int m, int n, const double *x, double *fjac, int ldfjac,
                           void *user_data);

/* One row of the Jacobian: fjrow[j] = d f_row / d x_j, row 0-based
 * (0 <= row < m). Called for rows 0, 1, ..., m - 1 in order. */
typedef int (*minpack_fjrow)(int m, int n, const double *x, double *fjrow, int row,
                             void *user_data);

/* Levenberg-Marquardt with a forward-difference Jacobian (MINPACK-1 lmdif).
 * x[n]: start on entry, solution on exit. fvec[m]: residuals at x on exit.
 * diag[n]: scaling, input when mode = 2, output when mode = 1. fjac[ldfjac * n]
 * (ldfjac >= m), ipvt[n], qtf[n]: the final QR factorisation with pivoting of
 * the Jacobian (see minpack_covar). nfev: calls of func. */
int minpack_lmdif(minpack_func func, int m, int n, double *x, double *fvec,
                  double ftol, double xtol, double gtol, int maxfev, double epsfcn,
                  double *diag, int mode, double factor, int *nfev, double *fjac,
                  int ldfjac, int *ipvt, double *qtf, void *user_data);

/* Levenberg-Marquardt with a user Jacobian (MINPACK-1 lmder). Arguments as
 * minpack_lmdif; njev: calls of jac. */
int minpack_lmder(minpack_func func, minpack_jac jac, int m, int n, double *x,
                  double *fvec, double *fjac, int ldfjac, double ftol, double xtol,
                  double gtol, int maxfev, double *diag, int mode, double factor,
                  int *nfev, int *njev, int *ipvt, double *qtf, void *user_data);

/* Bounds (not in MINPACK-1): minpack_lmdif and minpack_lmder within the box
 * lower[j] <= x[j] <= upper[j]. Other arguments as minpack_lmdif and
 * minpack_lmder. lower or upper may be NULL (no bound on that side), and
 * -HUGE_VAL / HUGE_VAL (or +-DBL_MAX) leave one component unbounded;
 * lower[j] == upper[j] fixes x[j] (it is left out of the fit). x0 outside
 * the box, lower[j] > upper[j] or a NaN bound: info 0, before any call of
 * func. func is never called outside the box, difference steps included
 * (backwards from an upper bound). active[n] (or NULL): on exit -1 where x is
 * on its lower bound (or fixed), 1 on its upper bound, 0 elsewhere. On exit
 * fjac, ipvt and qtf factor the Jacobian with the columns of the parameters
 * held on a bound set to zero (see minpack/README.md, "Bounds"). While no
 * bound is reached, the iterates, nfev, njev and info are those of
 * minpack_lmdif and minpack_lmder bit for bit. */
int minpack_lmdif_bounded(minpack_func func, int m, int n, double *x, double *fvec,
                          const double *lower, const double *upper, double ftol,
                          double xtol, double gtol, int maxfev, double epsfcn,
                          double *diag, int mode, double factor, int *nfev,
                          double *fjac, int ldfjac, int *ipvt, double *qtf,
                          int *active, void *user_data);
int minpack_lmder_bounded(minpack_func func, minpack_jac jac, int m, int n, double *x,
                          double *fvec, double *fjac, int ldfjac, const double *lower,
                          const double *upper, double ftol, double xtol, double gtol,
                          int maxfev, double *diag, int mode, double factor, int *nfev,
                          int *njev, int *ipvt, double *qtf, int *active,
                          void *user_data);

/* lmdif with MINPACK-1's lmdif1 settings: ftol = xtol = tol, gtol = 0,
 * maxfev = 200 (n + 1), epsfcn = 0, mode = 1, factor = 100. */
int minpack_lmdif1(minpack_func func, int m, int n, double *x, double *fvec,
                   double tol, int *nfev, void *user_data);

/* lmder with MINPACK-1's lmder1 settings: ftol = xtol = tol, gtol = 0,
 * maxfev = 100 (n + 1), mode = 1, factor = 100. fjac[ldfjac * n], ldfjac >= m. */
int minpack_lmder1(minpack_func func, minpack_jac jac, int m, int n, double *x,
                   double *fvec, double *fjac, int ldfjac, double tol, int *ipvt,
                   int *nfev, int *njev, void *user_data);

/* Levenberg-Marquardt with the Jacobian one row at a time, O(n^2) storage
 * (MINPACK-1 lmstr): fjac is n by n (ldfjac >= n), the upper triangle of R.
 * Other arguments as minpack_lmder. */
int minpack_lmstr(minpack_func func, minpack_fjrow fjrow, int m, int n, double *x,
                  double *fvec, double *fjac, int ldfjac, double ftol, double xtol,
                  double gtol, int maxfev, double *diag, int mode, double factor,
                  int *nfev, int *njev, int *ipvt, double *qtf, void *user_data);

/* lmstr with MINPACK-1's lmstr1 settings (as minpack_lmder1). */
int minpack_lmstr1(minpack_func func, minpack_fjrow fjrow, int m, int n, double *x,
                   double *fvec, double *fjac, int ldfjac, double tol, int *ipvt,
                   int *nfev, int *njev, void *user_data);

/* n equations in n unknowns by Powell's hybrid method with a forward-
 * difference Jacobian (MINPACK-1 hybrd); func is called with m = n. The band
 * ml, mu (n - 1 each when dense) sets how many columns share an evaluation.
 * On return fjac (n by n, ldfjac >= n) holds Q, r[lr] (lr >= n(n+1)/2) the
 * upper triangle of R by rows, qtf = Q^T fvec. info: 0 improper input, 1
 * converged (xtol), 2 maxfev reached, 3 xtol too small, 4 and 5 no progress,
 * 10 functions not finite at x0, 11 Jacobian not finite (see the top),
 * negative: a callback's non-zero status, made negative. */
int minpack_hybrd(minpack_func func, int n, double *x, double *fvec, double xtol,
                  int maxfev, int ml, int mu, double epsfcn, double *diag, int mode,
                  double factor, int *nfev, double *fjac, int ldfjac, double *r, int lr,
                  double *qtf, void *user_data);

/* hybrd with a Jacobian (MINPACK-1 hybrj); func and jac are called with m = n.
 * Other arguments as minpack_hybrd. */
int minpack_hybrj(minpack_func func, minpack_jac jac, int n, double *x, double *fvec,
                  double *fjac, int ldfjac, double xtol, int maxfev, double *diag,
                  int mode, double factor, int *nfev, int *njev, double *r, int lr,
                  double *qtf, void *user_data);

/* hybrd and hybrj with MINPACK-1's hybrd1/hybrj1 settings (xtol = tol, dense,
 * mode 2 with diag = 1, factor 100; info 5 reported as 4). */
int minpack_hybrd1(minpack_func func, int n, double *x, double *fvec, double tol,
                   int *nfev, void *user_data);
int minpack_hybrj1(minpack_func func, minpack_jac jac, int n, double *x, double *fvec,
                   double *fjac, int ldfjac, double tol, int *nfev, int *njev,
                   void *user_data);

/* Check a Jacobian against the residuals (MINPACK-1 chkder). mode 1: set
 * xp[n], a point near x. Then evaluate fvec and fjac at x, fvecp at xp, and call
 * with mode 2: err[i] in [0, 1] for each residual (1: gradient correct, 0: wrong,
 * > 0.5: probably correct). */
void minpack_chkder(int m, int n, const double *x, const double *fvec,
                    const double *fjac, int ldfjac, double *xp, const double *fvecp,
                    int mode, double *err);

/* Euclidean norm of x[n], safe from overflow and underflow (MINPACK-1 enorm). */
double minpack_enorm(int n, const double *x);

/* Covariance (J^T J)^-1, n by n into cov (ldcov >= n), from the fjac (r, with
 * ldr) and 1-based ipvt that minpack_lmdif/lmder/lmstr return. Returns 0, or
 * the index of a zero pivot (cov is then undefined). */
int minpack_covar(int n, const double *r, int ldr, const int *ipvt, double *cov,
                  int ldcov);

#ifdef __cplusplus
}
#endif

#endif /* MINPACK_H */
