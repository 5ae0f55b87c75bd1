!> Callbacks of the edge-case program: a small exponential fit and a 2 by 2
!> system, with a misbehaviour chosen through the `udata` pointer.
module edge_callbacks
    use, intrinsic :: iso_c_binding, only: c_ptr, c_f_pointer
    use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan, &
        ieee_positive_inf
    use minpack, only: dp
    implicit none
    private

    public :: edge_case, lm_residual, lm_residual_jacobian, lm_residual_row, &
        square_system, system_jacobian, banded_system
    public :: log_residual, log_residual_jacobian, log_residual_row, log_system, &
        log_system_jacobian
    public :: normal, nan_values, inf_values, stop_status, exact_start, rank_deficient, &
        nan_jacobian

    integer, parameter :: normal = 0
        !! the residuals of the model
    integer, parameter :: nan_values = 1
        !! NaN residuals from call `at` on
    integer, parameter :: inf_values = 2
        !! infinite residuals from call `at` on
    integer, parameter :: stop_status = 3
        !! iflag = -7 at call `at` (the callback asks the solver to stop)
    integer, parameter :: exact_start = 4
        !! data equal to the model at the start: zero residuals at once
    integer, parameter :: rank_deficient = 5
        !! the model ignores x(2): a Jacobian of rank 1
    integer, parameter :: nan_jacobian = 6
        !! a NaN in every Jacobian the callback computes (its first row)

    !> What a callback should do, and how often it was called.
    type :: edge_case
        integer :: kind = normal
            !! one of the kinds above
        integer :: at = 1
            !! the call from which the misbehaviour starts
        integer :: calls = 0
            !! residual evaluations (any iflag > 0)
        integer :: nonfinite = 0
            !! those of the log models that were undefined (NaN)
        real(dp) :: scale = 2.0_dp
            !! amplitude of the data
    end type edge_case

