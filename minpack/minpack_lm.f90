!> Levenberg-Marquardt drivers of MINPACK-1: lmdif (forward-difference
!> Jacobian), lmder (user Jacobian) and their simplified forms lmdif1, lmder1.
!>
!> References: MINPACK-1 User Guide (ANL-80-74, 1980), chapters 2 and 4;
!> J. J. Moré, "The Levenberg-Marquardt algorithm: implementation and
!> theory" (1978). The iteration follows MINPACK-1 step by step, so the same
!> problem gives the same iterates, nfev, njev and info up to rounding.
!>
!> Deliberate differences from MINPACK-1:
!> - callbacks carry a `type(c_ptr)` user-data argument (see minpack/README.md);
!> - work arrays are allocated here instead of being passed in;
!> - when a callback stops the finite-difference Jacobian, x is restored
!>   (MINPACK-1 left one component perturbed);
!> - residuals or a Jacobian that are not finite (NaN or inf) are detected
!>   (MINPACK-1 has no such test: NaN at the start ran it to maxfev, or to
!>   a false info 4, and a NaN Jacobian spoiled every later step). Residuals
!>   that are not finite at the starting point stop the solver at once with
!>   info 10 (`info_nonfinite_start`); at a trial point they make the step a
!>   failure, as if the sum of squares were infinite (the step bound is cut
!>   tenfold, x and fvec keep the last iterate), so the fit goes on inside
!>   the region where the residuals are defined; a Jacobian that is not
!>   finite stops the solver at the current x with info 11
!>   (`info_nonfinite_jacobian`). While every value stays finite these tests
!>   change nothing: iterates, nfev, njev and info are MINPACK-1's.
!> - bounds lower <= x <= upper on lmdif and lmder (optional arguments
!>   `lower`, `upper`, `active`; not in MINPACK-1, see "Bounds" below).
!> Everything is reentrant and `recursive`: a callback may call a solver again.
!>
!> Bounds. An active-set variant of the iteration, after the one of mpfit
!> (C. B. Markwardt, "Non-linear least squares fitting in IDL with MPFIT",
!> ASP Conf. Ser. 411, 2009: MINPACK-1's lmdif with parameter limits),
!> written here from that description, with these differences:
!> - after each Jacobian, a parameter on a bound whose gradient component
!>   g_j = (J^T f)_j points out of the box is held: its column is set to zero
!>   before qrfac, so qrfac, lmpar, the scaling and the gtol test (now on the
!>   projected gradient) run unchanged; lower = upper holds a parameter for
!>   the whole fit (no difference step is spent on it);
!> - components of the lmpar step that push a parameter on a bound outwards
!>   are zeroed, then the step is cut by the largest alpha <= 1 that keeps x
!>   in the box; the parameter that sets alpha is put exactly on its bound,
!>   as is any within rounding of a bound; on such a cut step, values within
!>   rounding of zero become zero and components below the rounding of the
!>   step are dropped (forward differences at x_j = 1e-24 are noise);
!> - for a cut step the predicted reduction is the model's for the step
!>   taken, ||f||^2 - ||f + J s||^2 = -2 qtf.(R P^T s) - ||R P^T s||^2 (mpfit's
!>   alpha-scaled form of MINPACK's prediction under-predicts it), the step
!>   bound is updated from the full LM step, and the ftol tests are skipped
!>   (a step stopped by a bound says nothing about the reduction left);
!> - a convergence found after a step taken while parameters were held is
!>   confirmed on the Jacobian at the new x: if the held set changes there
!>   (a gradient now points into the box), the fit goes on;
!> - the function is never evaluated outside the box: trial points are in
!>   it by construction, and a difference step that would leave it is taken
!>   backwards (or towards the farther bound);
!> - x0 outside the box, lower > upper or a NaN bound is improper input
!>   (info 0, no evaluation); lmstr takes no bounds.
!> Guarantees: every point of evaluation lies in the box; the final x is in
!> it, exactly on the bounds reported by `active`; and while no bound is
!> reached (no step cut, nothing held, no difference step turned), the
!> arithmetic is MINPACK-1's own, so x, fvec, fjac, ipvt, qtf, nfev, njev
!> and info are bit-identical to the unbounded fit. On exit fjac, ipvt and
!> qtf factor the Jacobian with the held columns set to zero.
!>
!> The iteration itself (`lm_core`) is shared with lmstr (module
!> minpack_lmrows), which plugs in its own Jacobian stage through `lm_qr_stage`;
!> `lm_core`, `lm_qr_stage` and `qr_qtb` are public for that purpose only and
!> are not re-exported by the umbrella module `minpack`.
module minpack_lm
    use, intrinsic :: iso_c_binding, only: c_ptr
    use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_positive_inf, ieee_is_nan
    use minpack_kinds, only: dp, epsmch, info_nonfinite_start, info_nonfinite_jacobian, &
        user_data
    use minpack_linalg, only: enorm, qrfac, lmpar, all_finite
    implicit none
    private

    public :: lmdif_fcn, lmdif_block_fcn, lmder_fcn
    public :: fdjac2, lmdif, lmder, lmdif1, lmder1
    public :: lm_core, lm_qr_stage, qr_qtb  ! library-internal (see above)

    abstract interface
        !> Residual callback of lmdif.
        subroutine lmdif_fcn(m, n, x, fvec, iflag, udata)
            import :: dp, c_ptr
            implicit none
            integer, intent(in) :: m
                !! number of residuals
            integer, intent(in) :: n
                !! number of variables
            real(dp), intent(in) :: x(n)
                !! point of evaluation
            real(dp), intent(inout) :: fvec(m)
                !! residuals at x (to be computed when iflag is 1 or 2)
            integer, intent(inout) :: iflag
                !! 1: residuals; 2: residuals for a difference quotient;
                !! 0: progress report only. Set negative to stop the solver.
            type(c_ptr), intent(in), value :: udata
                !! the caller's user data
        end subroutine lmdif_fcn

        !> Residual and Jacobian callback of lmder.
        !> Block residual callback: the residuals at k points at once (the
        !> columns of x), used for the n points of a difference Jacobian.
        subroutine lmdif_block_fcn(m, n, k, x, fvec, iflag, udata)
            import :: dp, c_ptr
            implicit none
            integer, intent(in) :: m
                !! number of residuals
            integer, intent(in) :: n
                !! number of variables
            integer, intent(in) :: k
                !! number of points
            real(dp), intent(in) :: x(n, k)
                !! the points, one per column
            real(dp), intent(inout) :: fvec(m, k)
                !! the residuals at each point, one column per point
            integer, intent(inout) :: iflag
                !! 2 (difference quotients). Set negative to stop the solver.
            type(c_ptr), intent(in), value :: udata
                !! the caller's user data
        end subroutine lmdif_block_fcn

        subroutine lmder_fcn(m, n, x, fvec, fjac, ldfjac, iflag, udata)
            import :: dp, c_ptr
            implicit none
            integer, intent(in) :: m
                !! number of residuals
            integer, intent(in) :: n
                !! number of variables
            integer, intent(in) :: ldfjac
                !! leading dimension of fjac
            real(dp), intent(in) :: x(n)
                !! point of evaluation
            real(dp), intent(inout) :: fvec(m)
                !! residuals at x (compute when iflag is 1; keep otherwise)
            real(dp), intent(inout) :: fjac(ldfjac, n)
                !! Jacobian at x (compute when iflag is 2; keep otherwise)
            integer, intent(inout) :: iflag
                !! 1: residuals; 2: Jacobian; 0: progress report only.
                !! Set negative to stop the solver.
            type(c_ptr), intent(in), value :: udata
                !! the caller's user data
        end subroutine lmder_fcn

        !> Jacobian stage of a driver built on lm_core other than lmdif and
        !> lmder (lmstr): from the Jacobian at x, leave R of J P = Q R in the
        !> upper triangle of r (diagonal included), P in ipvt, the column norms
        !> of J in acnorm and the first n components of Q^T fvec in qtf; or
        !> report a Jacobian that is not finite through `finite`.
        subroutine lm_qr_stage(m, n, x, fvec, r, ldr, ipvt, acnorm, qtf, wa1, wa2, &
                               finite, iflag, udata)
            import :: dp, c_ptr
            implicit none
            integer, intent(in) :: m
                !! number of residuals
            integer, intent(in) :: n
                !! number of variables
            real(dp), intent(in) :: x(n)
                !! the current point
            real(dp), intent(inout) :: fvec(m)
                !! residuals at x (to be kept)
            integer, intent(in) :: ldr
                !! leading dimension of r, at least n
            real(dp), intent(inout) :: r(ldr, n)
                !! out: R in rows and columns 1..n
            integer, intent(out) :: ipvt(n)
                !! the permutation P
            real(dp), intent(out) :: acnorm(n)
                !! Euclidean norms of the columns of J
            real(dp), intent(out) :: qtf(n)
                !! first n components of Q^T fvec
            real(dp), intent(out) :: wa1(n)
                !! work array
            real(dp), intent(out) :: wa2(n)
                !! work array
            logical, intent(out) :: finite
                !! false if the Jacobian is not finite (NaN or inf): the stage
                !! then stops before computing with it, leaving r and qtf
                !! unfinished
            integer, intent(inout) :: iflag
                !! negative on return if a callback asked to stop
            type(c_ptr), intent(in), value :: udata
                !! lm_core's udata, passed unchanged
        end subroutine lm_qr_stage
    end interface

    real(dp), parameter :: zero = 0.0_dp, one = 1.0_dp
    real(dp), parameter :: p1 = 0.1_dp, p25 = 0.25_dp, p5 = 0.5_dp
    real(dp), parameter :: p75 = 0.75_dp, p0001 = 1.0e-4_dp

contains

    !> Forward-difference approximation of the m by n Jacobian at x.
    !>
    !> MINPACK-1 `fdjac2`: column j is (f(x + h e_j) - f(x)) / h with
    !> h = sqrt(max(epsfcn, epsmch)) * |x_j| (or that step itself when x_j = 0).
    !> With `fblock` (not in MINPACK-1), the n perturbed points are evaluated
    !> in one call; the arithmetic, and so the result, is the same.
    !>
    !> With `lower` and `upper` (not in MINPACK-1; x must lie in the box), no
    !> perturbed point leaves the box: where x_j + h would pass upper_j the
    !> step is taken backwards (x_j - h), and where neither side has room for
    !> h, towards the farther bound, to it; a column with lower_j = upper_j
    !> (a fixed parameter) is set to zero without an evaluation, so the
    !> callback is called once per free column. Columns whose forward step
    !> stays in the box are computed exactly as without bounds.
    recursive subroutine fdjac2(fcn, m, n, x, fvec, fjac, ldfjac, iflag, epsfcn, wa, udata, &
                                fblock, lower, upper)
        procedure(lmdif_fcn) :: fcn
            !! the residual callback
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(inout) :: x(n)
            !! the point (perturbed during the evaluations, restored on exit)
        real(dp), intent(in) :: fvec(m)
            !! residuals at x
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac
        real(dp), intent(out) :: fjac(ldfjac, n)
            !! the approximate Jacobian
        integer, intent(inout) :: iflag
            !! passed to fcn; negative on return if fcn asked to stop
        real(dp), intent(in) :: epsfcn
            !! relative error of the residuals
        real(dp), intent(out) :: wa(m)
            !! work array
        type(c_ptr), intent(in), value :: udata
            !! passed to fcn
        procedure(lmdif_block_fcn), optional :: fblock
            !! evaluates all n perturbed points in one call
        real(dp), intent(in), optional :: lower(n)
            !! lower bounds of the box (both or neither of lower and upper)
        real(dp), intent(in), optional :: upper(n)
            !! upper bounds of the box

        integer :: i, j, k, nk
        real(dp) :: eps, h, temp, xj
        real(dp), allocatable :: xs(:, :), fs(:, :), hs(:)
        integer, allocatable :: cols(:)
        logical :: boxed

        eps = sqrt(max(epsfcn, epsmch))
        boxed = present(lower) .and. present(upper)
        if (present(fblock)) then
            allocate(xs(n, n), fs(m, n), hs(n), cols(n))
            k = 0
            do j = 1, n
                h = eps * abs(x(j))
                if (h == zero) h = eps
                xj = x(j) + h
                if (boxed) then
                    if (lower(j) == upper(j)) then
                        fjac(1:m, j) = zero
                        cycle
                    end if
                    if (xj > upper(j)) call box_step(x(j), lower(j), upper(j), h, xj)
                end if
                k = k + 1
                cols(k) = j
                hs(k) = h
                xs(:, k) = x
                xs(j, k) = xj
            end do
            nk = k
            if (nk == 0) return
            call fblock(m, n, nk, xs, fs, iflag, udata)
            if (iflag < 0) return
            do k = 1, nk
                j = cols(k)
                h = hs(k)
                do i = 1, m
                    fjac(i, j) = (fs(i, k) - fvec(i)) / h
                end do
            end do
            return
        end if
        do j = 1, n
            temp = x(j)
            h = eps * abs(temp)
            if (h == zero) h = eps
            xj = temp + h
            if (boxed) then
                if (lower(j) == upper(j)) then
                    fjac(1:m, j) = zero
                    cycle
                end if
                if (xj > upper(j)) call box_step(temp, lower(j), upper(j), h, xj)
            end if
            x(j) = xj
            call fcn(m, n, x, wa, iflag, udata)
            x(j) = temp
            if (iflag < 0) return
            do i = 1, m
                fjac(i, j) = (wa(i) - fvec(i)) / h
            end do
        end do
    end subroutine fdjac2

    !> Difference step of a parameter xj0 in [lo, hi] whose forward step
    !> xj0 + h passes hi: backwards when xj0 - h stays in the box, else
    !> towards the farther bound and onto it. On exit xj is the perturbed
    !> value and h the signed step the quotient divides by.
    pure subroutine box_step(xj0, lo, hi, h, xj)
        real(dp), intent(in) :: xj0
            !! the parameter
        real(dp), intent(in) :: lo
            !! its lower bound
        real(dp), intent(in) :: hi
            !! its upper bound (lo < hi)
        real(dp), intent(inout) :: h
            !! in: the forward step; out: the step taken
        real(dp), intent(out) :: xj
            !! the perturbed parameter, in [lo, hi]

        xj = xj0 - h
        if (xj >= lo) then
            h = -h
        else if (hi - xj0 >= xj0 - lo) then
            xj = hi
            h = hi - xj0
        else
            xj = lo
            h = lo - xj0
        end if
    end subroutine box_step

    !> Minimise the sum of squares of m nonlinear functions in n variables,
    !> with a forward-difference Jacobian (MINPACK-1 `lmdif`).
    !>
    !> info: 0 improper input; 1 relative reduction of the sum of squares at
    !> most ftol; 2 relative change of x at most xtol; 3 both; 4 cosine of
    !> the angle between fvec and the Jacobian's columns at most gtol;
    !> 5 nfev reached maxfev; 6, 7, 8 ftol, xtol, gtol too small;
    !> 10 the residuals at the starting point are not all finite (the solver
    !> stopped after that evaluation); 11 the Jacobian at x is not all finite
    !> (a difference quotient from a point where the residuals are not
    !> finite, or a user Jacobian with NaN or inf: the solver stopped at x);
    !> negative: the callback's iflag when it asked to stop. 10 and 11 are not
    !> in MINPACK-1 (see the module header).
    recursive subroutine lmdif(fcn, m, n, x, fvec, ftol, xtol, gtol, maxfev, epsfcn, &
                               diag, mode, factor, nprint, info, nfev, fjac, ldfjac, &
                               ipvt, qtf, udata, fcn_block, lower, upper, active)
        procedure(lmdif_fcn) :: fcn
            !! the residual callback
        integer, intent(in) :: m
            !! number of residuals (m >= n)
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(inout) :: x(n)
            !! in: starting point; out: final estimate
        real(dp), intent(inout) :: fvec(m)
            !! out: residuals at the final x
        real(dp), intent(in) :: ftol
            !! tolerance on the relative reduction of the sum of squares
        real(dp), intent(in) :: xtol
            !! tolerance on the relative change of x
        real(dp), intent(in) :: gtol
            !! tolerance on the orthogonality of fvec and the Jacobian
        integer, intent(in) :: maxfev
            !! maximum number of residual evaluations
        real(dp), intent(in) :: epsfcn
            !! relative error of the residuals (sets the difference step)
        real(dp), intent(inout) :: diag(n)
            !! variable scaling: input when mode = 2, output otherwise
        integer, intent(in) :: mode
            !! 1: scale from the Jacobian's column norms; 2: use diag
        real(dp), intent(in) :: factor
            !! initial step bound factor
        integer, intent(in) :: nprint
            !! call fcn with iflag = 0 every nprint iterations (0: never)
        integer, intent(out) :: info
            !! termination code
        integer, intent(out) :: nfev
            !! number of residual evaluations
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac, at least m
        real(dp), intent(out) :: fjac(ldfjac, n)
            !! out: upper triangle R of J P = Q R in rows 1..n; Householder data below
        integer, intent(out) :: ipvt(n)
            !! the permutation P
        real(dp), intent(out) :: qtf(n)
            !! first n components of Q^T fvec
        type(c_ptr), intent(in), optional :: udata
            !! passed unchanged to fcn
        procedure(lmdif_block_fcn), optional :: fcn_block
            !! if given, evaluates the n points of each difference Jacobian in
            !! one call (same iterates and nfev; not in MINPACK-1)
        real(dp), intent(in), optional :: lower(n)
            !! lower bounds on x (absent: none; -huge or -inf: none for that
            !! component); see "Bounds" in the module header
        real(dp), intent(in), optional :: upper(n)
            !! upper bounds on x (absent: none)
        integer, intent(out), optional :: active(n)
            !! on exit: -1 where x is on its lower bound (or fixed), 1 on its
            !! upper bound, 0 elsewhere and when there are no bounds

        integer :: njev

        call lm_core(m, n, x, fvec, fjac, ldfjac, ftol, xtol, gtol, maxfev, epsfcn, &
                     diag, mode, factor, nprint, info, nfev, njev, ipvt, qtf, &
                     user_data(udata), fdif=fcn, fblk=fcn_block, lower=lower, &
                     upper=upper, active=active)
    end subroutine lmdif

    !> Minimise the sum of squares of m nonlinear functions in n variables,
    !> with a Jacobian supplied by the callback (MINPACK-1 `lmder`).
    !>
    !> Arguments as in lmdif, without epsfcn, plus njev (Jacobian
    !> evaluations). On exit fjac holds R and the Householder data as in lmdif.
    recursive subroutine lmder(fcn, m, n, x, fvec, fjac, ldfjac, ftol, xtol, gtol, &
                               maxfev, diag, mode, factor, nprint, info, nfev, njev, &
                               ipvt, qtf, udata, lower, upper, active)
        procedure(lmder_fcn) :: fcn
            !! the residual and Jacobian callback
        integer, intent(in) :: m
            !! number of residuals (m >= n)
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(inout) :: x(n)
            !! in: starting point; out: final estimate
        real(dp), intent(inout) :: fvec(m)
            !! out: residuals at the final x
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac, at least m
        real(dp), intent(out) :: fjac(ldfjac, n)
            !! out: R and Householder data, as in lmdif
        real(dp), intent(in) :: ftol
            !! tolerance on the relative reduction of the sum of squares
        real(dp), intent(in) :: xtol
            !! tolerance on the relative change of x
        real(dp), intent(in) :: gtol
            !! tolerance on the orthogonality of fvec and the Jacobian
        integer, intent(in) :: maxfev
            !! maximum number of residual evaluations
        real(dp), intent(inout) :: diag(n)
            !! variable scaling: input when mode = 2, output otherwise
        integer, intent(in) :: mode
            !! 1: scale from the Jacobian's column norms; 2: use diag
        real(dp), intent(in) :: factor
            !! initial step bound factor
        integer, intent(in) :: nprint
            !! call fcn with iflag = 0 every nprint iterations (0: never)
        integer, intent(out) :: info
            !! termination code (see lmdif)
        integer, intent(out) :: nfev
            !! number of residual evaluations
        integer, intent(out) :: njev
            !! number of Jacobian evaluations
        integer, intent(out) :: ipvt(n)
            !! the permutation P
        real(dp), intent(out) :: qtf(n)
            !! first n components of Q^T fvec
        type(c_ptr), intent(in), optional :: udata
            !! passed unchanged to fcn
        real(dp), intent(in), optional :: lower(n)
            !! lower bounds on x, as in lmdif
        real(dp), intent(in), optional :: upper(n)
            !! upper bounds on x, as in lmdif
        integer, intent(out), optional :: active(n)
            !! on exit: which parameters are on a bound, as in lmdif

        call lm_core(m, n, x, fvec, fjac, ldfjac, ftol, xtol, gtol, maxfev, zero, &
                     diag, mode, factor, nprint, info, nfev, njev, ipvt, qtf, &
                     user_data(udata), fder=fcn, lower=lower, upper=upper, active=active)
    end subroutine lmder

    !> Simplified lmdif (MINPACK-1 `lmdif1`): ftol = xtol = tol, gtol = 0,
    !> maxfev = 200 (n + 1), epsfcn = 0, mode = 1, factor = 100; info 8 is
    !> reported as 4.
    recursive subroutine lmdif1(fcn, m, n, x, fvec, tol, info, udata)
        procedure(lmdif_fcn) :: fcn
            !! the residual callback
        integer, intent(in) :: m
            !! number of residuals (m >= n)
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(inout) :: x(n)
            !! in: starting point; out: final estimate
        real(dp), intent(out) :: fvec(m)
            !! residuals at the final x
        real(dp), intent(in) :: tol
            !! tolerance (ftol and xtol)
        integer, intent(out) :: info
            !! termination code (see lmdif)
        type(c_ptr), intent(in), optional :: udata
            !! passed unchanged to fcn

        real(dp), allocatable :: diag(:), fjac(:, :), qtf(:)
        integer, allocatable :: ipvt(:)
        integer :: nfev

        info = 0
        if (n <= 0 .or. m < n .or. tol < zero) return
        allocate(diag(n), fjac(m, n), qtf(n), ipvt(n))
        call lmdif(fcn, m, n, x, fvec, tol, tol, zero, 200 * (n + 1), zero, diag, 1, &
                   100.0_dp, 0, info, nfev, fjac, m, ipvt, qtf, user_data(udata))
        if (info == 8) info = 4
    end subroutine lmdif1

    !> Simplified lmder (MINPACK-1 `lmder1`): ftol = xtol = tol, gtol = 0,
    !> maxfev = 100 (n + 1), mode = 1, factor = 100; info 8 is reported as 4.
    recursive subroutine lmder1(fcn, m, n, x, fvec, fjac, ldfjac, tol, info, ipvt, udata)
        procedure(lmder_fcn) :: fcn
            !! the residual and Jacobian callback
        integer, intent(in) :: m
            !! number of residuals (m >= n)
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(inout) :: x(n)
            !! in: starting point; out: final estimate
        real(dp), intent(out) :: fvec(m)
            !! residuals at the final x
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac, at least m
        real(dp), intent(out) :: fjac(ldfjac, n)
            !! out: R and Householder data, as in lmder
        real(dp), intent(in) :: tol
            !! tolerance (ftol and xtol)
        integer, intent(out) :: info
            !! termination code (see lmdif)
        integer, intent(out) :: ipvt(n)
            !! the permutation P
        type(c_ptr), intent(in), optional :: udata
            !! passed unchanged to fcn

        real(dp), allocatable :: diag(:), qtf(:)
        integer :: nfev, njev

        info = 0
        if (n <= 0 .or. m < n .or. ldfjac < m .or. tol < zero) return
        allocate(diag(n), qtf(n))
        call lmder(fcn, m, n, x, fvec, fjac, ldfjac, tol, tol, zero, 100 * (n + 1), &
                   diag, 1, 100.0_dp, 0, info, nfev, njev, ipvt, qtf, user_data(udata))
        if (info == 8) info = 4
    end subroutine lmder1

    !> Overwrite b (length m) by Q^T b, where qrfac left the Householder
    !> vectors of Q in the lower trapezoid of a and R's diagonal in rdiag, and
    !> put rdiag on the diagonal of a, so that a's upper triangle is R.
    !>
    !> The step after qrfac in MINPACK-1's lmdif/lmder (on fvec) and lmstr (on
    !> qtf, when R is refactored).
    pure subroutine qr_qtb(m, n, a, lda, rdiag, b)
        integer, intent(in) :: m
            !! number of rows of a
        integer, intent(in) :: n
            !! number of columns of a
        integer, intent(in) :: lda
            !! leading dimension of a
        real(dp), intent(inout) :: a(lda, n)
            !! qrfac's output; on exit its diagonal is rdiag
        real(dp), intent(in) :: rdiag(n)
            !! qrfac's rdiag
        real(dp), intent(inout) :: b(m)
            !! in: b; out: Q^T b

        integer :: i, j
        real(dp) :: s, temp

        do j = 1, n
            if (a(j, j) /= zero) then
                s = zero
                do i = j, m
                    s = s + a(i, j) * b(i)
                end do
                temp = -s / a(j, j)
                do i = j, m
                    b(i) = b(i) + a(i, j) * temp
                end do
            end if
            a(j, j) = rdiag(j)
        end do
    end subroutine qr_qtb

    !> The Levenberg-Marquardt iteration shared by lmdif, lmder and lmstr
    !> (MINPACK-1 user guide, chapter 2; Moré 1978); arguments as in lmdif.
    !>
    !> Exactly one of fdif and fder is present. With fder, the Jacobian comes
    !> from fder (lmder). With fdif alone, it is a forward difference (lmdif).
    !> With fdif and fqr, fdif only evaluates residuals (iflag 1) and reports
    !> progress (iflag 0), and fqr is the whole Jacobian and QR stage (lmstr:
    !> progress is then reported before the Jacobian, as in MINPACK-1, and fjac
    !> need only have n rows). Everything else is the same for all three.
    recursive subroutine lm_core(m, n, x, fvec, fjac, ldfjac, ftol, xtol, gtol, maxfev, &
                                 epsfcn, diag, mode, factor, nprint, info, nfev, njev, &
                                 ipvt, qtf, udata, fdif, fder, fqr, fblk, lower, upper, &
                                 active)
        integer, intent(in) :: m, n, ldfjac, maxfev, mode, nprint
        real(dp), intent(inout) :: x(n), fvec(m), diag(n)
        real(dp), intent(out) :: fjac(ldfjac, n), qtf(n)
        real(dp), intent(in) :: ftol, xtol, gtol, epsfcn, factor
        integer, intent(out) :: info, nfev, njev, ipvt(n)
        type(c_ptr), intent(in), value :: udata
        procedure(lmdif_fcn), optional :: fdif
        procedure(lmder_fcn), optional :: fder
        procedure(lm_qr_stage), optional :: fqr
            !! Jacobian and QR stage replacing fdjac2/fder and qrfac (lmstr)
        procedure(lmdif_block_fcn), optional :: fblk
            !! with fdif: evaluates a difference Jacobian's points in one call
        real(dp), intent(in), optional :: lower(n)
            !! lower bounds (absent: -inf); with fdif or fder only
        real(dp), intent(in), optional :: upper(n)
            !! upper bounds (absent: +inf)
        integer, intent(out), optional :: active(n)
            !! on exit: -1 where x is on its lower bound, 1 on its upper, 0 else

        real(dp), allocatable :: wa1(:), wa2(:), wa3(:), wa4(:), lb(:), ub(:)
        logical, allocatable :: held(:)
        integer :: i, iflag, iter, j, l, ldmin, nfree, pending
        logical :: bounded, boxok, changed, cut, jfinite
        real(dp) :: actred, delta, dirder, fnorm, fnorm1, gnorm, par, pfull, pnorm, &
                    prered, ratio, s, temp, temp1, temp2, xnorm

        info = 0
        iflag = 0
        nfev = 0
        njev = 0
        delta = zero
        xnorm = zero
        bounded = present(lower) .or. present(upper)
        cut = .false.
        boxok = .false.
        changed = .false.
        pending = 0
        nfree = n

        main: block
            ! check the input
            ldmin = m
            if (present(fqr)) ldmin = n
            if (n <= 0 .or. m < n .or. ldfjac < ldmin .or. ftol < zero .or. xtol < zero &
                .or. gtol < zero .or. maxfev <= 0 .or. factor <= zero) exit main
            if (mode == 2) then
                do j = 1, n
                    if (.not. (diag(j) > zero)) exit main
                end do
            end if
            if (bounded) then
                ! the box: every lower <= upper (no NaN), x0 inside it (not
                ! in MINPACK-1); lmstr's row-wise stage takes no bounds
                if (present(fqr)) exit main
                allocate(lb(n), ub(n), held(n))
                lb = -huge(one)
                ub = huge(one)
                if (present(lower)) lb = lower
                if (present(upper)) ub = upper
                held = .false.
                do j = 1, n
                    ! (NaN first: an ordered comparison with NaN would raise
                    ! the invalid-operation flag)
                    if (ieee_is_nan(lb(j)) .or. ieee_is_nan(ub(j)) .or. ieee_is_nan(x(j))) &
                        exit main
                    if (.not. (lb(j) <= ub(j))) exit main
                    if (.not. (lb(j) <= x(j) .and. x(j) <= ub(j))) exit main
                end do
                nfree = count(lb < ub)
                boxok = .true.
            end if
            allocate(wa1(n), wa2(n), wa3(n), wa4(m))

            ! residuals at the starting point; no fit can start where they
            ! are not finite (not in MINPACK-1)
            iflag = 1
            call evaluate(x, fvec)
            nfev = 1
            if (iflag < 0) exit main
            if (.not. all_finite(m, fvec)) then
                info = info_nonfinite_start
                exit main
            end if
            fnorm = enorm(m, fvec)

            par = zero
            iter = 1
            outer: do
                if (present(fqr)) then
                    ! progress report, then the Jacobian folded into R and qtf
                    call progress()
                    if (iflag < 0) exit main
                    iflag = 2
                    call fqr(m, n, x, fvec, fjac, ldfjac, ipvt, wa2, qtf, wa1, wa3, jfinite, &
                             iflag, udata)
                    if (iflag < 0) exit main
                    njev = njev + 1
                    if (.not. jfinite) then
                        info = info_nonfinite_jacobian
                        exit main
                    end if
                else
                    ! Jacobian
                    iflag = 2
                    if (present(fdif)) then
                        call fdjac2(fdif, m, n, x, fvec, fjac, ldfjac, iflag, epsfcn, wa4, &
                                    udata, fblk, lb, ub)
                        nfev = nfev + nfree
                    else
                        call fder(m, n, x, fvec, fjac, ldfjac, iflag, udata)
                        njev = njev + 1
                    end if
                    if (iflag < 0) exit main
                    do j = 1, n
                        if (.not. all_finite(m, fjac(1:m, j))) then
                            info = info_nonfinite_jacobian
                            exit main
                        end if
                    end do

                    ! bounds: hold the parameters that the gradient pushes
                    ! out of the box (not in MINPACK-1)
                    if (bounded) call hold()

                    call progress()
                    if (iflag < 0) exit main

                    ! QR factorisation of the Jacobian
                    call qrfac(m, n, fjac, ldfjac, .true., ipvt, wa1, wa2, wa3)
                end if

                ! on the first iteration, scale and set the initial step bound
                if (iter == 1) then
                    if (mode /= 2) then
                        do j = 1, n
                            diag(j) = wa2(j)
                            if (wa2(j) == zero) diag(j) = one
                        end do
                    end if
                    do j = 1, n
                        wa3(j) = diag(j) * x(j)
                    end do
                    xnorm = enorm(n, wa3)
                    delta = factor * xnorm
                    if (delta == zero) delta = factor
                end if

                ! Q^T fvec; its first n components go to qtf (fqr has done this)
                if (.not. present(fqr)) then
                    do i = 1, m
                        wa4(i) = fvec(i)
                    end do
                    call qr_qtb(m, n, fjac, ldfjac, wa1, wa4)
                    do j = 1, n
                        qtf(j) = wa4(j)
                    end do
                end if

                ! norm of the scaled gradient
                gnorm = zero
                if (fnorm /= zero) then
                    do j = 1, n
                        l = ipvt(j)
                        if (wa2(l) /= zero) then
                            s = zero
                            do i = 1, j
                                s = s + fjac(i, j) * (qtf(i) / fnorm)
                            end do
                            ! max(gnorm, |.|) that keeps a NaN (Fortran's max
                            ! may drop it): residuals and Jacobian are finite
                            ! here, but should this quotient still be NaN
                            ! (inf / inf), it must not pass as a zero gradient
                            ! (info 4)
                            temp = abs(s / wa2(l))
                            if (.not. (temp <= gnorm)) gnorm = temp
                        end if
                    end do
                end if
                if (gnorm <= gtol) info = 4
                ! bounds: a convergence found at the end of the last step
                ! stands if the parameters held then are still the ones to
                ! hold here; if not, the fit goes on with the new set
                if (pending /= 0 .and. info == 0 .and. .not. changed) info = pending
                pending = 0
                if (info /= 0) exit main

                if (mode /= 2) then
                    do j = 1, n
                        diag(j) = max(diag(j), wa2(j))
                    end do
                end if

                inner: do
                    ! Levenberg-Marquardt parameter and step
                    call lmpar(n, fjac, ldfjac, ipvt, diag, qtf, delta, par, wa1, wa2, &
                               wa3, wa4)
                    do j = 1, n
                        wa1(j) = -wa1(j)
                        wa2(j) = x(j) + wa1(j)
                        wa3(j) = diag(j) * wa1(j)
                    end do
                    pnorm = enorm(n, wa3)
                    pfull = pnorm
                    if (iter == 1) delta = min(delta, pnorm)

                    ! bounds: keep the step in the box (not in MINPACK-1);
                    ! cut tells whether it changed the step
                    if (bounded) call clip_step()

                    if (cut .and. pnorm == zero) then
                        ! every component pushed a parameter on its bound out
                        ! of the box: no trial point, a failed step
                        fnorm1 = fnorm
                    else
                        iflag = 1
                        call evaluate(wa2, wa4)
                        nfev = nfev + 1
                        if (iflag < 0) exit main
                        if (all_finite(m, wa4)) then
                            fnorm1 = enorm(m, wa4)
                        else
                            ! not in MINPACK-1: residuals that are not finite
                            ! give an infinite sum of squares, so the step
                            ! fails below (actred = -1, the step bound cut
                            ! tenfold) and is never accepted
                            fnorm1 = ieee_value(one, ieee_positive_inf)
                        end if
                    end if

                    ! actual and predicted relative reductions, directional derivative
                    actred = -one
                    if (p1 * fnorm1 < fnorm) actred = one - (fnorm1 / fnorm)**2
                    do j = 1, n
                        wa3(j) = zero
                        l = ipvt(j)
                        temp = wa1(l)
                        do i = 1, j
                            wa3(i) = wa3(i) + fjac(i, j) * temp
                        end do
                    end do
                    temp1 = enorm(n, wa3) / fnorm
                    if (.not. cut) then
                        temp2 = (sqrt(par) * pnorm) / fnorm
                        prered = temp1**2 + temp2**2 / p5
                        dirder = -(temp1**2 + temp2**2)
                        ratio = zero
                        if (prered /= zero) ratio = actred / prered
                    else
                        ! the step s was cut or projected onto the box: the
                        ! model's reduction for s itself, with wa3 = R P^T s
                        ! and Q^T J s = (wa3, 0): ||f||^2 - ||f + J s||^2 =
                        ! -2 qtf.wa3 - ||wa3||^2 (relative to ||f||^2), and
                        ! the directional derivative f^T J s / ||f||^2; the
                        ! step bound is then updated from the full LM step
                        dirder = zero
                        do j = 1, n
                            dirder = dirder + (qtf(j) / fnorm) * (wa3(j) / fnorm)
                        end do
                        prered = -2 * dirder - temp1**2
                        ratio = zero
                        if (prered > zero) ratio = actred / prered
                        pnorm = pfull
                    end if

                    ! update the step bound
                    if (ratio <= p25) then
                        if (actred >= zero) then
                            temp = p5
                        else
                            temp = p5 * dirder / (dirder + p5 * actred)
                        end if
                        if (p1 * fnorm1 >= fnorm .or. temp < p1) temp = p1
                        delta = temp * min(delta, pnorm / p1)
                        par = par / temp
                    else if (par == zero .or. ratio >= p75) then
                        delta = pnorm / p5
                        par = p5 * par
                    end if

                    ! accept a successful step
                    if (ratio >= p0001) then
                        do j = 1, n
                            x(j) = wa2(j)
                            wa2(j) = diag(j) * x(j)
                        end do
                        do i = 1, m
                            fvec(i) = wa4(i)
                        end do
                        xnorm = enorm(n, wa2)
                        fnorm = fnorm1
                        iter = iter + 1
                    end if

                    ! convergence (a step cut short by a bound says nothing
                    ! about the reduction still possible: no ftol test then)
                    if (abs(actred) <= ftol .and. prered <= ftol .and. p5 * ratio <= one &
                        .and. .not. cut) info = 1
                    if (delta <= xtol * xnorm) info = 2
                    if (abs(actred) <= ftol .and. prered <= ftol .and. p5 * ratio <= one &
                        .and. info == 2 .and. .not. cut) info = 3
                    if (info /= 0 .and. bounded .and. ratio >= p0001) then
                        ! bounds: x moved while parameters were held, and the
                        ! gradient at the new x may release some; decide on
                        ! the Jacobian there (one more Jacobian evaluation)
                        if (any(held .and. lb < ub)) then
                            pending = info
                            info = 0
                        end if
                    end if
                    if (info /= 0) exit main

                    ! tolerances too small, or out of evaluations
                    if (nfev >= maxfev) info = 5
                    if (abs(actred) <= epsmch .and. prered <= epsmch .and. p5 * ratio <= one &
                        .and. .not. cut) info = 6
                    if (delta <= epsmch * xnorm) info = 7
                    if (gnorm <= epsmch) info = 8
                    if (info /= 0) exit main

                    if (ratio >= p0001) exit inner
                end do inner
            end do outer
        end block main

        if (iflag < 0) info = iflag
        iflag = 0
        if (nprint > 0) call report()
        if (present(active)) then
            active = 0
            if (boxok) then
                where (x <= lb) active = -1
                where (x >= ub .and. lb < ub) active = 1
            end if
        end if

    contains

        !> Hold each parameter that sits on a bound while the gradient of
        !> the sum of squares, g_j = (J^T f)_j, points out of the box (g_j > 0
        !> on the lower bound, g_j < 0 on the upper), and each fixed one
        !> (lower = upper): zero its column of the Jacobian, so that qrfac,
        !> lmpar and the scaling see a problem without it (its step is zero).
        subroutine hold()
            real(dp) :: g
            logical :: before

            changed = .false.
            do j = 1, n
                before = held(j)
                held(j) = .false.
                if (lb(j) == ub(j)) then
                    held(j) = .true.
                else if (x(j) == lb(j) .or. x(j) == ub(j)) then
                    g = zero
                    do i = 1, m
                        g = g + fjac(i, j) * fvec(i)
                    end do
                    held(j) = (x(j) == lb(j) .and. g > zero) .or. (x(j) == ub(j) .and. g < zero)
                end if
                if (held(j)) fjac(1:m, j) = zero
                if (held(j) .neqv. before) changed = .true.
            end do
        end subroutine hold

        !> Keep the trial point wa2 = x + wa1 in the box. Components that
        !> push a parameter on a bound outwards are zeroed; then the step is
        !> scaled by the largest alpha <= 1 that keeps every parameter in the
        !> box, the parameter that sets alpha is put on its bound, and any
        !> within rounding of a bound is put on it. Sets cut when the step
        !> changed (then wa1 is the step taken, wa2 = x + wa1, pnorm its
        !> scaled norm); otherwise wa1, wa2, wa3 and pnorm are left as they are.
        subroutine clip_step()
            real(dp) :: alpha, t, tol
            integer :: jlim
            logical :: scaled

            cut = .false.
            do j = 1, n
                if ((wa1(j) < zero .and. x(j) <= lb(j)) .or. &
                    (wa1(j) > zero .and. x(j) >= ub(j))) then
                    wa1(j) = zero
                    cut = .true.
                end if
            end do
            alpha = one
            jlim = 0
            do j = 1, n
                if (x(j) + wa1(j) > ub(j)) then
                    t = (ub(j) - x(j)) / wa1(j)
                else if (x(j) + wa1(j) < lb(j)) then
                    t = (lb(j) - x(j)) / wa1(j)
                else
                    cycle
                end if
                if (t < alpha) then
                    alpha = t
                    jlim = j
                end if
            end do
            if (jlim /= 0) cut = .true.
            scaled = cut
            do j = 1, n
                ! x + alpha wa1 carries a rounding error up to a few ulps of
                ! |x| + |alpha wa1|: a value within that of a bound (or past
                ! it) is put on the bound and, on a cut step, one within that
                ! of zero (a cancellation) on zero, where the difference step
                ! is not lost in the noise of x
                if (scaled) wa2(j) = x(j) + alpha * wa1(j)
                tol = 4 * epsmch * (abs(x(j)) + abs(alpha * wa1(j)))
                if (j == jlim) then
                    if (wa1(j) > zero) then
                        wa2(j) = ub(j)
                    else
                        wa2(j) = lb(j)
                    end if
                else if (wa2(j) >= ub(j) - tol) then
                    if (wa2(j) /= ub(j)) cut = .true.
                    wa2(j) = ub(j)
                else if (wa2(j) <= lb(j) + tol) then
                    if (wa2(j) /= lb(j)) cut = .true.
                    wa2(j) = lb(j)
                else if (scaled .and. abs(wa2(j)) <= tol .and. lb(j) <= zero &
                         .and. zero <= ub(j)) then
                    wa2(j) = zero
                end if
            end do
            if (.not. cut) return
            do j = 1, n
                wa1(j) = wa2(j) - x(j)
                wa3(j) = diag(j) * wa1(j)
            end do
            pnorm = enorm(n, wa3)
            ! a component below the rounding of the step as a whole (lmpar's
            ! solution is accurate to about epsmch * pnorm in the scaled
            ! variables) is noise: it is dropped, so that a parameter does
            ! not drift to a value such as 1e-24, where the forward
            ! difference step epsfcn |x| is lost in the residuals' rounding
            do j = 1, n
                if (wa1(j) /= zero .and. abs(wa3(j)) <= epsmch * pnorm) then
                    wa1(j) = zero
                    wa2(j) = x(j)
                    wa3(j) = zero
                end if
            end do
        end subroutine clip_step

        !> Residuals at xx into f (iflag = 1), through whichever callback we have.
        subroutine evaluate(xx, f)
            real(dp), intent(in) :: xx(n)
            real(dp), intent(inout) :: f(m)

            if (present(fdif)) then
                call fdif(m, n, xx, f, iflag, udata)
            else
                call fder(m, n, xx, f, fjac, ldfjac, iflag, udata)
            end if
        end subroutine evaluate

        !> Every nprint iterations (if nprint > 0): report with iflag = 0.
        subroutine progress()
            if (nprint > 0) then
                iflag = 0
                if (mod(iter - 1, nprint) == 0) call report()
            end if
        end subroutine progress

        !> Progress hook: the callback with iflag = 0.
        subroutine report()
            if (present(fdif)) then
                call fdif(m, n, x, fvec, iflag, udata)
            else
                call fder(m, n, x, fvec, fjac, ldfjac, iflag, udata)
            end if
        end subroutine report

    end subroutine lm_core

end module minpack_lm
