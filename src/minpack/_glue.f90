!> Glue between the extension minpack._minpack (_minpack.pyf, _fastpath.c)
!> and the Fortran library.
!>
!> Every callback arrives as a C function with the C API's signature (see
!> minpack/minpack_capi.f90) and the user data it is called with. For a
!> compiled function these are the user's own; for a Python function they are
!> the C trampoline (_trampoline.c, minpack_tramp_*) and the address of a
!> context tuple that tells it which Python function to call. This file
!> cannot tell the two apart: one route per driver (lm, hybrid, lm_batch).
!>
!> Two features of that route serve Python functions: a block callback, with
!> which lmdif evaluates the n points of a difference Jacobian in one call (a
!> vectorized residual), and a progress report once per iteration (MINPACK's
!> nprint hook). And `fvec` may hold the residuals at x0 on entry (have_f0 =
!> 1: Python evaluated them once to learn m), so the solver's first
!> evaluation is answered from that buffer instead of calling again.
!>
!> One solver call = one `fit_callbacks` value on the stack, whose address the
!> library hands back to the adapters below as user data. Nothing is stored in
!> module variables, so calls are reentrant and thread-safe.
module minpack_glue
    use, intrinsic :: iso_c_binding, only: c_ptr, c_loc, c_f_pointer, c_intptr_t, &
        c_funptr, c_null_ptr, c_null_funptr, c_int, c_double, c_associated, &
        c_f_procpointer
    use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan, ieee_is_nan
    use minpack_kinds, only: dp
    use minpack_linalg, only: enorm, covar
    use minpack_lm, only: lmdif, lmder, lm_state, lm_init, lm_step, lm_active, &
        lm_task_done, lm_task_report, lm_task_fvec, lm_task_fdiff, lm_jac_difference
    use minpack_hybrid, only: hybrd, hybrj
    use minpack_capi, only: c_callbacks, call_func, call_func_jac, stop_on, default_maxfev
    implicit none
    private

    public :: fit_callbacks, glue_callbacks, run_lm, run_hybrid, lm_batch, lm_points

    abstract interface
        !> int block(int m, int n, int k, const double *x, double *fvec, void *user_data):
        !> the residuals at the k columns of x (n by k) into the columns of fvec.
        function minpack_glue_block(m, n, k, x, fvec, udata) result(status) bind(c)
            import :: c_int, c_double, c_ptr
            implicit none
            integer(c_int), intent(in), value :: m
                !! residuals per point
            integer(c_int), intent(in), value :: n
                !! variables
            integer(c_int), intent(in), value :: k
                !! points
            real(c_double), intent(in) :: x(n, k)
                !! the points, one per column
            real(c_double), intent(inout) :: fvec(m, k)
                !! the residuals, one column per point
            type(c_ptr), intent(in), value :: udata
                !! the residual callback's user data
            integer(c_int) :: status
        end function minpack_glue_block

        !> int progress(int nfev, int m, int n, const double *x, const double *fvec,
        !>              void *user_data): the state at the start of an iteration.
        function minpack_glue_progress(nfev, m, n, x, fvec, udata) result(status) bind(c)
            import :: c_int, c_double, c_ptr
            implicit none
            integer(c_int), intent(in), value :: nfev
                !! residual evaluations so far
            integer(c_int), intent(in), value :: m
                !! residuals
            integer(c_int), intent(in), value :: n
                !! variables
            real(c_double), intent(in) :: x(n)
                !! the current point
            real(c_double), intent(in) :: fvec(m)
                !! the residuals there
            type(c_ptr), intent(in), value :: udata
                !! the report's own user data
            integer(c_int) :: status
        end function minpack_glue_progress

        !> int points(int m, int n, int np, const double *x, const int *problem,
        !>            double *f, void *user_data): the values at the np points x
        !> (n by np), point j belonging to problem problem(j) (from 1), into
        !> the columns of f (m by np). Called by lm_points, GIL released: the
        !> trampoline (minpack_tramp_points) takes the GIL itself.
        function minpack_glue_points(m, n, np, x, problem, f, udata) result(status) bind(c)
            import :: c_int, c_double, c_ptr
            implicit none
            integer(c_int), intent(in), value :: m
                !! values per point
            integer(c_int), intent(in), value :: n
                !! variables
            integer(c_int), intent(in), value :: np
                !! points
            real(c_double), intent(in) :: x(n, np)
                !! the points, one per column
            integer(c_int), intent(in) :: problem(np)
                !! the problem of each point
            real(c_double), intent(inout) :: f(m, np)
                !! the values, one column per point
            type(c_ptr), intent(in), value :: udata
                !! the callback's user data
            integer(c_int) :: status
        end function minpack_glue_points
    end interface

    !> The callbacks of one solver call.
    type :: fit_callbacks
        type(c_callbacks) :: c
            !! residuals, Jacobian (NULL: differences) and their user data
        type(c_funptr) :: block = c_null_funptr
            !! when not NULL: lmdif's difference Jacobians in one call each
        type(c_funptr) :: progress = c_null_funptr
            !! when not NULL: a report at the start of every iteration
        type(c_ptr) :: progress_data = c_null_ptr
            !! the report's user data
        logical :: have_f0 = .false.
            !! fvec holds the residuals at x0: skip the first evaluation
        integer :: nfev = 0
            !! residual evaluations so far (reported to progress)
        integer :: last_iflag = 0
            !! iflag of the previous request (2 before each iteration's report)
    end type fit_callbacks

contains

    !> The callbacks given by address (0 for NULL).
    pure function glue_callbacks(func, jac, udata, block, progress, pdata, have_f0) &
            result(cb)
        integer(c_intptr_t), intent(in) :: func
            !! residuals: int func(m, n, x, fvec, user_data)
        integer(c_intptr_t), intent(in) :: jac
            !! Jacobian (0: differences): int jac(m, n, x, fjac, ldfjac, user_data)
        integer(c_intptr_t), intent(in) :: udata
            !! user data of func, jac and block
        integer(c_intptr_t), intent(in) :: block
            !! 0, or the block callback (see minpack_glue_block)
        integer(c_intptr_t), intent(in) :: progress
            !! 0, or the progress report (see minpack_glue_progress)
        integer(c_intptr_t), intent(in) :: pdata
            !! user data of the progress report
        logical, intent(in) :: have_f0
            !! fvec holds the residuals at x0 on entry
        type(fit_callbacks) :: cb

        cb%c = c_callbacks(transfer(func, c_null_funptr), transfer(jac, c_null_funptr), &
                           transfer(udata, c_null_ptr))
        cb%block = transfer(block, c_null_funptr)
        cb%progress = transfer(progress, c_null_funptr)
        cb%progress_data = transfer(pdata, c_null_ptr)
        cb%have_f0 = have_f0
    end function glue_callbacks

    !> lmdif/hybrd callback: residuals (iflag 1 or 2) or the progress report.
    recursive subroutine fcn_adapter(m, n, x, fvec, iflag, udata)
        integer, intent(in) :: m, n
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(m)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        type(fit_callbacks), pointer :: cb

        call c_f_pointer(udata, cb)
        if (iflag == 0) then
            call report(cb, m, n, x, fvec, iflag)
        else
            call residuals(cb, m, n, x, fvec, iflag)
        end if
    end subroutine fcn_adapter

    !> lmder/hybrj callback: residuals (iflag 1), Jacobian (2), or the report (0).
    recursive subroutine fcn_jac_adapter(m, n, x, fvec, fjac, ldfjac, iflag, udata)
        integer, intent(in) :: m, n, ldfjac
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(m), fjac(ldfjac, n)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        type(fit_callbacks), pointer :: cb

        call c_f_pointer(udata, cb)
        select case (iflag)
        case (0)
            call report(cb, m, n, x, fvec, iflag)
        case (1)
            call residuals(cb, m, n, x, fvec, iflag)
        case (2)
            cb%last_iflag = 2
            call call_func_jac(m, n, x, fvec, fjac, ldfjac, iflag, c_loc(cb%c))
        end select
    end subroutine fcn_jac_adapter

    recursive subroutine fcn_adapter_square(n, x, fvec, iflag, udata)
        integer, intent(in) :: n
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(n)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        call fcn_adapter(n, n, x, fvec, iflag, udata)
    end subroutine fcn_adapter_square

    recursive subroutine fcn_jac_adapter_square(n, x, fvec, fjac, ldfjac, iflag, udata)
        integer, intent(in) :: n, ldfjac
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(n), fjac(ldfjac, n)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        call fcn_jac_adapter(n, n, x, fvec, fjac, ldfjac, iflag, udata)
    end subroutine fcn_jac_adapter_square

    !> lmdif block callback: the n points of a difference Jacobian in one call.
    recursive subroutine block_adapter(m, n, k, x, fvec, iflag, udata)
        integer, intent(in) :: m, n, k
        real(dp), intent(in) :: x(n, k)
        real(dp), intent(inout) :: fvec(m, k)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        type(fit_callbacks), pointer :: cb
        procedure(minpack_glue_block), pointer :: block

        call c_f_pointer(udata, cb)
        call c_f_procpointer(cb%block, block)
        cb%nfev = cb%nfev + k
        cb%last_iflag = iflag
        call stop_on(block(m, n, k, x, fvec, cb%c%udata), iflag)
    end subroutine block_adapter

    !> One residual evaluation; the first is answered from the buffer when it
    !> already holds the residuals at x0.
    recursive subroutine residuals(cb, m, n, x, fvec, iflag)
        type(fit_callbacks), intent(inout), target :: cb
        integer, intent(in) :: m, n
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(m)
        integer, intent(inout) :: iflag

        cb%nfev = cb%nfev + 1
        cb%last_iflag = iflag
        if (cb%have_f0) then
            cb%have_f0 = .false.
        else
            call call_func(m, n, x, fvec, iflag, c_loc(cb%c))
        end if
    end subroutine residuals

    !> MINPACK's iflag = 0 call. The library makes it at the start of each
    !> iteration, right after the Jacobian, and once more when it stops; only
    !> the former are reported.
    recursive subroutine report(cb, m, n, x, fvec, iflag)
        type(fit_callbacks), intent(inout) :: cb
        integer, intent(in) :: m, n
        real(dp), intent(in) :: x(n)
        real(dp), intent(in) :: fvec(m)
        integer, intent(inout) :: iflag

        procedure(minpack_glue_progress), pointer :: progress

        if (cb%last_iflag /= 2 .or. .not. c_associated(cb%progress)) return
        cb%last_iflag = 0
        call c_f_procpointer(cb%progress, progress)
        call stop_on(progress(cb%nfev, m, n, x, fvec, cb%progress_data), iflag)
    end subroutine report

    !> lmdif (no Jacobian callback) or lmder through the adapters; maxfev <= 0
    !> means MINPACK's default. With lower and upper (both or neither), the
    !> engine's bounded fit, which reports the bounds reached in active;
    !> without them, MINPACK's own (the optional arguments are passed on
    !> absent).
    recursive subroutine run_lm(cb, m, n, x, fvec, ftol, xtol, gtol, maxfev, epsfcn, diag, &
                                mode, factor, fjac, ipvt, qtf, info, nfev, njev, lower, &
                                upper, active)
        type(fit_callbacks), intent(inout), target :: cb
        integer, intent(in) :: m, n, maxfev, mode
        real(dp), intent(inout) :: x(n), fvec(m), diag(n)
        real(dp), intent(in) :: ftol, xtol, gtol, epsfcn, factor
        real(dp), intent(out) :: fjac(m, n), qtf(n)
        integer, intent(out) :: ipvt(n), info, nfev, njev
        real(dp), intent(in), optional :: lower(n)
            !! lower bounds (-inf: none)
        real(dp), intent(in), optional :: upper(n)
            !! upper bounds (+inf: none)
        integer, intent(out), optional :: active(n)
            !! -1 on the lower bound (or fixed), 1 on the upper, 0 free

        logical :: use_jac
        integer :: limit, nprint

        use_jac = c_associated(cb%c%jac)
        limit = maxfev
        if (maxfev <= 0) limit = default_maxfev(n, use_jac)
        nprint = merge(1, 0, c_associated(cb%progress))
        if (use_jac) then
            call lmder(fcn_jac_adapter, m, n, x, fvec, fjac, m, ftol, xtol, gtol, limit, &
                       diag, mode, factor, nprint, info, nfev, njev, ipvt, qtf, c_loc(cb), &
                       lower, upper, active)
        else if (c_associated(cb%block)) then
            njev = 0
            call lmdif(fcn_adapter, m, n, x, fvec, ftol, xtol, gtol, limit, epsfcn, diag, &
                       mode, factor, nprint, info, nfev, fjac, m, ipvt, qtf, c_loc(cb), &
                       block_adapter, lower, upper, active)
        else
            njev = 0
            call lmdif(fcn_adapter, m, n, x, fvec, ftol, xtol, gtol, limit, epsfcn, diag, &
                       mode, factor, nprint, info, nfev, fjac, m, ipvt, qtf, c_loc(cb), &
                       lower=lower, upper=upper, active=active)
        end if
    end subroutine run_lm

    !> hybrd (no Jacobian callback) or hybrj through the adapters; maxfev <= 0
    !> means MINPACK's default.
    recursive subroutine run_hybrid(cb, n, x, fvec, xtol, maxfev, ml, mu, epsfcn, diag, &
                                    mode, factor, fjac, r, qtf, info, nfev, njev)
        type(fit_callbacks), intent(inout), target :: cb
        integer, intent(in) :: n, maxfev, ml, mu, mode
        real(dp), intent(inout) :: x(n), fvec(n), diag(n)
        real(dp), intent(in) :: xtol, epsfcn, factor
        real(dp), intent(out) :: fjac(n, n), r((n * (n + 1)) / 2), qtf(n)
        integer, intent(out) :: info, nfev, njev

        logical :: use_jac
        integer :: limit

        use_jac = c_associated(cb%c%jac)
        limit = maxfev
        if (maxfev <= 0) limit = default_maxfev(n, use_jac)
        if (use_jac) then
            call hybrj(fcn_jac_adapter_square, n, x, fvec, fjac, n, xtol, limit, diag, mode, &
                       factor, 0, info, nfev, njev, r, size(r), qtf, c_loc(cb))
        else
            njev = 0
            call hybrd(fcn_adapter_square, n, x, fvec, xtol, limit, ml, mu, epsfcn, diag, &
                       mode, factor, 0, info, nfev, fjac, n, r, size(r), qtf, c_loc(cb))
        end if
    end subroutine run_hybrid

    !> k independent fits; problem p gets the user data ubase + (p - 1) *
    !> ustride and starts from x(:, p). Per problem: the final x, ier, nfev,
    !> njev, |fvec|, and on request fvec and the unscaled covariance (NaN where
    !> it is undefined: singular R or ier not 1-4; with bounds, the rows and
    !> columns of the parameters held on a bound, the free ones' covariance
    !> elsewhere). bounded 0: no bounds; 1: lower(:, 1), upper(:, 1) for every
    !> problem; 2: lower(:, p), upper(:, p) for problem p (a bad box stops
    !> that problem only, with ier 0). active(:, p) is written when bounded.
    recursive subroutine lm_batch(func, jac, ubase, ustride, m, n, k, x, ftol, xtol, &
                                  gtol, maxfev, epsfcn, diag0, mode, factor, want_fvec, &
                                  fvec, want_cov, cov, fnorm, ier, nfev, njev, bounded, &
                                  lower, upper, active)
        integer(c_intptr_t), intent(in) :: func, jac, ubase, ustride
        integer, intent(in) :: m, n, k, maxfev, mode
        real(dp), intent(inout) :: x(n, k)
        real(dp), intent(in) :: ftol, xtol, gtol, epsfcn, factor, diag0(n)
        logical, intent(in) :: want_fvec, want_cov
        real(dp), intent(inout) :: fvec(m, *), cov(n, n, *)
        real(dp), intent(out) :: fnorm(k)
        integer, intent(out) :: ier(k), nfev(k), njev(k)
        integer, intent(in) :: bounded
        real(dp), intent(in) :: lower(n, *), upper(n, *)
        integer, intent(inout) :: active(n, *)

        type(fit_callbacks), target :: cb
        real(dp), allocatable :: fv(:), fjac(:, :), qtf(:), diag(:)
        integer, allocatable :: ipvt(:)
        integer :: p, b

        allocate(fv(m), fjac(m, n), qtf(n), diag(n), ipvt(n))
        do p = 1, k
            cb = glue_callbacks(func, jac, ubase + (p - 1) * ustride, 0_c_intptr_t, &
                                0_c_intptr_t, 0_c_intptr_t, .false.)
            diag = diag0
            if (bounded == 0) then
                call run_lm(cb, m, n, x(:, p), fv, ftol, xtol, gtol, maxfev, epsfcn, diag, &
                            mode, factor, fjac, ipvt, qtf, ier(p), nfev(p), njev(p))
            else
                b = merge(p, 1, bounded == 2)
                call run_lm(cb, m, n, x(:, p), fv, ftol, xtol, gtol, maxfev, epsfcn, diag, &
                            mode, factor, fjac, ipvt, qtf, ier(p), nfev(p), njev(p), &
                            lower(:, b), upper(:, b), active(:, p))
            end if
            if (bounded /= 0 .and. ier(p) == 0) then
                ! a box refused as improper input: no residuals to report
                fv = ieee_value(1.0_dp, ieee_quiet_nan)
                fnorm(p) = fv(1)
            else
                fnorm(p) = enorm(m, fv)
            end if
            if (want_fvec) fvec(:, p) = fv
            if (want_cov) call batch_covariance(m, n, fjac, ipvt, ier(p), bounded /= 0, &
                                                active(:, p), cov(:, :, p))
        end do
    end subroutine lm_batch

    !> One problem's covariance in a batch: MINPACK's (J^T J)^-1 from R and
    !> ipvt when ier is 1-4, the free parameters' one with bounds; NaN where it
    !> is undefined (singular R, ier not 1-4).
    pure subroutine batch_covariance(m, n, fjac, ipvt, ier, bounded, active, cov)
        integer, intent(in) :: m, n
            !! rows of fjac, parameters
        real(dp), intent(in) :: fjac(m, n)
            !! R (upper triangle) of the final Jacobian, pivoted by ipvt
        integer, intent(in) :: ipvt(n)
            !! the column permutation (1-based)
        integer, intent(in) :: ier
            !! the fit's termination code
        logical, intent(in) :: bounded
            !! the fit had a box; active is then its report
        integer, intent(in) :: active(*)
            !! nonzero on a bound (n of them when bounded)
        real(dp), intent(out) :: cov(n, n)
            !! the covariance

        integer :: cinfo

        cinfo = 1
        if (ier >= 1 .and. ier <= 4) then
            if (bounded) then
                call free_covar(m, n, fjac, ipvt, active(1:n), cov, cinfo)
            else
                call covar(n, fjac, m, ipvt, cov, n, cinfo)
            end if
        end if
        if (cinfo /= 0) cov = ieee_value(1.0_dp, ieee_quiet_nan)
    end subroutine batch_covariance

    !> The covariance of a bounded fit: (J^T J)^-1 over the free parameters,
    !> NaN in the rows and columns of the held ones (on a bound with a zero
    !> column in the final Jacobian, as the engine leaves them; fixed ones
    !> included). The held columns come last in the pivoted R (their norm is
    !> zero), so R's leading nf by nf block is the free parameters' R. info
    !> is not 0 when that block is singular.
    pure subroutine free_covar(m, n, fjac, ipvt, active, cov, info)
        integer, intent(in) :: m, n
            !! rows of fjac, parameters
        real(dp), intent(in) :: fjac(m, n)
            !! R (upper triangle) of the final Jacobian, pivoted by ipvt
        integer, intent(in) :: ipvt(n)
            !! the column permutation (1-based)
        integer, intent(in) :: active(n)
            !! the engine's report: nonzero on a bound
        real(dp), intent(out) :: cov(n, n)
            !! the covariance, NaN in held rows and columns
        integer, intent(out) :: info
            !! 0, or nonzero when the free block is singular

        logical :: held(n)
        integer :: free(n), rank(n), i, j, nf
        real(dp), allocatable :: c(:, :)

        do j = 1, n  ! column j of R is parameter ipvt(j)
            held(ipvt(j)) = active(ipvt(j)) /= 0 .and. all(fjac(1:min(j, m), j) == 0.0_dp)
        end do
        nf = count(.not. held)
        cov = ieee_value(1.0_dp, ieee_quiet_nan)
        info = 0
        if (nf == 0) return
        ! the free parameters must be R's first nf columns
        do j = 1, nf
            if (held(ipvt(j))) then
                info = 1
                return
            end if
        end do
        ! renumber them 1..nf in their own order
        nf = 0
        do j = 1, n
            if (.not. held(j)) then
                nf = nf + 1
                free(nf) = j
                rank(j) = nf
            end if
        end do
        allocate(c(nf, nf))
        call covar(nf, fjac(1:nf, 1:nf), nf, rank(ipvt(1:nf)), c, nf, info)
        if (info /= 0) return
        do j = 1, nf
            do i = 1, nf
                cov(free(i), free(j)) = c(i, j)
            end do
        end do
    end subroutine free_covar

    !> k independent fits driven by reverse communication, all of whose
    !> evaluations go through one callback per round: the k states
    !> (lm_state) advance in lockstep, and each round gathers every point
    !> they need (each starting or trial point, and the points of each
    !> difference Jacobian) into one call of `points`. Every fit is lmdif's,
    !> step for step, so problem p's results are those of lmdif on it alone.
    !>
    !> With have_y, the callback returns model values and the residuals are
    !> w * (f - y), curve_fit's, with y the problem's ydata (m by k) and w
    !> the weights: nw 0 none, 1 one vector for all (w(:, 1)), 2 one per
    !> problem; with omit, a NaN in y marks a point that is left out (its
    !> residual is 0, so it adds nothing to any sum MINPACK forms), and a
    !> problem with fewer than n points left is improper input (ier 0).
    !> Without have_y the callback returns the residuals themselves.
    !>
    !> Outputs per problem as in lm_batch (fvec always). A callback that
    !> returns non-zero stops every fit still running, with ier = -|status|.
    recursive subroutine lm_points(points, pdata, m, n, k, x, ftol, xtol, gtol, maxfev, &
                                   epsfcn, diag0, mode, factor, have_y, ydata, nw, w, omit, &
                                   fvec, want_cov, cov, fnorm, ier, nfev, bounded, lower, &
                                   upper, active)
        integer(c_intptr_t), intent(in) :: points
            !! the callback (see minpack_glue_points)
        integer(c_intptr_t), intent(in) :: pdata
            !! its user data
        integer, intent(in) :: m, n, k
            !! residuals, variables, problems
        real(dp), intent(inout) :: x(n, k)
            !! starts on entry, solutions on exit
        real(dp), intent(in) :: ftol, xtol, gtol, epsfcn, factor
            !! lmdif's
        integer, intent(in) :: maxfev, mode
            !! lmdif's; maxfev <= 0: MINPACK's default
        real(dp), intent(in) :: diag0(n)
            !! the scaling with mode 2
        logical, intent(in) :: have_y
            !! the callback returns model values, fitted to ydata
        real(dp), intent(in) :: ydata(m, *)
            !! the data (m by k), with have_y
        integer, intent(in) :: nw
            !! weights: 0 none, 1 shared, 2 per problem
        real(dp), intent(in) :: w(m, *)
            !! the weights, with nw > 0
        logical, intent(in) :: omit
            !! NaN in ydata: a point left out
        real(dp), intent(out) :: fvec(m, k)
            !! the final residuals
        logical, intent(in) :: want_cov
            !! write cov
        real(dp), intent(inout) :: cov(n, n, *)
            !! the covariances (see lm_batch)
        real(dp), intent(out) :: fnorm(k)
            !! |fvec| per problem
        integer, intent(out) :: ier(k), nfev(k)
            !! per problem
        integer, intent(in) :: bounded
            !! as for lm_batch
        real(dp), intent(in) :: lower(n, *), upper(n, *)
            !! as for lm_batch
        integer, intent(inout) :: active(n, *)
            !! as for lm_batch

        procedure(minpack_glue_points), pointer :: call_points
        type(lm_state), allocatable :: st(:)
        real(dp), allocatable :: xb(:, :), fb(:, :), diag(:)
        integer(c_int), allocatable :: owner(:)
        integer :: p, b, j, np, c, limit, status, wcol

        call c_f_procpointer(transfer(points, c_null_funptr), call_points)
        limit = maxfev
        if (maxfev <= 0) limit = default_maxfev(n, .false.)
        allocate(st(k), diag(n))
        do p = 1, k
            diag = diag0
            b = merge(p, 1, bounded == 2)
            if (omit) then
                if (count(.not. ieee_is_nan(ydata(:, p))) < n) then
                    ! too few points left: improper input, nothing evaluated
                    call lm_init(st(p), m, 0, x(:, p), ftol, xtol, gtol, limit, epsfcn, &
                                 mode, factor, 0)
                    call next_request(st(p))
                    cycle
                end if
            end if
            if (bounded == 0) then
                call lm_init(st(p), m, n, x(:, p), ftol, xtol, gtol, limit, epsfcn, mode, &
                             factor, 0, jac=lm_jac_difference, diag=diag)
            else
                call lm_init(st(p), m, n, x(:, p), ftol, xtol, gtol, limit, epsfcn, mode, &
                             factor, 0, jac=lm_jac_difference, diag=diag, &
                             lower=lower(:, b), upper=upper(:, b))
            end if
            call next_request(st(p))
        end do

        status = 0
        allocate(xb(n, 0), fb(m, 0), owner(0))
        do
            ! the points every running fit needs
            np = 0
            do p = 1, k
                select case (st(p)%task)
                case (lm_task_fvec)
                    np = np + 1
                case (lm_task_fdiff)
                    np = np + st(p)%ncol
                end select
            end do
            if (np == 0) exit
            if (size(owner) < np) then
                deallocate(xb, fb, owner)
                allocate(xb(n, np), fb(m, np), owner(np))
            end if
            c = 0
            do p = 1, k
                select case (st(p)%task)
                case (lm_task_fvec)
                    c = c + 1
                    xb(:, c) = st(p)%xt
                    owner(c) = p
                case (lm_task_fdiff)
                    do j = 1, st(p)%ncol
                        xb(:, c + j) = st(p)%xd(:, j)
                        owner(c + j) = p
                    end do
                    c = c + st(p)%ncol
                end select
            end do
            status = call_points(m, n, np, xb, owner, fb, transfer(pdata, c_null_ptr))
            ! the answers, each fit's own, and its next request
            c = 0
            do p = 1, k
                wcol = merge(p, 1, nw == 2)
                select case (st(p)%task)
                case (lm_task_fvec)
                    c = c + 1
                    call residual(fb(:, c), p, wcol, st(p)%ft)
                case (lm_task_fdiff)
                    do j = 1, st(p)%ncol
                        call residual(fb(:, c + j), p, wcol, st(p)%fjac(1:m, j))
                    end do
                    c = c + st(p)%ncol
                case default
                    cycle
                end select
                if (status /= 0) st(p)%iflag = -abs(status)
                call next_request(st(p))
            end do
        end do

        do p = 1, k
            ier(p) = st(p)%info
            nfev(p) = st(p)%nfev
            if (st(p)%n /= n) then  ! too few points: left as given
                fvec(:, p) = ieee_value(1.0_dp, ieee_quiet_nan)
                fnorm(p) = fvec(1, p)
                if (bounded /= 0) active(:, p) = 0
                if (want_cov) cov(:, :, p) = fvec(1, p)
                cycle
            end if
            x(:, p) = st(p)%x
            fvec(:, p) = st(p)%fvec
            if (bounded /= 0) call lm_active(st(p), active(:, p))
            if (bounded /= 0 .and. ier(p) == 0) then
                ! a box refused as improper input: no residuals to report
                fvec(:, p) = ieee_value(1.0_dp, ieee_quiet_nan)
                fnorm(p) = fvec(1, p)
            else
                fnorm(p) = enorm(m, fvec(:, p))
            end if
            if (want_cov) call batch_covariance(m, n, st(p)%fjac, st(p)%ipvt, ier(p), &
                                                bounded /= 0, active(:, p), cov(:, :, p))
        end do

    contains

        !> Advance a fit to its next evaluation (or to the end): nothing else
        !> is asked of this caller (no reports: nprint is 0).
        pure recursive subroutine next_request(s)
            type(lm_state), intent(inout) :: s

            do
                call lm_step(s)
                if (s%task /= lm_task_report) exit
            end do
        end subroutine next_request

        !> Problem p's residuals from the callback's values f.
        pure subroutine residual(f, p, wcol, r)
            real(dp), intent(in) :: f(m)
            integer, intent(in) :: p, wcol
            real(dp), intent(out) :: r(m)

            integer :: i

            if (.not. have_y) then
                r = f
            else if (nw == 0) then
                r = f - ydata(:, p)
            else
                r = w(:, wcol) * (f - ydata(:, p))
            end if
            if (omit) then
                do i = 1, m
                    if (ieee_is_nan(ydata(i, p))) r(i) = 0.0_dp
                end do
            end if
        end subroutine residual
    end subroutine lm_points

