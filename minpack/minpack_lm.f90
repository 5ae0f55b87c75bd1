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
!> - the iteration is a state object stepped by reverse communication (see
!>   below); a fit stopped before its first Jacobian returns fjac (rows
!>   1..m), ipvt and qtf as zeros (MINPACK-1 left them as they were);
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
!> Reverse communication. The iteration is a state object and a step
!> routine: `type(lm_state)` holds the whole fit (the inputs, x, fvec, the
!> Jacobian and its factors, every work array, the counters and the point
!> the iteration has reached), and `lm_step` advances it until it needs
!> something from its caller, then returns with a request in `st%task`, as
!> MINPACK-2's task strings and ARPACK's ido do. The caller answers the
!> request in the state's arrays and calls `lm_step` again:
!>
!>     call lm_init(st, m, n, x, ftol, xtol, gtol, maxfev, epsfcn, mode, &
!>                  factor, nprint, jac=lm_jac_difference)
!>     do
!>         call lm_step(st)
!>         select case (st%task)
!>         case (lm_task_fvec)    ! st%ft = f(st%xt)
!>         case (lm_task_fdiff)   ! st%fjac(1:m, k) = f(st%xd(:, k)), k = 1..st%ncol
!>         case (lm_task_fjac)    ! st%fjac(1:m, 1:n) = J(st%x)  (jac=lm_jac_user)
!>         case (lm_task_report)  ! progress: st%x, st%fvec (nothing to compute)
!>         case default           ! lm_task_done: st%info, st%x, st%fvec, ...
!>             exit
!>         end select
!>     end do
!>
!> - lm_task_fvec (1): the residuals at the point st%xt (n) into st%ft (m):
!>   the starting point first, then each trial point; MINPACK's callback
!>   with iflag = 1.
!> - lm_task_fdiff (3, with jac = lm_jac_difference): the residuals at the
!>   st%ncol points of a forward-difference Jacobian, the columns of
!>   st%xd(1:n, 1:ncol), into the columns 1..ncol of st%fjac (rows 1..m),
!>   in any order, one by one or all at once (a vectorised caller evaluates
!>   the block in one call); MINPACK's iflag = 2. lm_step turns them into
!>   difference quotients. ncol is n less the fixed parameters.
!> - lm_task_fjac (2, with jac = lm_jac_user): the Jacobian at st%x into
!>   st%fjac(1:m, 1:n) (st%fvec holds the residuals there); iflag = 2.
!> - lm_task_report (0): every nprint iterations and once at the end when
!>   nprint > 0 (MINPACK's iflag = 0 call): st%x and st%fvec are current.
!> - lm_task_done (-1): st%info is set (the codes of lmdif); the results
!>   are st%x, st%fvec, st%fjac, st%ipvt, st%qtf, st%diag, st%nfev, st%njev;
!>   `lm_active` gives the bound mask. Further calls keep returning done.
!> Before each request st%iflag holds the iflag MINPACK would pass (1, 2 or
!> 0); a caller that wants the solver to stop sets it negative before the
!> next lm_step, as a callback does, and the fit ends with info = iflag
!> (after the final report if nprint > 0). Nothing else in the state is the
!> caller's to change. The sequence of requests, and every bit of the
!> results, are those of the callback drivers, so the same problem gives the
!> same fit whichever way it is driven: lmdif, lmder and lmstr are such
!> loops, over lm_advance, the work of lm_step, which takes every array as
!> an argument. lm_step hands it the state's arrays; the drivers hand it
!> their caller's x, fvec, fjac, diag, ipvt and qtf and the work arrays of
!> MINPACK-1's drivers (lm_work), with the scalars and the box in a state
!> started by lm_setup (lm_init without the arrays). So a driver's fit
!> works in place, with MINPACK-1's memory, copying nothing in or out, and
!> the iteration is written once.
!>
!> The state is plain data: allocatable components and scalars, no
!> pointers, no procedures, nothing of the caller's. A state may be copied
!> or moved (intrinsic assignment, move_alloc of an array of states) between
!> steps and stepped on from another thread; K states in one array may be
!> advanced in any order, each by one thread at a time.
!>
!> lmstr (module minpack_lmrows) is such a loop too, with jac = lm_jac_rows:
!> its lm_task_fjac asks for the whole Jacobian stage (R folded row by row
!> into fjac, ipvt, the column norms in xt, qtf, st%jfinite), which lmstr
!> answers itself. lm_jac_rows, qr_qtb, lm_setup, lm_work and lm_advance
!> are public for these drivers only, and lm_results (a state's results
!> copied out as a driver returns them) for the library's own loops over
!> lm_step; none is re-exported by the umbrella module `minpack`.
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
    public :: lm_state, lm_init, lm_step, lm_active
    public :: lm_task_done, lm_task_report, lm_task_fvec, lm_task_fjac, lm_task_fdiff
    public :: lm_jac_difference, lm_jac_user
    public :: lm_jac_rows, lm_results, qr_qtb  ! library-internal (see above)
    public :: lm_setup, lm_work, lm_advance      ! library-internal (see above)

    !> Requests of lm_step (st%task); see "Reverse communication" above.
    integer, parameter :: lm_task_done = -1, lm_task_report = 0, lm_task_fvec = 1, &
                          lm_task_fjac = 2, lm_task_fdiff = 3
    !> Where the Jacobian comes from (lm_init's jac): forward differences
    !> (lmdif), the caller (lmder), lmstr's row-wise stage.
    integer, parameter :: lm_jac_difference = 1, lm_jac_user = 2, lm_jac_rows = 3

    !> Points lm_step resumes from (st%stage).
    integer, parameter :: stage_start = 1, stage_start_done = 2, stage_outer = 3, &
                          stage_rows_jac = 4, stage_rows_done = 5, stage_jac_done = 6, &
                          stage_qr = 7, stage_scale = 8, stage_inner = 9, &
                          stage_trial_done = 10, stage_ratio = 11, stage_finish = 12, &
                          stage_done = 13

    !> The whole state of one Levenberg-Marquardt fit (lm_init, lm_step).
    !> Components the caller reads or answers in are listed first.
    type :: lm_state
        integer :: task = lm_task_done
            !! the request lm_step returned with
        integer :: iflag = 0
            !! MINPACK's iflag for the request; set negative to stop the fit
        integer :: info = 0
            !! termination code, once task is lm_task_done (as in lmdif)
        integer :: nfev = 0
            !! residual evaluations so far (difference points included)
        integer :: njev = 0
            !! Jacobian requests so far (lm_jac_user, lm_jac_rows)
        integer :: m = 0
            !! number of residuals
        integer :: n = 0
            !! number of variables
        integer :: ldfjac = 0
            !! leading dimension of fjac
        integer :: ncol = 0
            !! lm_task_fdiff: the number of points, columns of xd
        real(dp), allocatable :: x(:)
            !! the current iterate (n)
        real(dp), allocatable :: fvec(:)
            !! the residuals at x (m)
        real(dp), allocatable :: fjac(:, :)
            !! the Jacobian, then R and the Householder vectors (ldfjac, n)
        real(dp), allocatable :: xt(:)
            !! lm_task_fvec: the point (MINPACK's wa2; work array otherwise)
        real(dp), allocatable :: ft(:)
            !! lm_task_fvec: its residuals (MINPACK's wa4; work array otherwise)
        real(dp), allocatable :: xd(:, :)
            !! lm_task_fdiff: the points, one per column (n, n)
        real(dp), allocatable :: diag(:)
            !! the variable scaling (n)
        real(dp), allocatable :: qtf(:)
            !! first n components of Q^T fvec (n)
        integer, allocatable :: ipvt(:)
            !! the column permutation of the QR factorisation (n)
        logical :: jfinite = .true.
            !! lm_jac_rows: false if the stage met a Jacobian row not finite

        ! inputs (lm_init)
        integer :: jac = lm_jac_difference
        integer :: maxfev = 0, mode = 1, nprint = 0
        real(dp) :: ftol = 0, xtol = 0, gtol = 0, epsfcn = 0, factor = 0
        ! the iteration
        integer :: stage = stage_done
        integer :: iter = 0, nfree = 0, pending = 0
        logical :: bounded = .false., boxok = .false., changed = .false., cut = .false.
        logical :: proper = .false.
        real(dp) :: actred = 0, delta = 0, dirder = 0, fnorm = 0, fnorm1 = 0, gnorm = 0
        real(dp) :: par = 0, pfull = 0, pnorm = 0, prered = 0, ratio = 0, xnorm = 0
        real(dp), allocatable :: wa1(:), wa3(:)
            !! work arrays (n)
        real(dp), allocatable :: lb(:), ub(:)
            !! the box (bounded only)
        logical, allocatable :: held(:)
            !! parameters held on a bound in this iteration (bounded only)
    end type lm_state

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
                if (boxed) then
                    if (lower(j) == upper(j)) then
                        fjac(1:m, j) = zero
                        cycle
                    end if
                    call diff_step(x(j), eps, h, xj, lower(j), upper(j))
                else
                    call diff_step(x(j), eps, h, xj)
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
            if (boxed) then
                if (lower(j) == upper(j)) then
                    fjac(1:m, j) = zero
                    cycle
                end if
                call diff_step(temp, eps, h, xj, lower(j), upper(j))
            else
                call diff_step(temp, eps, h, xj)
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


    !> The forward-difference step of a parameter (MINPACK-1's fdjac2 rule):
    !> h = eps |xj0|, or eps when xj0 = 0, and the point xj0 + h; with a box
    !> [lo, hi] (lo < hi), turned by box_step where xj0 + h would pass hi.
    pure subroutine diff_step(xj0, eps, h, xj, lo, hi)
        real(dp), intent(in) :: xj0
            !! the parameter
        real(dp), intent(in) :: eps
            !! sqrt(max(epsfcn, epsmch))
        real(dp), intent(out) :: h
            !! the signed step the quotient divides by
        real(dp), intent(out) :: xj
            !! the perturbed parameter
        real(dp), intent(in), optional :: lo
            !! lower bound (with hi, or neither)
        real(dp), intent(in), optional :: hi
            !! upper bound

        h = eps * abs(xj0)
        if (h == zero) h = eps
        xj = xj0 + h
        if (present(hi)) then
            if (xj > hi) call box_step(xj0, lo, hi, h, xj)
        end if
    end subroutine diff_step

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

        type(lm_state) :: st
        type(c_ptr) :: ud
        real(dp), allocatable :: xt(:), ft(:), wa1(:), wa3(:), xd(:, :)
        integer :: k

        ! a loop over lm_advance on the caller's arrays, answering its
        ! requests with the callbacks; the state holds the scalars and the box
        ud = user_data(udata)
        call lm_setup(st, m, n, x, ftol, xtol, gtol, maxfev, epsfcn, mode, factor, nprint, &
                      jac=lm_jac_difference, diag=diag, ldfjac=ldfjac, lower=lower, upper=upper)
        call lm_work(st, fvec, fjac, ipvt, qtf, xt, ft, wa1, wa3, xd)
        do
            call lm_advance(st, m, n, ldfjac, x, fvec, fjac, diag, qtf, ipvt, xt, ft, wa1, &
                            wa3, xd, st%lb, st%ub, st%held)
            select case (st%task)
            case (lm_task_fvec)
                call fcn(m, n, xt, ft, st%iflag, ud)
            case (lm_task_fdiff)
                if (present(fcn_block)) then
                    call fcn_block(m, n, st%ncol, xd, fjac(1:m, 1:st%ncol), st%iflag, ud)
                else
                    do k = 1, st%ncol
                        call fcn(m, n, xd(:, k), fjac(:, k), st%iflag, ud)
                        if (st%iflag < 0) exit
                    end do
                end if
            case (lm_task_report)
                call fcn(m, n, x, fvec, st%iflag, ud)
            case default
                exit
            end select
        end do
        info = st%info
        nfev = st%nfev
        if (present(active)) call box_active(st, n, x, active)
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

        type(lm_state) :: st
        type(c_ptr) :: ud
        real(dp), allocatable :: xt(:), ft(:), wa1(:), wa3(:), xd(:, :)

        ! a loop over lm_advance on the caller's arrays, answering its
        ! requests with the callback
        ud = user_data(udata)
        call lm_setup(st, m, n, x, ftol, xtol, gtol, maxfev, zero, mode, factor, nprint, &
                      jac=lm_jac_user, diag=diag, ldfjac=ldfjac, lower=lower, upper=upper)
        call lm_work(st, fvec, fjac, ipvt, qtf, xt, ft, wa1, wa3, xd)
        do
            call lm_advance(st, m, n, ldfjac, x, fvec, fjac, diag, qtf, ipvt, xt, ft, wa1, &
                            wa3, xd, st%lb, st%ub, st%held)
            select case (st%task)
            case (lm_task_fvec)
                call fcn(m, n, xt, ft, fjac, ldfjac, st%iflag, ud)
            case (lm_task_fjac, lm_task_report)
                call fcn(m, n, x, fvec, fjac, ldfjac, st%iflag, ud)
            case default
                exit
            end select
        end do
        info = st%info
        nfev = st%nfev
        njev = st%njev
        if (present(active)) call box_active(st, n, x, active)
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

    !> Start a Levenberg-Marquardt fit by reverse communication (see
    !> "Reverse communication" in the module header): check the input, copy
    !> it into st and allocate its arrays. Arguments as in lmdif. Nothing is
    !> evaluated here; the first lm_step asks for the residuals at x. On
    !> improper input (the conditions of lmdif) the first lm_step returns
    !> done with info = 0 (after a report if nprint > 0), having asked for no
    !> evaluation.
    pure subroutine lm_init(st, m, n, x, ftol, xtol, gtol, maxfev, epsfcn, mode, factor, &
                            nprint, jac, diag, ldfjac, fvec, lower, upper)
        type(lm_state), intent(out) :: st
            !! the state (anything it held is discarded)
        integer, intent(in) :: m
            !! number of residuals (m >= n)
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(in) :: x(n)
            !! the starting point
        real(dp), intent(in) :: ftol
            !! tolerance on the relative reduction of the sum of squares
        real(dp), intent(in) :: xtol
            !! tolerance on the relative change of x
        real(dp), intent(in) :: gtol
            !! tolerance on the orthogonality of fvec and the Jacobian
        integer, intent(in) :: maxfev
            !! maximum number of residual evaluations
        real(dp), intent(in) :: epsfcn
            !! relative error of the residuals (lm_jac_difference)
        integer, intent(in) :: mode
            !! 1: scale from the Jacobian's column norms; 2: use diag
        real(dp), intent(in) :: factor
            !! initial step bound factor
        integer, intent(in) :: nprint
            !! a report every nprint iterations and at the end (0: never)
        integer, intent(in), optional :: jac
            !! lm_jac_difference (default: the state asks for difference
            !! points, as lmdif) or lm_jac_user (it asks for the Jacobian,
            !! as lmder)
        real(dp), intent(in), optional :: diag(n)
            !! the variable scaling (needed with mode = 2)
        integer, intent(in), optional :: ldfjac
            !! leading dimension of st%fjac (default m)
        real(dp), intent(in), optional :: fvec(m)
            !! the starting content of st%fvec and st%ft (MINPACK's drivers
            !! hand the caller's fvec to the first evaluation and to a report)
        real(dp), intent(in), optional :: lower(n)
            !! lower bounds on x (see "Bounds" above; not with lm_jac_rows)
        real(dp), intent(in), optional :: upper(n)
            !! upper bounds on x

        integer :: mm, nn

        call lm_setup(st, m, n, x, ftol, xtol, gtol, maxfev, epsfcn, mode, factor, nprint, &
                      jac, diag, ldfjac, lower, upper)
        ! every array lm_step works on, also on improper input (sizes >= 0)
        nn = max(n, 0)
        mm = max(m, 0)
        allocate(st%x(nn), st%fvec(mm), st%diag(nn), st%fjac(max(st%ldfjac, 0), nn), &
                 st%xt(nn), st%ft(mm), st%wa1(nn), st%wa3(nn), st%qtf(nn), st%ipvt(nn))
        st%x = x
        st%fvec = zero
        if (present(fvec)) st%fvec = fvec
        st%ft = st%fvec
        st%diag = zero
        if (present(diag)) st%diag = diag
        st%fjac = zero
        st%qtf = zero
        st%ipvt = 0
        if (st%proper .and. st%jac == lm_jac_difference) allocate(st%xd(n, n))
    end subroutine lm_init

    !> The scalars of a fit and its box: lm_init without the arrays, for the
    !> drivers (lmdif, lmder, lmstr), which run lm_advance on their caller's
    !> x, fvec, fjac, diag, ipvt and qtf and on the work arrays of lm_work.
    !> Arguments as in lm_init; sets st%proper and the stage to start from.
    pure subroutine lm_setup(st, m, n, x, ftol, xtol, gtol, maxfev, epsfcn, mode, factor, &
                             nprint, jac, diag, ldfjac, lower, upper)
        type(lm_state), intent(out) :: st
            !! the state (anything it held is discarded)
        integer, intent(in) :: m
            !! number of residuals (m >= n)
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(in) :: x(n)
            !! the starting point
        real(dp), intent(in) :: ftol
            !! tolerance on the relative reduction of the sum of squares
        real(dp), intent(in) :: xtol
            !! tolerance on the relative change of x
        real(dp), intent(in) :: gtol
            !! tolerance on the orthogonality of fvec and the Jacobian
        integer, intent(in) :: maxfev
            !! maximum number of residual evaluations
        real(dp), intent(in) :: epsfcn
            !! relative error of the residuals (lm_jac_difference)
        integer, intent(in) :: mode
            !! 1: scale from the Jacobian's column norms; 2: use diag
        real(dp), intent(in) :: factor
            !! initial step bound factor
        integer, intent(in) :: nprint
            !! a report every nprint iterations and at the end (0: never)
        integer, intent(in), optional :: jac
            !! lm_jac_difference (default: the state asks for difference
            !! points, as lmdif) or lm_jac_user (it asks for the Jacobian,
            !! as lmder)
        real(dp), intent(in), optional :: diag(n)
            !! the variable scaling (needed with mode = 2)
        integer, intent(in), optional :: ldfjac
            !! leading dimension of fjac (default m; n for lm_jac_rows)
        real(dp), intent(in), optional :: lower(n)
            !! lower bounds on x (see "Bounds" above; not with lm_jac_rows)
        real(dp), intent(in), optional :: upper(n)
            !! upper bounds on x

        integer :: j, ldmin

        st%m = m
        st%n = n
        if (present(jac)) st%jac = jac
        ldmin = m
        if (st%jac == lm_jac_rows) ldmin = n
        st%ldfjac = ldmin
        if (present(ldfjac)) st%ldfjac = ldfjac
        st%ftol = ftol
        st%xtol = xtol
        st%gtol = gtol
        st%maxfev = maxfev
        st%epsfcn = epsfcn
        st%mode = mode
        st%factor = factor
        st%nprint = nprint
        st%nfree = n
        st%bounded = present(lower) .or. present(upper)
        st%task = lm_task_done
        st%stage = stage_finish

        ! check the input
        if (n <= 0 .or. m < n .or. st%ldfjac < ldmin .or. ftol < zero .or. xtol < zero &
            .or. gtol < zero .or. maxfev <= 0 .or. factor <= zero) return
        if (st%jac /= lm_jac_difference .and. st%jac /= lm_jac_user .and. &
            st%jac /= lm_jac_rows) return
        if (mode == 2) then
            if (.not. present(diag)) return
            do j = 1, n
                if (.not. (diag(j) > zero)) return
            end do
        end if
        if (st%bounded) then
            ! the box: every lower <= upper (no NaN), x0 inside it (not in
            ! MINPACK-1); lmstr's row-wise stage takes no bounds
            if (st%jac == lm_jac_rows) return
            allocate(st%lb(n), st%ub(n), st%held(n))
            st%lb = -huge(one)
            st%ub = huge(one)
            if (present(lower)) st%lb = lower
            if (present(upper)) st%ub = upper
            st%held = .false.
            do j = 1, n
                ! (NaN first: an ordered comparison with NaN would raise the
                ! invalid-operation flag)
                if (ieee_is_nan(st%lb(j)) .or. ieee_is_nan(st%ub(j)) .or. ieee_is_nan(x(j))) &
                    return
                if (.not. (st%lb(j) <= st%ub(j))) return
                if (.not. (st%lb(j) <= x(j) .and. x(j) <= st%ub(j))) return
            end do
            st%nfree = count(st%lb < st%ub)
            st%boxok = .true.
        end if
        st%proper = .true.
        st%stage = stage_start
    end subroutine lm_setup

    !> The work arrays of a driver's fit (after lm_setup), those MINPACK-1's
    !> drivers had: xt, wa1, wa3 (n), ft (m), starting as fvec, as MINPACK's
    !> drivers hand the caller's fvec to the first evaluation, and xd (n, n)
    !> for difference points. On proper input the outputs fjac (rows 1..m;
    !> 1..n for lm_jac_rows), ipvt and qtf are cleared, so that a fit stopped
    !> before its first Jacobian returns them as zeros, as a state does; on
    !> improper input they are left as they are.
    pure subroutine lm_work(st, fvec, fjac, ipvt, qtf, xt, ft, wa1, wa3, xd)
        type(lm_state), intent(in) :: st
            !! the fit, from lm_setup
        real(dp), intent(in) :: fvec(st%m)
            !! the caller's fvec
        real(dp), intent(inout) :: fjac(st%ldfjac, st%n)
            !! the caller's fjac
        integer, intent(inout) :: ipvt(st%n)
            !! the caller's ipvt
        real(dp), intent(inout) :: qtf(st%n)
            !! the caller's qtf
        real(dp), allocatable, intent(out) :: xt(:)
            !! MINPACK's wa2 (n)
        real(dp), allocatable, intent(out) :: ft(:)
            !! MINPACK's wa4 (m)
        real(dp), allocatable, intent(out) :: wa1(:)
            !! work array (n)
        real(dp), allocatable, intent(out) :: wa3(:)
            !! work array (n)
        real(dp), allocatable, intent(out) :: xd(:, :)
            !! the difference points (n, n; lm_jac_difference on proper input)

        integer :: j, mm, nn, nrows

        nn = max(st%n, 0)
        mm = max(st%m, 0)
        allocate(xt(nn), ft(mm), wa1(nn), wa3(nn))
        ft = fvec
        if (.not. st%proper) return
        if (st%jac == lm_jac_difference) allocate(xd(nn, nn))
        nrows = st%m
        if (st%jac == lm_jac_rows) nrows = st%n
        do j = 1, st%n
            fjac(1:nrows, j) = zero
        end do
        ipvt = 0
        qtf = zero
    end subroutine lm_work

    !> Advance the fit until it needs something from its caller; st%task
    !> says what (see "Reverse communication" in the module header). The
    !> iteration is MINPACK-1's lmdif/lmder (user guide, chapter 2; Moré 1978),
    !> with the bounds and non-finite tests described above.
    pure recursive subroutine lm_step(st)
        type(lm_state), intent(inout) :: st
            !! the fit (from lm_init), with the last request answered

        ! the work happens on the state's arrays as explicit-shape dummies
        ! (which the compiler may take not to alias, as in MINPACK-1's own
        ! routines); the box and difference points only where they exist
        call lm_advance(st, st%m, st%n, st%ldfjac, st%x, st%fvec, st%fjac, st%diag, st%qtf, &
                        st%ipvt, st%xt, st%ft, st%wa1, st%wa3, st%xd, st%lb, st%ub, st%held)
    end subroutine lm_step

    !> lm_step's work: the iteration, on the arrays it is given (the state's
    !> from lm_step; a driver's own, with a state from lm_setup). While it
    !> runs they are reached through these arguments only, never through st,
    !> which gives the scalars (and the box, through lb, ub and held).
    pure recursive subroutine lm_advance(st, m, n, ldfjac, x, fvec, fjac, diag, qtf, ipvt, &
                                         xt, ft, wa1, wa3, xd, lb, ub, held)
        type(lm_state), intent(inout) :: st
            !! the fit: its scalars
        integer, intent(in) :: m
            !! st%m
        integer, intent(in) :: n
            !! st%n
        integer, intent(in) :: ldfjac
            !! st%ldfjac
        real(dp), intent(inout) :: x(n)
            !! st%x
        real(dp), intent(inout) :: fvec(m)
            !! st%fvec
        real(dp), intent(inout) :: fjac(ldfjac, n)
            !! st%fjac
        real(dp), intent(inout) :: diag(n)
            !! st%diag
        real(dp), intent(inout) :: qtf(n)
            !! st%qtf
        integer, intent(inout) :: ipvt(n)
            !! st%ipvt
        real(dp), intent(inout) :: xt(n)
            !! st%xt
        real(dp), intent(inout) :: ft(m)
            !! st%ft
        real(dp), intent(inout) :: wa1(n)
            !! st%wa1
        real(dp), intent(inout) :: wa3(n)
            !! st%wa3
        real(dp), intent(inout), optional :: xd(n, n)
            !! st%xd (lm_jac_difference)
        real(dp), intent(in), optional :: lb(n)
            !! st%lb (bounded)
        real(dp), intent(in), optional :: ub(n)
            !! st%ub (bounded)
        logical, intent(inout), optional :: held(n)
            !! st%held (bounded)

        integer :: i, j, k, l
        real(dp) :: eps, h, s, temp, temp1, temp2
        logical :: due

        do
            select case (st%stage)
            case (stage_start)
                ! residuals at the starting point
                xt = x
                call lm_request(st, lm_task_fvec, 1, stage_start_done)
                return

            case (stage_start_done)
                fvec = ft
                st%nfev = 1
                if (st%iflag < 0) then
                    st%stage = stage_finish
                    cycle
                end if
                ! no fit can start where they are not finite (not in MINPACK-1)
                if (.not. all_finite(m, fvec)) then
                    st%info = info_nonfinite_start
                    st%stage = stage_finish
                    cycle
                end if
                st%fnorm = enorm(m, fvec)
                st%par = zero
                st%iter = 1
                st%stage = stage_outer

            case (stage_outer)
                ! the Jacobian at x
                select case (st%jac)
                case (lm_jac_rows)
                    ! progress report, then the Jacobian folded into R and qtf
                    call report_due(st, stage_rows_jac, due)
                    if (due) return
                    st%stage = stage_rows_jac
                case (lm_jac_user)
                    call lm_request(st, lm_task_fjac, 2, stage_jac_done)
                    return
                case default
                    ! the points of a forward-difference Jacobian (fdjac2's
                    ! rule; a fixed parameter gets none)
                    eps = sqrt(max(st%epsfcn, epsmch))
                    k = 0
                    do j = 1, n
                        if (st%bounded) then
                            if (lb(j) == ub(j)) cycle
                            call diff_step(x(j), eps, h, temp, lb(j), ub(j))
                        else
                            call diff_step(x(j), eps, h, temp)
                        end if
                        k = k + 1
                        xd(:, k) = x
                        xd(j, k) = temp
                    end do
                    st%ncol = k
                    if (k > 0) then
                        call lm_request(st, lm_task_fdiff, 2, stage_jac_done)
                        return
                    end if
                    st%iflag = 2
                    st%stage = stage_jac_done
                end select

            case (stage_rows_jac)
                if (st%iflag < 0) then
                    st%stage = stage_finish
                    cycle
                end if
                call lm_request(st, lm_task_fjac, 2, stage_rows_done)
                return

            case (stage_rows_done)
                if (st%iflag < 0) then
                    st%stage = stage_finish
                    cycle
                end if
                st%njev = st%njev + 1
                if (.not. st%jfinite) then
                    st%info = info_nonfinite_jacobian
                    st%stage = stage_finish
                    cycle
                end if
                st%stage = stage_scale

            case (stage_jac_done)
                if (st%jac == lm_jac_difference) then
                    st%nfev = st%nfev + st%nfree
                    if (st%iflag < 0) then
                        st%stage = stage_finish
                        cycle
                    end if
                    ! column k of fjac holds f at point k, the point of
                    ! column j >= k (x has not changed, so neither have the
                    ! steps): the quotients from the last column down
                    eps = sqrt(max(st%epsfcn, epsmch))
                    k = st%ncol
                    do j = n, 1, -1
                        if (st%bounded) then
                            if (lb(j) == ub(j)) then
                                fjac(1:m, j) = zero
                                cycle
                            end if
                            call diff_step(x(j), eps, h, temp, lb(j), ub(j))
                        else
                            call diff_step(x(j), eps, h, temp)
                        end if
                        do i = 1, m
                            fjac(i, j) = (fjac(i, k) - fvec(i)) / h
                        end do
                        k = k - 1
                    end do
                else
                    st%njev = st%njev + 1
                    if (st%iflag < 0) then
                        st%stage = stage_finish
                        cycle
                    end if
                end if
                do j = 1, n
                    if (.not. all_finite(m, fjac(1:m, j))) then
                        st%info = info_nonfinite_jacobian
                        st%stage = stage_finish
                        exit
                    end if
                end do
                if (st%info /= 0) cycle

                ! bounds: hold the parameters that the gradient pushes out of
                ! the box (not in MINPACK-1)
                if (st%bounded) call hold(st, m, n, x, fvec, fjac, ldfjac, lb, ub, held)

                call report_due(st, stage_qr, due)
                if (due) return
                st%stage = stage_qr

            case (stage_qr)
                if (st%iflag < 0) then
                    st%stage = stage_finish
                    cycle
                end if
                ! QR factorisation of the Jacobian
                call qrfac(m, n, fjac, ldfjac, .true., ipvt, wa1, xt, wa3)
                st%stage = stage_scale

            case (stage_scale)
                ! on the first iteration, scale and set the initial step bound
                if (st%iter == 1) then
                    if (st%mode /= 2) then
                        do j = 1, n
                            diag(j) = xt(j)
                            if (xt(j) == zero) diag(j) = one
                        end do
                    end if
                    do j = 1, n
                        wa3(j) = diag(j) * x(j)
                    end do
                    st%xnorm = enorm(n, wa3)
                    st%delta = st%factor * st%xnorm
                    if (st%delta == zero) st%delta = st%factor
                end if

                ! Q^T fvec; its first n components go to qtf (lmstr's stage
                ! has done this)
                if (st%jac /= lm_jac_rows) then
                    ft = fvec
                    call qr_qtb(m, n, fjac, ldfjac, wa1, ft)
                    do j = 1, n
                        qtf(j) = ft(j)
                    end do
                end if

                ! norm of the scaled gradient
                st%gnorm = zero
                if (st%fnorm /= zero) then
                    do j = 1, n
                        l = ipvt(j)
                        if (xt(l) /= zero) then
                            s = zero
                            do i = 1, j
                                s = s + fjac(i, j) * (qtf(i) / st%fnorm)
                            end do
                            ! max(gnorm, |.|) that keeps a NaN (Fortran's max
                            ! may drop it): residuals and Jacobian are finite
                            ! here, but should this quotient still be NaN
                            ! (inf / inf), it must not pass as a zero gradient
                            ! (info 4)
                            temp = abs(s / xt(l))
                            if (.not. (temp <= st%gnorm)) st%gnorm = temp
                        end if
                    end do
                end if
                if (st%gnorm <= st%gtol) st%info = 4
                ! bounds: a convergence found at the end of the last step
                ! stands if the parameters held then are still the ones to
                ! hold here; if not, the fit goes on with the new set
                if (st%pending /= 0 .and. st%info == 0 .and. .not. st%changed) &
                    st%info = st%pending
                st%pending = 0
                if (st%info /= 0) then
                    st%stage = stage_finish
                    cycle
                end if

                if (st%mode /= 2) then
                    do j = 1, n
                        diag(j) = max(diag(j), xt(j))
                    end do
                end if
                st%stage = stage_inner

            case (stage_inner)
                ! Levenberg-Marquardt parameter and step
                call lmpar(n, fjac, ldfjac, ipvt, diag, qtf, st%delta, st%par, &
                           wa1, xt, wa3, ft)
                do j = 1, n
                    wa1(j) = -wa1(j)
                    xt(j) = x(j) + wa1(j)
                    wa3(j) = diag(j) * wa1(j)
                end do
                st%pnorm = enorm(n, wa3)
                st%pfull = st%pnorm
                if (st%iter == 1) st%delta = min(st%delta, st%pnorm)

                ! bounds: keep the step in the box (not in MINPACK-1); cut
                ! tells whether it changed the step
                if (st%bounded) call clip_step(st, n, x, diag, lb, ub, wa1, xt, wa3)

                if (st%cut .and. st%pnorm == zero) then
                    ! every component pushed a parameter on its bound out of
                    ! the box: no trial point, a failed step
                    st%fnorm1 = st%fnorm
                    st%stage = stage_ratio
                else
                    call lm_request(st, lm_task_fvec, 1, stage_trial_done)
                    return
                end if

            case (stage_trial_done)
                st%nfev = st%nfev + 1
                if (st%iflag < 0) then
                    st%stage = stage_finish
                    cycle
                end if
                if (all_finite(m, ft)) then
                    st%fnorm1 = enorm(m, ft)
                else
                    ! not in MINPACK-1: residuals that are not finite give an
                    ! infinite sum of squares, so the step fails below
                    ! (actred = -1, the step bound cut tenfold) and is never
                    ! accepted
                    st%fnorm1 = ieee_value(one, ieee_positive_inf)
                end if
                st%stage = stage_ratio

            case (stage_ratio)
                ! actual and predicted relative reductions, directional derivative
                st%actred = -one
                if (p1 * st%fnorm1 < st%fnorm) st%actred = one - (st%fnorm1 / st%fnorm)**2
                do j = 1, n
                    wa3(j) = zero
                    l = ipvt(j)
                    temp = wa1(l)
                    do i = 1, j
                        wa3(i) = wa3(i) + fjac(i, j) * temp
                    end do
                end do
                temp1 = enorm(n, wa3) / st%fnorm
                if (.not. st%cut) then
                    temp2 = (sqrt(st%par) * st%pnorm) / st%fnorm
                    st%prered = temp1**2 + temp2**2 / p5
                    st%dirder = -(temp1**2 + temp2**2)
                    st%ratio = zero
                    if (st%prered /= zero) st%ratio = st%actred / st%prered
                else
                    ! the step s was cut or projected onto the box: the
                    ! model's reduction for s itself, with wa3 = R P^T s and
                    ! Q^T J s = (wa3, 0): ||f||^2 - ||f + J s||^2 =
                    ! -2 qtf.wa3 - ||wa3||^2 (relative to ||f||^2), and the
                    ! directional derivative f^T J s / ||f||^2; the step
                    ! bound is then updated from the full LM step
                    st%dirder = zero
                    do j = 1, n
                        st%dirder = st%dirder + (qtf(j) / st%fnorm) * (wa3(j) / st%fnorm)
                    end do
                    st%prered = -2 * st%dirder - temp1**2
                    st%ratio = zero
                    if (st%prered > zero) st%ratio = st%actred / st%prered
                    st%pnorm = st%pfull
                end if

                ! update the step bound
                if (st%ratio <= p25) then
                    if (st%actred >= zero) then
                        temp = p5
                    else
                        temp = p5 * st%dirder / (st%dirder + p5 * st%actred)
                    end if
                    if (p1 * st%fnorm1 >= st%fnorm .or. temp < p1) temp = p1
                    st%delta = temp * min(st%delta, st%pnorm / p1)
                    st%par = st%par / temp
                else if (st%par == zero .or. st%ratio >= p75) then
                    st%delta = st%pnorm / p5
                    st%par = p5 * st%par
                end if

                ! accept a successful step
                if (st%ratio >= p0001) then
                    do j = 1, n
                        x(j) = xt(j)
                        xt(j) = diag(j) * x(j)
                    end do
                    do i = 1, m
                        fvec(i) = ft(i)
                    end do
                    st%xnorm = enorm(n, xt)
                    st%fnorm = st%fnorm1
                    st%iter = st%iter + 1
                end if

                ! convergence (a step cut short by a bound says nothing about
                ! the reduction still possible: no ftol test then)
                if (abs(st%actred) <= st%ftol .and. st%prered <= st%ftol &
                    .and. p5 * st%ratio <= one .and. .not. st%cut) st%info = 1
                if (st%delta <= st%xtol * st%xnorm) st%info = 2
                if (abs(st%actred) <= st%ftol .and. st%prered <= st%ftol &
                    .and. p5 * st%ratio <= one .and. st%info == 2 .and. .not. st%cut) &
                    st%info = 3
                if (st%info /= 0 .and. st%bounded .and. st%ratio >= p0001) then
                    ! bounds: x moved while parameters were held, and the
                    ! gradient at the new x may release some; decide on the
                    ! Jacobian there (one more Jacobian evaluation)
                    if (any(held .and. lb < ub)) then
                        st%pending = st%info
                        st%info = 0
                    end if
                end if
                if (st%info /= 0) then
                    st%stage = stage_finish
                    cycle
                end if

                ! tolerances too small, or out of evaluations
                if (st%nfev >= st%maxfev) st%info = 5
                if (abs(st%actred) <= epsmch .and. st%prered <= epsmch &
                    .and. p5 * st%ratio <= one .and. .not. st%cut) st%info = 6
                if (st%delta <= epsmch * st%xnorm) st%info = 7
                if (st%gnorm <= epsmch) st%info = 8
                if (st%info /= 0) then
                    st%stage = stage_finish
                else if (st%ratio >= p0001) then
                    st%stage = stage_outer
                else
                    st%stage = stage_inner
                end if

            case (stage_finish)
                if (st%iflag < 0) st%info = st%iflag
                st%iflag = 0
                if (st%nprint > 0) then
                    call lm_request(st, lm_task_report, 0, stage_done)
                    return
                end if
                st%stage = stage_done

            case default
                st%task = lm_task_done
                return
            end select
        end do
    end subroutine lm_advance

    !> Which parameters are on a bound at st%x: -1 on the lower one (or
    !> fixed), 1 on the upper one, 0 elsewhere and when there is no box (or
    !> the box was improper input).
    pure subroutine lm_active(st, active)
        type(lm_state), intent(in) :: st
            !! the fit
        integer, intent(out) :: active(:)
            !! the mask (size n)

        call box_active(st, st%n, st%x, active)
    end subroutine lm_active

    !> lm_active at a point x of the caller's (the drivers' final x).
    pure subroutine box_active(st, n, x, active)
        type(lm_state), intent(in) :: st
            !! the fit: its box
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(in) :: x(n)
            !! the point
        integer, intent(out) :: active(n)
            !! the mask

        active = 0
        if (st%boxok) then
            where (x <= st%lb) active = -1
            where (x >= st%ub .and. st%lb < st%ub) active = 1
        end if
    end subroutine box_active

    !> Copy a finished fit out of its state into arrays of the caller's, as
    !> lmdif, lmder and lmstr return them (they work in their caller's arrays
    !> and need no copy). On improper input only x, fvec and diag are
    !> written, unchanged, as MINPACK-1 leaves them.
    pure subroutine lm_results(st, x, fvec, diag, info, nfev, njev, fjac, ipvt, qtf)
        type(lm_state), intent(in) :: st
            !! the finished fit
        real(dp), intent(out) :: x(st%n)
            !! the final x
        real(dp), intent(out) :: fvec(st%m)
            !! the residuals at x
        real(dp), intent(out) :: diag(st%n)
            !! the scaling
        integer, intent(out) :: info
            !! termination code
        integer, intent(out) :: nfev
            !! residual evaluations
        integer, intent(out), optional :: njev
            !! Jacobian evaluations
        real(dp), intent(inout), optional :: fjac(st%ldfjac, st%n)
            !! rows 1..m (1..n for lm_jac_rows) of st%fjac
        integer, intent(out), optional :: ipvt(st%n)
            !! the permutation
        real(dp), intent(out), optional :: qtf(st%n)
            !! Q^T fvec

        integer :: nrows

        x = st%x
        fvec = st%fvec
        diag = st%diag
        info = st%info
        nfev = st%nfev
        if (present(njev)) njev = st%njev
        if (.not. st%proper) return
        nrows = st%m
        if (st%jac == lm_jac_rows) nrows = st%n
        if (present(fjac)) call copy_rows(nrows, st%n, st%fjac, st%ldfjac, fjac)
        if (present(ipvt)) ipvt = st%ipvt
        if (present(qtf)) qtf = st%qtf
    end subroutine lm_results

    !> b(1:nrows, :) = a(1:nrows, :) for two arrays of leading dimension ld.
    pure subroutine copy_rows(nrows, n, a, ld, b)
        integer, intent(in) :: nrows
            !! rows to copy
        integer, intent(in) :: n
            !! number of columns
        integer, intent(in) :: ld
            !! leading dimension of a and b
        real(dp), intent(in) :: a(ld, n)
            !! the source
        real(dp), intent(inout) :: b(ld, n)
            !! the destination

        integer :: j

        do j = 1, n
            b(1:nrows, j) = a(1:nrows, j)
        end do
    end subroutine copy_rows

    !> Return from lm_step with a request: task, MINPACK's iflag for it, and
    !> the stage to resume from.
    pure subroutine lm_request(st, task, iflag, next)
        type(lm_state), intent(inout) :: st
            !! the fit
        integer, intent(in) :: task
            !! the request
        integer, intent(in) :: iflag
            !! MINPACK's iflag for it
        integer, intent(in) :: next
            !! the stage to resume from

        st%task = task
        st%iflag = iflag
        st%stage = next
    end subroutine lm_request

    !> Every nprint iterations (if nprint > 0), a progress report: due tells
    !> whether lm_step must return with it. iflag becomes 0 whenever nprint
    !> > 0, as in MINPACK-1.
    pure subroutine report_due(st, next, due)
        type(lm_state), intent(inout) :: st
            !! the fit
        integer, intent(in) :: next
            !! the stage to resume from after the report
        logical, intent(out) :: due
            !! true if a report request was made

        due = .false.
        if (st%nprint > 0) then
            st%iflag = 0
            if (mod(st%iter - 1, st%nprint) == 0) then
                call lm_request(st, lm_task_report, 0, next)
                due = .true.
            end if
        end if
    end subroutine report_due

    !> Hold each parameter that sits on a bound while the gradient of the sum
    !> of squares, g_j = (J^T f)_j, points out of the box (g_j > 0 on the
    !> lower bound, g_j < 0 on the upper), and each fixed one (lower =
    !> upper): zero its column of the Jacobian, so that qrfac, lmpar and the
    !> scaling see a problem without it (its step is zero).
    pure subroutine hold(st, m, n, x, fvec, fjac, ldfjac, lb, ub, held)
        type(lm_state), intent(inout) :: st
            !! the fit: changed is set
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(in) :: x(n)
            !! the current point
        real(dp), intent(in) :: fvec(m)
            !! the residuals at x
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac
        real(dp), intent(inout) :: fjac(ldfjac, n)
            !! the Jacobian at x; held columns set to zero
        real(dp), intent(in) :: lb(n)
            !! lower bounds
        real(dp), intent(in) :: ub(n)
            !! upper bounds
        logical, intent(inout) :: held(n)
            !! in: the parameters held before; out: those held now

        real(dp) :: g
        integer :: i, j
        logical :: before

        st%changed = .false.
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
                held(j) = (x(j) == lb(j) .and. g > zero) .or. &
                             (x(j) == ub(j) .and. g < zero)
            end if
            if (held(j)) fjac(1:m, j) = zero
            if (held(j) .neqv. before) st%changed = .true.
        end do
    end subroutine hold

    !> Keep the trial point xt = x + wa1 in the box. Components that push a
    !> parameter on a bound outwards are zeroed; then the step is scaled by
    !> the largest alpha <= 1 that keeps every parameter in the box, the
    !> parameter that sets alpha is put on its bound, and any within rounding
    !> of a bound is put on it. Sets cut when the step changed (then wa1 is
    !> the step taken, xt = x + wa1, pnorm its scaled norm); otherwise wa1,
    !> xt, wa3 and pnorm are left as they are.
    pure subroutine clip_step(st, n, x, diag, lb, ub, wa1, wa2, wa3)
        type(lm_state), intent(inout) :: st
            !! the fit: cut and pnorm are set
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(in) :: x(n)
            !! the current point
        real(dp), intent(in) :: diag(n)
            !! the scaling
        real(dp), intent(in) :: lb(n)
            !! lower bounds
        real(dp), intent(in) :: ub(n)
            !! upper bounds
        real(dp), intent(inout) :: wa1(n)
            !! the step
        real(dp), intent(inout) :: wa2(n)
            !! the trial point x + wa1 (st%xt)
        real(dp), intent(inout) :: wa3(n)
            !! the scaled step diag * wa1

        real(dp) :: alpha, t, tol
        integer :: j, jlim
        logical :: scaled

        st%cut = .false.
        do j = 1, n
            if ((wa1(j) < zero .and. x(j) <= lb(j)) .or. &
                (wa1(j) > zero .and. x(j) >= ub(j))) then
                wa1(j) = zero
                st%cut = .true.
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
        if (jlim /= 0) st%cut = .true.
        scaled = st%cut
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
                if (wa2(j) /= ub(j)) st%cut = .true.
                wa2(j) = ub(j)
            else if (wa2(j) <= lb(j) + tol) then
                if (wa2(j) /= lb(j)) st%cut = .true.
                wa2(j) = lb(j)
            else if (scaled .and. abs(wa2(j)) <= tol .and. lb(j) <= zero &
                     .and. zero <= ub(j)) then
                wa2(j) = zero
            end if
        end do
        if (.not. st%cut) return
        do j = 1, n
            wa1(j) = wa2(j) - x(j)
            wa3(j) = diag(j) * wa1(j)
        end do
        st%pnorm = enorm(n, wa3)
        ! a component below the rounding of the step as a whole (lmpar's
        ! solution is accurate to about epsmch * pnorm in the scaled
        ! variables) is noise: it is dropped, so that a parameter does
        ! not drift to a value such as 1e-24, where the forward
        ! difference step epsfcn |x| is lost in the residuals' rounding
        do j = 1, n
            if (wa1(j) /= zero .and. abs(wa3(j)) <= epsmch * st%pnorm) then
                wa1(j) = zero
                wa2(j) = x(j)
                wa3(j) = zero
            end if
        end do
    end subroutine clip_step

end module minpack_lm