contains

    !> t_i = (i - 1) / 4, i = 1..m; data scale * exp(-t / 2) (or the model at
    !> x = (1, 1) for exact_start).
    pure real(dp) function data_point(c, i) result(y)
        type(edge_case), intent(in) :: c
        integer, intent(in) :: i

        real(dp) :: t

        t = (i - 1) / 4.0_dp
        if (c%kind == exact_start) then
            y = exp(-t)
        else
            y = c%scale * exp(-t / 2)
        end if
    end function data_point

    subroutine model(c, m, n, x, fvec)
        type(edge_case), intent(in) :: c
        integer, intent(in) :: m, n
        real(dp), intent(in) :: x(n)
        real(dp), intent(out) :: fvec(m)

        integer :: i
        real(dp) :: t, rate

        rate = 0.5_dp
        if (n >= 2 .and. c%kind /= rank_deficient) rate = x(2)
        do i = 1, m
            t = (i - 1) / 4.0_dp
            fvec(i) = x(1) * exp(-rate * t) - data_point(c, i)
        end do
    end subroutine model

    subroutine jacobian(c, m, n, x, fjac, ldfjac)
        type(edge_case), intent(in) :: c
        integer, intent(in) :: m, n, ldfjac
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fjac(ldfjac, n)

        integer :: i
        real(dp) :: t, rate

        rate = 0.5_dp
        if (n >= 2 .and. c%kind /= rank_deficient) rate = x(2)
        do i = 1, m
            t = (i - 1) / 4.0_dp
            fjac(i, 1) = exp(-rate * t)
            if (n >= 2) then
                fjac(i, 2) = 0
                if (c%kind /= rank_deficient) fjac(i, 2) = -x(1) * t * exp(-rate * t)
            end if
        end do
    end subroutine jacobian

    !> Count a residual evaluation and spoil fvec as the case asks.
    subroutine misbehave(c, m, fvec, iflag)
        type(edge_case), intent(inout) :: c
        integer, intent(in) :: m
        real(dp), intent(inout) :: fvec(m)
        integer, intent(inout) :: iflag

        c%calls = c%calls + 1
        if (c%calls < c%at) return
        select case (c%kind)
        case (nan_values)
            fvec = ieee_value(1.0_dp, ieee_quiet_nan)
        case (inf_values)
            fvec = ieee_value(1.0_dp, ieee_positive_inf)
        case (stop_status)
            iflag = -7
        end select
    end subroutine misbehave

    !> lmdif callback.
    subroutine lm_residual(m, n, x, fvec, iflag, udata)
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(in) :: x(n)
            !! point of evaluation
        real(dp), intent(inout) :: fvec(m)
            !! residuals
        integer, intent(inout) :: iflag
            !! 0: report only; otherwise compute fvec
        type(c_ptr), intent(in), value :: udata
            !! points to an `edge_case`

        type(edge_case), pointer :: c

        call c_f_pointer(udata, c)
        if (iflag == 0) return
        call model(c, m, n, x, fvec)
        call misbehave(c, m, fvec, iflag)
    end subroutine lm_residual

    !> lmder callback.
    subroutine lm_residual_jacobian(m, n, x, fvec, fjac, ldfjac, iflag, udata)
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of variables
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac
        real(dp), intent(in) :: x(n)
            !! point of evaluation
        real(dp), intent(inout) :: fvec(m)
            !! residuals (iflag = 1)
        real(dp), intent(inout) :: fjac(ldfjac, n)
            !! Jacobian (iflag = 2)
        integer, intent(inout) :: iflag
            !! what to compute
        type(c_ptr), intent(in), value :: udata
            !! points to an `edge_case`

        type(edge_case), pointer :: c

        call c_f_pointer(udata, c)
        select case (iflag)
        case (1)
            call model(c, m, n, x, fvec)
            call misbehave(c, m, fvec, iflag)
        case (2)
            call jacobian(c, m, n, x, fjac, ldfjac)
            if (c%kind == nan_jacobian) fjac(1, 1) = ieee_value(1.0_dp, ieee_quiet_nan)
        end select
    end subroutine lm_residual_jacobian

    !> lmstr callback: residuals (iflag = 1) or row iflag - 1 of the Jacobian.
    subroutine lm_residual_row(m, n, x, fvec, fjrow, iflag, udata)
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(in) :: x(n)
            !! point of evaluation
        real(dp), intent(inout) :: fvec(m)
            !! residuals (iflag = 1)
        real(dp), intent(inout) :: fjrow(n)
            !! a row of the Jacobian (iflag >= 2)
        integer, intent(inout) :: iflag
            !! what to compute
        type(c_ptr), intent(in), value :: udata
            !! points to an `edge_case`

        type(edge_case), pointer :: c
        real(dp) :: full(m, n)

        call c_f_pointer(udata, c)
        if (iflag == 1) then
            call model(c, m, n, x, fvec)
            call misbehave(c, m, fvec, iflag)
        else if (iflag >= 2) then
            call jacobian(c, m, n, x, full, m)
            fjrow = full(iflag - 1, :)
            if (c%kind == nan_jacobian .and. iflag == 2) &
                fjrow(1) = ieee_value(1.0_dp, ieee_quiet_nan)
        end if
    end subroutine lm_residual_row

    !> hybrd callback: x1^2 + x2^2 = 4, x1 = x2 (more equations: x_i^2 = i).
    subroutine square_system(n, x, fvec, iflag, udata)
        integer, intent(in) :: n
            !! number of equations and unknowns
        real(dp), intent(in) :: x(n)
            !! point of evaluation
        real(dp), intent(inout) :: fvec(n)
            !! the functions
        integer, intent(inout) :: iflag
            !! 0: report only; otherwise compute fvec
        type(c_ptr), intent(in), value :: udata
            !! points to an `edge_case`

        type(edge_case), pointer :: c

        call c_f_pointer(udata, c)
        if (iflag == 0) return
        call equations(n, x, fvec)
        call misbehave(c, n, fvec, iflag)
    end subroutine square_system

    pure subroutine equations(n, x, fvec)
        integer, intent(in) :: n
        real(dp), intent(in) :: x(n)
        real(dp), intent(out) :: fvec(n)

        integer :: i

        if (n == 1) then
            fvec(1) = x(1)**2 - 2
            return
        end if
        fvec(1) = x(1)**2 + x(2)**2 - 4
        fvec(2) = x(1) - x(2)
        do i = 3, n
            fvec(i) = x(i)**2 - i
        end do
    end subroutine equations

    !> hybrj callback.
    subroutine system_jacobian(n, x, fvec, fjac, ldfjac, iflag, udata)
        integer, intent(in) :: n
            !! number of equations and unknowns
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac
        real(dp), intent(in) :: x(n)
            !! point of evaluation
        real(dp), intent(inout) :: fvec(n)
            !! the functions (iflag = 1)
        real(dp), intent(inout) :: fjac(ldfjac, n)
            !! the Jacobian (iflag = 2)
        integer, intent(inout) :: iflag
            !! what to compute
        type(c_ptr), intent(in), value :: udata
            !! points to an `edge_case`

        type(edge_case), pointer :: c
        integer :: i

        call c_f_pointer(udata, c)
        select case (iflag)
        case (1)
            call equations(n, x, fvec)
            call misbehave(c, n, fvec, iflag)
        case (2)
            fjac(1:n, 1:n) = 0
            if (n == 1) then
                fjac(1, 1) = 2 * x(1)
                return
            end if
            fjac(1, 1) = 2 * x(1)
            fjac(1, 2) = 2 * x(2)
            fjac(2, 1) = 1
            fjac(2, 2) = -1
            do i = 3, n
                fjac(i, i) = 2 * x(i)
            end do
            if (c%kind == nan_jacobian) fjac(1, 1) = ieee_value(1.0_dp, ieee_quiet_nan)
        end select
    end subroutine system_jacobian

    !> hybrd callback of a diagonal system x_i^2 = i (banded, ml = mu = 0).
    subroutine banded_system(n, x, fvec, iflag, udata)
        integer, intent(in) :: n
            !! number of equations and unknowns
        real(dp), intent(in) :: x(n)
            !! point of evaluation
        real(dp), intent(inout) :: fvec(n)
            !! the functions
        integer, intent(inout) :: iflag
            !! 0: report only; otherwise compute fvec
        type(c_ptr), intent(in), value :: udata
            !! points to an `edge_case`

        type(edge_case), pointer :: c
        integer :: i

        call c_f_pointer(udata, c)
        if (iflag == 0) return
        do i = 1, n
            fvec(i) = x(i)**2 - i
        end do
        call misbehave(c, n, fvec, iflag)
    end subroutine banded_system

    !> A model undefined for x(1) <= 0: fvec(i) = log(x(1)) t_i + x(2) - y_i
    !> with t_i = (i - 1) / 4, y_i = log(2) t_i + 0.5 (so x = (2, 0.5) fits
    !> exactly). Where undefined, fvec is NaN (made, not computed: no
    !> floating-point flag is raised here, so a trapped run shows that the
    !> solver never computes with it). From x = (10, 0) the first
    !> Gauss-Newton step makes x(1) negative.
    subroutine log_model(c, m, x, fvec)
        type(edge_case), intent(inout) :: c
        integer, intent(in) :: m
        real(dp), intent(in) :: x(2)
        real(dp), intent(out) :: fvec(m)

        integer :: i
        real(dp) :: t

        c%calls = c%calls + 1
        if (.not. x(1) > 0) then
            c%nonfinite = c%nonfinite + 1
            fvec = ieee_value(1.0_dp, ieee_quiet_nan)
            return
        end if
        do i = 1, m
            t = (i - 1) / 4.0_dp
            fvec(i) = log(x(1)) * t + x(2) - (log(2.0_dp) * t + 0.5_dp)
        end do
    end subroutine log_model

    !> lmdif callback of the log model (n = 2).
    subroutine log_residual(m, n, x, fvec, iflag, udata)
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of variables (2)
        real(dp), intent(in) :: x(n)
            !! point of evaluation
        real(dp), intent(inout) :: fvec(m)
            !! residuals
        integer, intent(inout) :: iflag
            !! 0: report only; otherwise compute fvec
        type(c_ptr), intent(in), value :: udata
            !! points to an `edge_case`

        type(edge_case), pointer :: c

        call c_f_pointer(udata, c)
        if (iflag /= 0) call log_model(c, m, x, fvec)
    end subroutine log_residual

    !> lmder callback of the log model.
    subroutine log_residual_jacobian(m, n, x, fvec, fjac, ldfjac, iflag, udata)
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of variables (2)
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac
        real(dp), intent(in) :: x(n)
            !! point of evaluation
        real(dp), intent(inout) :: fvec(m)
            !! residuals (iflag = 1)
        real(dp), intent(inout) :: fjac(ldfjac, n)
            !! Jacobian (iflag = 2)
        integer, intent(inout) :: iflag
            !! what to compute
        type(c_ptr), intent(in), value :: udata
            !! points to an `edge_case`

        type(edge_case), pointer :: c
        integer :: i

        call c_f_pointer(udata, c)
        select case (iflag)
        case (1)
            call log_model(c, m, x, fvec)
        case (2)
            do i = 1, m
                fjac(i, 1) = ((i - 1) / 4.0_dp) / x(1)
                fjac(i, 2) = 1
            end do
        end select
    end subroutine log_residual_jacobian

    !> lmstr callback of the log model.
    subroutine log_residual_row(m, n, x, fvec, fjrow, iflag, udata)
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of variables (2)
        real(dp), intent(in) :: x(n)
            !! point of evaluation
        real(dp), intent(inout) :: fvec(m)
            !! residuals (iflag = 1)
        real(dp), intent(inout) :: fjrow(n)
            !! row iflag - 1 of the Jacobian (iflag >= 2)
        integer, intent(inout) :: iflag
            !! what to compute
        type(c_ptr), intent(in), value :: udata
            !! points to an `edge_case`

        type(edge_case), pointer :: c

        call c_f_pointer(udata, c)
        if (iflag == 1) then
            call log_model(c, m, x, fvec)
        else if (iflag >= 2) then
            fjrow = [((iflag - 2) / 4.0_dp) / x(1), 1.0_dp]
        end if
    end subroutine log_residual_row

    !> The system log(x(1)) = 1, x(2) = x(1) / 3, undefined for x(1) <= 0
    !> (NaN, made as in log_model). From (30, 1) the Newton step makes x(1)
    !> negative.
    subroutine log_equations(c, x, fvec)
        type(edge_case), intent(inout) :: c
        real(dp), intent(in) :: x(2)
        real(dp), intent(out) :: fvec(2)

        c%calls = c%calls + 1
        if (.not. x(1) > 0) then
            c%nonfinite = c%nonfinite + 1
            fvec = ieee_value(1.0_dp, ieee_quiet_nan)
            return
        end if
        fvec = [log(x(1)) - 1, x(2) - x(1) / 3]
    end subroutine log_equations

    !> hybrd callback of the log system (n = 2).
    subroutine log_system(n, x, fvec, iflag, udata)
        integer, intent(in) :: n
            !! number of equations and unknowns (2)
        real(dp), intent(in) :: x(n)
            !! point of evaluation
        real(dp), intent(inout) :: fvec(n)
            !! the functions
        integer, intent(inout) :: iflag
            !! 0: report only; otherwise compute fvec
        type(c_ptr), intent(in), value :: udata
            !! points to an `edge_case`

        type(edge_case), pointer :: c

        call c_f_pointer(udata, c)
        if (iflag /= 0) call log_equations(c, x, fvec)
    end subroutine log_system

    !> hybrj callback of the log system.
    subroutine log_system_jacobian(n, x, fvec, fjac, ldfjac, iflag, udata)
        integer, intent(in) :: n
            !! number of equations and unknowns (2)
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac
        real(dp), intent(in) :: x(n)
            !! point of evaluation
        real(dp), intent(inout) :: fvec(n)
            !! the functions (iflag = 1)
        real(dp), intent(inout) :: fjac(ldfjac, n)
            !! the Jacobian (iflag = 2)
        integer, intent(inout) :: iflag
            !! what to compute
        type(c_ptr), intent(in), value :: udata
            !! points to an `edge_case`

        type(edge_case), pointer :: c

        call c_f_pointer(udata, c)
        select case (iflag)
        case (1)
            call log_equations(c, x, fvec)
        case (2)
            fjac(1:2, 1:2) = reshape([1 / x(1), -1 / 3.0_dp, 0.0_dp, 1.0_dp], [2, 2])
        end select
    end subroutine log_system_jacobian