end module minpack_glue


!> Least squares: lmdif (jac 0) or lmder. Wrapped by f2py as _minpack.lm,
!> which holds the GIL (for callbacks that may call Python), and called by
!> _fastpath.c as _minpack.lm_compiled, which releases it (compiled callbacks
!> only). Addresses are given as integers, 0 for NULL.
subroutine minpack_glue_lm(func, jac, udata, block, progress, pdata, have_f0, m, n, x, fvec, &
                           ftol, xtol, gtol, maxfev, epsfcn, diag, mode, factor, fjac, ipvt, &
                           qtf, info, nfev, njev, bounded, lower, upper, active) &
        bind(c, name="minpack_glue_lm")
    use, intrinsic :: iso_c_binding, only: c_intptr_t, c_int, c_double
    use minpack_glue, only: fit_callbacks, glue_callbacks, run_lm
    implicit none
    integer(c_intptr_t), intent(in) :: func
        !! residuals, with the C API's signature
    integer(c_intptr_t), intent(in) :: jac
        !! Jacobian (0: lmdif)
    integer(c_intptr_t), intent(in) :: udata
        !! user data of func, jac and block
    integer(c_intptr_t), intent(in) :: block
        !! 0, or lmdif's block callback (all points of a difference Jacobian)
    integer(c_intptr_t), intent(in) :: progress
        !! 0, or the report at the start of each iteration
    integer(c_intptr_t), intent(in) :: pdata
        !! user data of the report
    integer(c_int), intent(in) :: have_f0
        !! 1: fvec holds the residuals at x on entry
    integer(c_int), intent(in) :: m
        !! residuals
    integer(c_int), intent(in) :: n
        !! variables
    real(c_double), intent(inout) :: x(n)
        !! start on entry, solution on exit
    real(c_double), intent(inout) :: fvec(m)
        !! residuals at the solution
    real(c_double), intent(in) :: ftol, xtol, gtol
        !! MINPACK's tolerances
    integer(c_int), intent(in) :: maxfev
        !! evaluation limit; <= 0: MINPACK's default
    real(c_double), intent(in) :: epsfcn
        !! step of the difference Jacobian
    real(c_double), intent(inout) :: diag(n)
        !! scaling (set by MINPACK with mode 1)
    integer(c_int), intent(in) :: mode
        !! 1: automatic scaling, 2: diag as given
    real(c_double), intent(in) :: factor
        !! initial step bound
    real(c_double), intent(out) :: fjac(m, n)
        !! R and Householder vectors of the final Jacobian
    integer(c_int), intent(out) :: ipvt(n)
        !! column permutation (1-based)
    real(c_double), intent(out) :: qtf(n)
        !! Q^T fvec
    integer(c_int), intent(out) :: info
        !! MINPACK's info, or -|status| of a callback that stopped it
    integer(c_int), intent(out) :: nfev, njev
        !! evaluations of func and jac
    integer(c_int), intent(in) :: bounded
        !! 0: no bounds (lower, upper and active are not referenced, and the
        !! fit is MINPACK's own); 1: lower <= x <= upper
    real(c_double), intent(in) :: lower(*)
        !! lower bounds (n of them when bounded)
    real(c_double), intent(in) :: upper(*)
        !! upper bounds (n of them when bounded)
    integer(c_int), intent(inout) :: active(*)
        !! when bounded, on exit: -1 on the lower bound (or fixed), 1 on the
        !! upper, 0 free

    type(fit_callbacks), target :: cb

    cb = glue_callbacks(func, jac, udata, block, progress, pdata, have_f0 /= 0)
    if (bounded == 0) then
        call run_lm(cb, m, n, x, fvec, ftol, xtol, gtol, maxfev, epsfcn, diag, mode, factor, &
                    fjac, ipvt, qtf, info, nfev, njev)
    else
        call run_lm(cb, m, n, x, fvec, ftol, xtol, gtol, maxfev, epsfcn, diag, mode, factor, &
                    fjac, ipvt, qtf, info, nfev, njev, lower(1:n), upper(1:n), active(1:n))
    end if
end subroutine minpack_glue_lm


!> Roots: hybrd (jac 0) or hybrj. Wrapped by f2py twice (_minpack.pyf): as
!> _minpack.hybrid (holds the GIL) and _minpack.hybrid_nogil (releases it).
subroutine minpack_glue_hybrid(func, jac, udata, have_f0, n, x, fvec, xtol, maxfev, ml, mu, &
                               epsfcn, diag, mode, factor, fjac, r, qtf, info, nfev, njev) &
        bind(c, name="minpack_glue_hybrid")
    use, intrinsic :: iso_c_binding, only: c_intptr_t, c_int, c_double
    use minpack_glue, only: fit_callbacks, glue_callbacks, run_hybrid
    implicit none
    integer(c_intptr_t), intent(in) :: func
        !! the functions, with the C API's signature (called with m = n)
    integer(c_intptr_t), intent(in) :: jac
        !! Jacobian (0: hybrd)
    integer(c_intptr_t), intent(in) :: udata
        !! user data of func and jac
    integer(c_int), intent(in) :: have_f0
        !! 1: fvec holds the functions at x on entry
    integer(c_int), intent(in) :: n
        !! equations and unknowns
    real(c_double), intent(inout) :: x(n)
        !! start on entry, solution on exit
    real(c_double), intent(inout) :: fvec(n)
        !! the functions at the solution
    real(c_double), intent(in) :: xtol
        !! MINPACK's tolerance
    integer(c_int), intent(in) :: maxfev
        !! evaluation limit; <= 0: MINPACK's default
    integer(c_int), intent(in) :: ml, mu
        !! band widths of a difference Jacobian
    real(c_double), intent(in) :: epsfcn
        !! step of the difference Jacobian
    real(c_double), intent(inout) :: diag(n)
        !! scaling (set by MINPACK with mode 1)
    integer(c_int), intent(in) :: mode
        !! 1: automatic scaling, 2: diag as given
    real(c_double), intent(in) :: factor
        !! initial step bound
    real(c_double), intent(out) :: fjac(n, n)
        !! Q of the final Jacobian
    real(c_double), intent(out) :: r((n * (n + 1)) / 2)
        !! R, packed by rows
    real(c_double), intent(out) :: qtf(n)
        !! Q^T fvec
    integer(c_int), intent(out) :: info
        !! MINPACK's info, or -|status| of a callback that stopped it
    integer(c_int), intent(out) :: nfev, njev
        !! evaluations of func and jac

    type(fit_callbacks), target :: cb

    cb = glue_callbacks(func, jac, udata, 0_c_intptr_t, 0_c_intptr_t, 0_c_intptr_t, &
                        have_f0 /= 0)
    call run_hybrid(cb, n, x, fvec, xtol, maxfev, ml, mu, epsfcn, diag, mode, factor, fjac, &
                    r, qtf, info, nfev, njev)
end subroutine minpack_glue_hybrid


!> Many fits of compiled functions: wrapped by f2py as _minpack.lm_batch
!> (releases the GIL).
subroutine minpack_glue_lm_batch(func, jac, ubase, ustride, m, n, k, x, ftol, xtol, gtol, &
                                 maxfev, epsfcn, diag, mode, factor, want_fvec, fvec, &
                                 want_cov, cov, fnorm, ier, nfev, njev, bounded, lower, &
                                 upper, active)
    use, intrinsic :: iso_c_binding, only: c_intptr_t
    use minpack_kinds, only: dp
    use minpack_glue, only: lm_batch
    implicit none
    integer(c_intptr_t), intent(in) :: func
        !! residuals, with the C API's signature
    integer(c_intptr_t), intent(in) :: jac
        !! Jacobian (0: lmdif)
    integer(c_intptr_t), intent(in) :: ubase, ustride
        !! user data of problem p (from 1): ubase + (p - 1) * ustride
    integer, intent(in) :: m, n, k
        !! residuals, variables, problems
    real(dp), intent(inout) :: x(n, k)
        !! starts on entry, solutions on exit
    real(dp), intent(in) :: ftol, xtol, gtol, epsfcn, factor
        !! as for minpack_glue_lm
    integer, intent(in) :: maxfev, mode
        !! as for minpack_glue_lm
    real(dp), intent(in) :: diag(n)
        !! scaling with mode 2
    integer, intent(in) :: want_fvec, want_cov
        !! 1: write fvec (m by k), cov (n by n by k)
    real(dp), intent(inout) :: fvec(*), cov(*)
        !! final residuals and covariances, when asked for
    real(dp), intent(out) :: fnorm(k)
        !! |fvec| per problem
    integer, intent(out) :: ier(k), nfev(k), njev(k)
        !! per problem
    integer, intent(in) :: bounded
        !! 0: no bounds; 1: one box for all (lower, upper: n each); 2: one per
        !! problem (n by k each)
    real(dp), intent(in) :: lower(*), upper(*)
        !! the bounds, when bounded
    integer, intent(inout) :: active(*)
        !! when bounded, n by k on exit: -1 lower (or fixed), 1 upper, 0 free

    call lm_batch(func, jac, ubase, ustride, m, n, k, x, ftol, xtol, gtol, maxfev, epsfcn, &
                  diag, mode, factor, want_fvec /= 0, fvec, want_cov /= 0, cov, fnorm, ier, &
                  nfev, njev, bounded, lower, upper, active)
end subroutine minpack_glue_lm_batch


!> MINPACK's default maxfev for n variables, with (with_jac 1) or without
!> an analytic Jacobian (wrapped by f2py as _minpack.default_maxfev).
subroutine minpack_glue_default_maxfev(n, with_jac, maxfev)
    use minpack_capi, only: default_maxfev
    implicit none
    integer, intent(in) :: n
        !! variables
    integer, intent(in) :: with_jac
        !! 1: the Jacobian is computed by the caller
    integer, intent(out) :: maxfev
        !! the limit on function evaluations

    maxfev = default_maxfev(n, with_jac /= 0)
end subroutine minpack_glue_default_maxfev


!> MINPACK's derivative check (wrapped by f2py as _minpack.chkder): mode 1
!> gives the nearby point xp, mode 2 the per-function measures err.
subroutine minpack_glue_chkder(m, n, x, fvec, fjac, xp, fvecp, mode, err)
    use minpack_kinds, only: dp
    use minpack_derivcheck, only: chkder
    implicit none
    integer, intent(in) :: m, n, mode
    real(dp), intent(in) :: x(n), fvec(m), fjac(m, n), fvecp(m)
    real(dp), intent(inout) :: xp(n), err(m)

    call chkder(m, n, x, fvec, fjac, m, xp, fvecp, mode, err)
end subroutine minpack_glue_chkder


!> Covariance from R and ipvt (wrapped by f2py as _minpack.covar).
subroutine minpack_glue_covar(m, n, r, ipvt, cov, info)
    use minpack_kinds, only: dp
    use minpack_linalg, only: covar
    implicit none
    integer, intent(in) :: m, n
    real(dp), intent(in) :: r(m, n)
    integer, intent(in) :: ipvt(n)
    real(dp), intent(out) :: cov(n, n)
    integer, intent(out) :: info

    call covar(n, r, m, ipvt, cov, n, info)
end subroutine minpack_glue_covar


!> Many fits of a vectorised Python function by reverse communication
!> (lm_points): wrapped by f2py as _minpack.lm_points, which releases the GIL;
!> the callback is the trampoline's minpack_tramp_points, which takes it.
subroutine minpack_glue_lm_points(points, pdata, m, n, k, x, ftol, xtol, gtol, maxfev, &
                                  epsfcn, diag, mode, factor, have_y, ydata, nw, w, omit, &
                                  fvec, want_cov, cov, fnorm, ier, nfev, bounded, lower, &
                                  upper, active)
    use, intrinsic :: iso_c_binding, only: c_intptr_t
    use minpack_kinds, only: dp
    use minpack_glue, only: lm_points
    implicit none
    integer(c_intptr_t), intent(in) :: points
        !! the callback, int points(m, n, np, x, problem, f, user_data)
    integer(c_intptr_t), intent(in) :: pdata
        !! its user data
    integer, intent(in) :: m, n, k
        !! residuals, variables, problems
    real(dp), intent(inout) :: x(n, k)
        !! starts on entry, solutions on exit
    real(dp), intent(in) :: ftol, xtol, gtol, epsfcn, factor
        !! as for minpack_glue_lm
    integer, intent(in) :: maxfev, mode
        !! as for minpack_glue_lm
    real(dp), intent(in) :: diag(n)
        !! scaling with mode 2
    integer, intent(in) :: have_y
        !! 1: the callback gives model values, fitted to ydata (m by k)
    real(dp), intent(in) :: ydata(*)
        !! the data, with have_y
    integer, intent(in) :: nw
        !! weights: 0 none, 1 one vector w (m), 2 one per problem (m by k)
    real(dp), intent(in) :: w(*)
        !! the weights
    integer, intent(in) :: omit
        !! 1: a NaN in ydata is a point left out
    real(dp), intent(out) :: fvec(m, k)
        !! the final residuals
    integer, intent(in) :: want_cov
        !! 1: write cov (n by n by k)
    real(dp), intent(inout) :: cov(*)
        !! the covariances, when asked for
    real(dp), intent(out) :: fnorm(k)
        !! |fvec| per problem
    integer, intent(out) :: ier(k), nfev(k)
        !! per problem
    integer, intent(in) :: bounded
        !! as for minpack_glue_lm_batch
    real(dp), intent(in) :: lower(*), upper(*)
        !! as for minpack_glue_lm_batch
    integer, intent(inout) :: active(*)
        !! as for minpack_glue_lm_batch

    call lm_points(points, pdata, m, n, k, x, ftol, xtol, gtol, maxfev, epsfcn, diag, mode, &
                   factor, have_y /= 0, ydata, nw, w, omit /= 0, fvec, want_cov /= 0, cov, &
                   fnorm, ier, nfev, bounded, lower, upper, active)
end subroutine minpack_glue_lm_points