end module edge_callbacks


!> Edge cases of every solver, for the build with run-time checks
!> (-fcheck=all) and floating-point traps (-ffpe-trap=invalid,zero,overflow):
!> tiny and empty problems, improper inputs (MINPACK-1's info = 0), maxfev = 1,
!> a callback that stops the solver at each of its first calls, zero residuals
!> at the start, a rank-deficient Jacobian, a start far away, NaN or
!> infinite residuals, and models undefined in part of the space (info 10
!> at a start where the residuals are not finite, info 11 for a Jacobian
!> that is not finite, convergence through undefined trial points). Each
!> case checks info (and what the solver returns), so the program also runs
!> as an ordinary test. Exits through `error stop 1` if any check fails.
!>
!> Floating-point exemptions: none. Every case runs with the traps of the
!> build, the NaN and infinite residuals and Jacobians too: the callbacks
!> make those values with ieee_value (which raises no flag), and the solvers
!> test them (info 10, info 11, a failed step) without ever computing with
!> them, so no trap fires. They never report success with a non-finite x
!> (success at the last finite x is fine: when every trial point gives NaN
!> the step bound shrinks to nothing).
program test_edges
    use, intrinsic :: iso_c_binding, only: c_loc
    use, intrinsic :: ieee_arithmetic, only: ieee_is_finite
    use minpack, only: dp, lmdif, lmder, lmstr, hybrd, hybrj, chkder, covar, enorm, &
        info_nonfinite_start, info_nonfinite_jacobian
    use edge_callbacks
    implicit none

    integer :: nfail, ncases

    nfail = 0
    ncases = 0

    call lm_cases()
    call hybrid_cases()
    call kernel_cases()

    write (*, '(/, i0, a, i0, a)') ncases, ' checks, ', nfail, ' failed'
    if (nfail > 0) then
        write (*, '(a)') 'test_edges: FAILED'
        error stop 1
    end if
    write (*, '(a)') 'test_edges: all checks passed'

contains

    subroutine check(ok, what)
        logical, intent(in) :: ok
        character(len=*), intent(in) :: what

        ncases = ncases + 1
        if (ok) then
            write (*, '(a, a)') 'ok    ', what
        else
            nfail = nfail + 1
            write (*, '(a, a)') 'FAIL  ', what
        end if
    end subroutine check

    logical function converged(info)
        integer, intent(in) :: info

        converged = info >= 1 .and. info <= 4
    end function converged

    !> Run lmdif, lmder or lmstr (solver 1, 2, 3) on m residuals and n
    !> variables from x; return info, nfev and the final x.
    subroutine run_lm(solver, c, m, n, x, ftol, xtol, gtol, maxfev, factor, mode, diag, &
                      ldfjac, info, nfev)
        integer, intent(in) :: solver, m, n, maxfev, mode, ldfjac
        type(edge_case), intent(inout), target :: c
        real(dp), intent(inout) :: x(n), diag(n)
        real(dp), intent(in) :: ftol, xtol, gtol, factor
        integer, intent(out) :: info, nfev

        real(dp), allocatable :: fvec(:), fjac(:, :), qtf(:)
        integer, allocatable :: ipvt(:)
        integer :: njev

        allocate (fvec(m), qtf(n), ipvt(n))
        if (solver == 3) then
            allocate (fjac(max(ldfjac, 1), n))
        else
            allocate (fjac(max(ldfjac, 1), n))
        end if
        select case (solver)
        case (1)
            call lmdif(lm_residual, m, n, x, fvec, ftol, xtol, gtol, maxfev, 0.0_dp, diag, &
                       mode, factor, 0, info, nfev, fjac, ldfjac, ipvt, qtf, c_loc(c))
        case (2)
            call lmder(lm_residual_jacobian, m, n, x, fvec, fjac, ldfjac, ftol, xtol, gtol, &
                       maxfev, diag, mode, factor, 0, info, nfev, njev, ipvt, qtf, c_loc(c))
        case (3)
            call lmstr(lm_residual_row, m, n, x, fvec, fjac, ldfjac, ftol, xtol, gtol, &
                       maxfev, diag, mode, factor, 0, info, nfev, njev, ipvt, qtf, c_loc(c))
        end select
    end subroutine run_lm

    !> One LM run with the usual settings: tolerances sqrt(eps), mode 1.
    subroutine lm_default(solver, c, m, n, x, maxfev, info, nfev)
        integer, intent(in) :: solver, m, n, maxfev
        type(edge_case), intent(inout), target :: c
        real(dp), intent(inout) :: x(n)
        integer, intent(out) :: info, nfev

        real(dp) :: diag(n), tol
        integer :: ld

        tol = sqrt(epsilon(1.0_dp))
        diag = 1
        ld = m
        if (solver == 3) ld = n
        call run_lm(solver, c, m, n, x, tol, tol, 0.0_dp, maxfev, 100.0_dp, 1, diag, ld, &
                    info, nfev)
    end subroutine lm_default

    subroutine lm_cases()
        character(len=5), parameter :: names(3) = ['lmdif', 'lmder', 'lmstr']
        type(edge_case), target :: c
        real(dp) :: x(2), x1(1), diag(2), tol
        real(dp), allocatable :: x0(:), d0(:)
        integer :: s, info, nfev, at, ld
        character(len=120) :: what

        tol = sqrt(epsilon(1.0_dp))
        do s = 1, 3
            ! an ordinary fit, and a tiny one
            c = edge_case()
            x = [1.0_dp, 1.0_dp]
            call lm_default(s, c, 5, 2, x, 400, info, nfev)
            call check(converged(info) .and. abs(x(1) - 2) < 1e-6_dp .and. &
                       abs(x(2) - 0.5_dp) < 1e-6_dp, names(s)//': m = 5, n = 2 converges')
            c = edge_case()
            x1 = [1.0_dp]
            call lm_default(s, c, 1, 1, x1, 200, info, nfev)
            call check(converged(info) .and. abs(x1(1) - 2) < 1e-6_dp, &
                       names(s)//': m = n = 1 converges')

            ! improper inputs: info 0, nothing evaluated
            c = edge_case()
            allocate (x0(0), d0(0))
            ld = 3
            call run_lm(s, c, 3, 0, x0, tol, tol, 0.0_dp, 100, 100.0_dp, 1, d0, ld, info, nfev)
            call check(info == 0 .and. c%calls == 0, names(s)//': n = 0 is improper')
            deallocate (x0, d0)
            call improper(s, 1, 2, tol, tol, 0.0_dp, 100, 100.0_dp, 1, 1.0_dp, 'm < n')
            call improper(s, 3, 2, -1.0_dp, tol, 0.0_dp, 100, 100.0_dp, 1, 1.0_dp, 'ftol < 0')
            call improper(s, 3, 2, tol, -1.0_dp, 0.0_dp, 100, 100.0_dp, 1, 1.0_dp, 'xtol < 0')
            call improper(s, 3, 2, tol, tol, -1.0_dp, 100, 100.0_dp, 1, 1.0_dp, 'gtol < 0')
            call improper(s, 3, 2, tol, tol, 0.0_dp, 0, 100.0_dp, 1, 1.0_dp, 'maxfev = 0')
            call improper(s, 3, 2, tol, tol, 0.0_dp, 100, 0.0_dp, 1, 1.0_dp, 'factor = 0')
            call improper(s, 3, 2, tol, tol, 0.0_dp, 100, 100.0_dp, 2, 0.0_dp, &
                          'mode 2, diag = 0')
            c = edge_case()
            x = [1.0_dp, 1.0_dp]
            diag = 1
            call run_lm(s, c, 3, 2, x, tol, tol, 0.0_dp, 100, 100.0_dp, 1, diag, 1, info, nfev)
            call check(info == 0 .and. c%calls == 0, names(s)//': ldfjac too small is improper')

            ! maxfev = 1 ends after the first iteration
            c = edge_case()
            x = [1.0_dp, 1.0_dp]
            call lm_default(s, c, 5, 2, x, 1, info, nfev)
            call check(info == 5 .and. all(ieee_is_finite(x)), names(s)//': maxfev = 1 gives info 5')

            ! the callback stops the solver at each of its first calls
            do at = 1, 6
                c = edge_case(kind=stop_status, at=at)
                x = [1.0_dp, 1.0_dp]
                call lm_default(s, c, 5, 2, x, 400, info, nfev)
                write (what, '(a, i0)') names(s)//': iflag = -7 at call ', at
                call check(info == -7 .and. c%calls == at, trim(what))
            end do

            ! zero residuals at the start; a Jacobian of rank 1; a far start
            c = edge_case(kind=exact_start)
            x = [1.0_dp, 1.0_dp]
            call lm_default(s, c, 5, 2, x, 400, info, nfev)
            call check(converged(info) .and. all(x == 1), names(s)//': zero residuals at x0')
            c = edge_case(kind=rank_deficient)
            x = [1.0_dp, 1.0_dp]
            call lm_default(s, c, 5, 2, x, 400, info, nfev)
            call check(converged(info) .and. abs(x(1) - 2) < 1e-6_dp, &
                       names(s)//': rank-deficient Jacobian')
            c = edge_case(scale=1e150_dp)
            x = [0.3e150_dp, 1.0_dp]
            call lm_default(s, c, 5, 2, x, 400, info, nfev)
            write (what, '(a, i0, a, es10.3, a, es10.3)') names(s)//': data of size '// &
                '1e150: info ', info, ', x = ', x(1), ', ', x(2)
            call check(converged(info) .and. abs(x(1) / 1e150_dp - 1) < 1e-6_dp, trim(what))

            ! NaN and infinite residuals from call `at` on: the solver ends
            ! within maxfev at a finite x
            do at = 1, 3, 2
                c = edge_case(kind=nan_values, at=at)
                x = [1.0_dp, 1.0_dp]
                call lm_default(s, c, 5, 2, x, 400, info, nfev)
                write (what, '(a, i0, a, i0)') names(s)//': NaN residuals from call ', at, &
                    ': info ', info
                call check(all(ieee_is_finite(x)) .and. info /= 0 .and. &
                           c%calls <= 400 + 2, trim(what))
                c = edge_case(kind=inf_values, at=at)
                x = [1.0_dp, 1.0_dp]
                call lm_default(s, c, 5, 2, x, 400, info, nfev)
                write (what, '(a, i0, a, i0)') names(s)//': infinite residuals from call ', &
                    at, ': info ', info
                call check(all(ieee_is_finite(x)) .and. info /= 0 .and. &
                           c%calls <= 400 + 2, trim(what))
            end do

            ! not finite at the start: info 10 after that one evaluation, x
            ! untouched
            c = edge_case(kind=nan_values, at=1)
            x = [1.0_dp, 1.0_dp]
            call lm_default(s, c, 5, 2, x, 400, info, nfev)
            call check(info == info_nonfinite_start .and. info == 10 .and. nfev == 1 .and. &
                       c%calls == 1 .and. all(x == 1), names(s)//': NaN at x0 is info 10')
            c = edge_case(kind=inf_values, at=1)
            x = [1.0_dp, 1.0_dp]
            call lm_default(s, c, 5, 2, x, 400, info, nfev)
            call check(info == 10 .and. c%calls == 1 .and. all(x == 1), &
                       names(s)//': inf at x0 is info 10')

            ! a Jacobian that is not finite: info 11 at x0 (lmdif: its first
            ! difference column, from the second evaluation; lmder, lmstr: a
            ! NaN from the callback, in a row for lmstr)
            if (s == 1) then
                c = edge_case(kind=nan_values, at=2)
            else
                c = edge_case(kind=nan_jacobian)
            end if
            x = [1.0_dp, 1.0_dp]
            call lm_default(s, c, 5, 2, x, 400, info, nfev)
            write (what, '(a, i0, a, i0)') names(s)//': NaN Jacobian is info 11: info ', &
                info, ', calls ', c%calls
            call check(info == info_nonfinite_jacobian .and. info == 11 .and. &
                       all(x == 1) .and. (c%calls == 3 .and. s == 1 .or. &
                                          c%calls == 1 .and. s /= 1), trim(what))

            ! a model undefined for x(1) <= 0, from a start whose first
            ! Gauss-Newton step goes there: failed steps, then convergence
            c = edge_case()
            x = [10.0_dp, 0.0_dp]
            call run_log_lm(s, c, x, info, nfev)
            write (what, '(a, i0, a, i0, a, i0)') names(s)//': log model converges '// &
                'through undefined trial points: info ', info, ', nfev ', nfev, &
                ', undefined ', c%nonfinite
            call check(converged(info) .and. c%nonfinite > 0 .and. nfev < 60 .and. &
                       all(abs(x - [2.0_dp, 0.5_dp]) < 1e-7_dp), trim(what))
        end do
    end subroutine lm_cases

    !> lmdif, lmder or lmstr (solver 1, 2, 3) on the log model (m = 8, n = 2).
    subroutine run_log_lm(solver, c, x, info, nfev)
        integer, intent(in) :: solver
        type(edge_case), intent(inout), target :: c
        real(dp), intent(inout) :: x(2)
        integer, intent(out) :: info, nfev

        integer, parameter :: m = 8
        real(dp) :: fvec(m), fjac(m, 2), qtf(2), diag(2), tol
        integer :: ipvt(2), njev

        tol = sqrt(epsilon(1.0_dp))
        select case (solver)
        case (1)
            call lmdif(log_residual, m, 2, x, fvec, tol, tol, 0.0_dp, 600, 0.0_dp, diag, 1, &
                       100.0_dp, 0, info, nfev, fjac, m, ipvt, qtf, c_loc(c))
        case (2)
            call lmder(log_residual_jacobian, m, 2, x, fvec, fjac, m, tol, tol, 0.0_dp, 300, &
                       diag, 1, 100.0_dp, 0, info, nfev, njev, ipvt, qtf, c_loc(c))
        case (3)
            call lmstr(log_residual_row, m, 2, x, fvec, fjac, m, tol, tol, 0.0_dp, 300, &
                       diag, 1, 100.0_dp, 0, info, nfev, njev, ipvt, qtf, c_loc(c))
        end select
    end subroutine run_log_lm

    subroutine improper(s, m, n, ftol, xtol, gtol, maxfev, factor, mode, d, what)
        integer, intent(in) :: s, m, n, maxfev, mode
        real(dp), intent(in) :: ftol, xtol, gtol, factor, d
        character(len=*), intent(in) :: what

        character(len=5), parameter :: names(3) = ['lmdif', 'lmder', 'lmstr']
        type(edge_case), target :: c
        real(dp) :: x(n), diag(n)
        integer :: info, nfev, ld

        x = 1
        diag = d
        ld = m
        if (s == 3) ld = n
        call run_lm(s, c, m, n, x, ftol, xtol, gtol, maxfev, factor, mode, diag, ld, &
                    info, nfev)
        call check(info == 0 .and. c%calls == 0 .and. all(x == 1), &
                   names(s)//': '//what//' is improper')
    end subroutine improper

    !> hybrd (solver 1, dense), hybrd banded (3) or hybrj (2) on n equations.
    subroutine run_hybrid(solver, c, n, x, xtol, maxfev, factor, mode, d, ldfjac, lr, &
                          info, nfev)
        integer, intent(in) :: solver, n, maxfev, mode, ldfjac, lr
        type(edge_case), intent(inout), target :: c
        real(dp), intent(inout) :: x(n)
        real(dp), intent(in) :: xtol, factor, d
        integer, intent(out) :: info, nfev

        real(dp), allocatable :: fvec(:), fjac(:, :), r(:), qtf(:), diag(:)
        integer :: njev

        allocate (fvec(n), fjac(max(ldfjac, 1), n), r(max(lr, 1)), qtf(n), diag(n))
        diag = d
        select case (solver)
        case (1)
            call hybrd(square_system, n, x, fvec, xtol, maxfev, n - 1, n - 1, 0.0_dp, diag, mode, &
                       factor, 0, info, nfev, fjac, ldfjac, r, lr, qtf, c_loc(c))
        case (2)
            call hybrj(system_jacobian, n, x, fvec, fjac, ldfjac, xtol, maxfev, diag, mode, &
                       factor, 0, info, nfev, njev, r, lr, qtf, c_loc(c))
        case (3)
            call hybrd(banded_system, n, x, fvec, xtol, maxfev, 0, 0, 0.0_dp, diag, mode, &
                       factor, 0, info, nfev, fjac, ldfjac, r, lr, qtf, c_loc(c))
        end select
    end subroutine run_hybrid

    subroutine hybrid_default(solver, c, n, x, maxfev, info, nfev)
        integer, intent(in) :: solver, n, maxfev
        type(edge_case), intent(inout), target :: c
        real(dp), intent(inout) :: x(n)
        integer, intent(out) :: info, nfev

        call run_hybrid(solver, c, n, x, sqrt(epsilon(1.0_dp)), maxfev, 100.0_dp, 1, &
                        1.0_dp, n, (n * (n + 1)) / 2, info, nfev)
    end subroutine hybrid_default

    subroutine hybrid_cases()
        character(len=12), parameter :: names(3) = [character(len=12) :: 'hybrd', &
            'hybrj', 'hybrd banded']
        type(edge_case), target :: c
        real(dp) :: x(2), x1(1), x5(5), tol
        real(dp), allocatable :: x0(:)
        integer :: s, info, nfev, at, i
        character(len=120) :: what

        tol = sqrt(epsilon(1.0_dp))
        do s = 1, 3
            c = edge_case()
            if (s == 3) then
                x5 = 1
                call hybrid_default(s, c, 5, x5, 1200, info, nfev)
                call check(info == 1 .and. all([(abs(x5(i)**2 - i) < 1e-8_dp, i = 1, 5)]), &
                           trim(names(s))//': x_i^2 = i converges')
            else
                x = [1.0_dp, 2.0_dp]
                call hybrid_default(s, c, 2, x, 600, info, nfev)
                call check(info == 1 .and. all(abs(x - sqrt(2.0_dp)) < 1e-8_dp), &
                           trim(names(s))//': 2 by 2 system converges')
            end if
            c = edge_case()
            x1 = [1.0_dp]
            call hybrid_default(s, c, 1, x1, 400, info, nfev)
            call check(info == 1 .and. abs(x1(1) - sqrt(2.0_dp)) < 1e-8_dp .or. &
                       s == 3 .and. info == 1, trim(names(s))//': n = 1 converges')

            ! improper inputs
            c = edge_case()
            allocate (x0(0))
            call run_hybrid(s, c, 0, x0, tol, 100, 100.0_dp, 1, 1.0_dp, 1, 1, info, nfev)
            call check(info == 0 .and. c%calls == 0, trim(names(s))//': n = 0 is improper')
            deallocate (x0)
            call improper_hybrid(s, -1.0_dp, 100, 100.0_dp, 1, 1.0_dp, 2, 3, 'xtol < 0')
            call improper_hybrid(s, tol, 0, 100.0_dp, 1, 1.0_dp, 2, 3, 'maxfev = 0')
            call improper_hybrid(s, tol, 100, 0.0_dp, 1, 1.0_dp, 2, 3, 'factor = 0')
            call improper_hybrid(s, tol, 100, 100.0_dp, 2, 0.0_dp, 2, 3, 'mode 2, diag = 0')
            call improper_hybrid(s, tol, 100, 100.0_dp, 1, 1.0_dp, 1, 3, 'ldfjac < n')
            call improper_hybrid(s, tol, 100, 100.0_dp, 1, 1.0_dp, 2, 2, 'lr too small')

            ! maxfev = 1; a callback that stops the solver
            c = edge_case()
            x = [1.0_dp, 2.0_dp]
            call hybrid_default(s, c, 2, x, 1, info, nfev)
            call check(info == 2 .and. all(ieee_is_finite(x)), &
                       trim(names(s))//': maxfev = 1 gives info 2')
            do at = 1, 4
                c = edge_case(kind=stop_status, at=at)
                x = [1.0_dp, 2.0_dp]
                call hybrid_default(s, c, 2, x, 600, info, nfev)
                write (what, '(a, i0)') trim(names(s))//': iflag = -7 at call ', at
                call check(info == -7 .and. c%calls == at, trim(what))
            end do

            ! NaN functions from call `at` on: no root claimed, a finite x
            do at = 1, 3, 2
                c = edge_case(kind=nan_values, at=at)
                x = [1.0_dp, 2.0_dp]
                call hybrid_default(s, c, 2, x, 600, info, nfev)
                write (what, '(a, i0, a, i0)') trim(names(s))//': NaN functions from call ', &
                    at, ': info ', info
                call check(info /= 1 .and. info /= 0 .and. all(ieee_is_finite(x)) .and. &
                           c%calls <= 600 + 2, trim(what))
            end do

            ! not finite at the start: info 10 after one evaluation
            c = edge_case(kind=nan_values, at=1)
            x = [1.0_dp, 2.0_dp]
            call hybrid_default(s, c, 2, x, 600, info, nfev)
            call check(info == info_nonfinite_start .and. nfev == 1 .and. c%calls == 1 &
                       .and. all(x == [1.0_dp, 2.0_dp]), trim(names(s))//': NaN at x0 is info 10')

            ! a Jacobian that is not finite: info 11 at x0 (hybrd: a difference
            ! column from the second evaluation on; hybrj: the callback's NaN)
            if (s == 2) then
                c = edge_case(kind=nan_jacobian)
            else
                c = edge_case(kind=nan_values, at=2)
            end if
            x = [1.0_dp, 2.0_dp]
            call hybrid_default(s, c, 2, x, 600, info, nfev)
            write (what, '(a, i0, a, i0)') trim(names(s))//': NaN Jacobian is info 11: '// &
                'info ', info, ', calls ', c%calls
            call check(info == info_nonfinite_jacobian .and. all(x == [1.0_dp, 2.0_dp]) &
                       .and. c%calls == merge(1, 2, s == 2) + merge(1, 0, s == 1), trim(what))

            ! equations undefined for x(1) <= 0, from a start whose Newton step
            ! goes there: failed steps without a Broyden update, then a root
            if (s /= 3) then
                c = edge_case()
                x = [30.0_dp, 1.0_dp]
                call run_log_hybrid(s, c, x, info, nfev)
                write (what, '(a, i0, a, i0, a, i0)') trim(names(s))//': log system '// &
                    'solved through undefined trial points: info ', info, ', nfev ', &
                    nfev, ', undefined ', c%nonfinite
                call check(info == 1 .and. c%nonfinite > 0 .and. nfev < 60 .and. &
                           abs(x(1) - exp(1.0_dp)) < 1e-8_dp .and. &
                           abs(x(2) - exp(1.0_dp) / 3) < 1e-8_dp, trim(what))
            end if
        end do
    end subroutine hybrid_cases

    !> hybrd (solver 1) or hybrj (2) on the log system from x.
    subroutine run_log_hybrid(solver, c, x, info, nfev)
        integer, intent(in) :: solver
        type(edge_case), intent(inout), target :: c
        real(dp), intent(inout) :: x(2)
        integer, intent(out) :: info, nfev

        real(dp) :: fvec(2), fjac(2, 2), r(3), qtf(2), diag(2), tol
        integer :: njev

        tol = sqrt(epsilon(1.0_dp))
        diag = 1
        if (solver == 1) then
            call hybrd(log_system, 2, x, fvec, tol, 600, 1, 1, 0.0_dp, diag, 1, 100.0_dp, &
                       0, info, nfev, fjac, 2, r, 3, qtf, c_loc(c))
        else
            call hybrj(log_system_jacobian, 2, x, fvec, fjac, 2, tol, 300, diag, 1, &
                       100.0_dp, 0, info, nfev, njev, r, 3, qtf, c_loc(c))
        end if
    end subroutine run_log_hybrid

    subroutine improper_hybrid(s, xtol, maxfev, factor, mode, d, ldfjac, lr, what)
        integer, intent(in) :: s, maxfev, mode, ldfjac, lr
        real(dp), intent(in) :: xtol, factor, d
        character(len=*), intent(in) :: what

        character(len=12), parameter :: names(3) = [character(len=12) :: 'hybrd', &
            'hybrj', 'hybrd banded']
        type(edge_case), target :: c
        real(dp) :: x(2)
        integer :: info, nfev

        x = [1.0_dp, 2.0_dp]
        call run_hybrid(s, c, 2, x, xtol, maxfev, factor, mode, d, ldfjac, lr, info, nfev)
        call check(info == 0 .and. c%calls == 0, trim(names(s))//': '//what//' is improper')
    end subroutine improper_hybrid

    !> enorm at the ends of the range, covar of a singular R, chkder where a
    !> variable or a function is zero.
    subroutine kernel_cases()
        real(dp) :: v(3), r(2, 2), cov(2, 2), x(2), xp(2), fvec(1), fvecp(1), fjac(1, 2)
        real(dp) :: err(1), big, small
        integer :: ipvt(2), info

        big = huge(1.0_dp) / 4
        small = tiny(1.0_dp) * 4
        v = [big, big, big]
        call check(abs(enorm(3, v) / (big * sqrt(3.0_dp)) - 1) < 1e-12_dp, &
                   'enorm of three huge/4 values (no overflow)')
        v = [small, small, 0.0_dp]
        call check(abs(enorm(3, v) / (small * sqrt(2.0_dp)) - 1) < 1e-12_dp, &
                   'enorm of tiny values (no underflow to 0)')
        v = 0
        call check(enorm(3, v) == 0, 'enorm of zeros')

        r = reshape([2.0_dp, 0.0_dp, 1.0_dp, 0.0_dp], [2, 2])
        ipvt = [1, 2]
        call covar(2, r, 2, ipvt, cov, 2, info)
        call check(info == 2, 'covar of a singular R reports the zero diagonal')
        r = reshape([2.0_dp, 0.0_dp, 1.0_dp, 4.0_dp], [2, 2])
        call covar(2, r, 2, ipvt, cov, 2, info)
        call check(info == 0 .and. all(ieee_is_finite(cov)), 'covar of a regular R')

        x = [0.0_dp, 1.0_dp]
        call chkder(1, 2, x, fvec, fjac, 1, xp, fvecp, 1, err)
        fvec = x(1) + x(2)**2
        fjac(1, :) = [1.0_dp, 2 * x(2)]
        fvecp = xp(1) + xp(2)**2
        call chkder(1, 2, x, fvec, fjac, 1, xp, fvecp, 2, err)
        call check(err(1) > 0.9_dp, 'chkder with a zero variable, right Jacobian')
        x = [0.0_dp, 0.0_dp]
        call chkder(1, 2, x, fvec, fjac, 1, xp, fvecp, 1, err)
        fvec = 0
        fvecp = 0
        call chkder(1, 2, x, fvec, fjac, 1, xp, fvecp, 2, err)
        call check(err(1) == 0, 'chkder of a function that vanishes: err = 0, no 0/0')
    end subroutine kernel_cases

end program test_edges
