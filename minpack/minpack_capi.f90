!> C interface to the Levenberg-Marquardt drivers.
!>
!> Every exported symbol is named `minpack_*`. Callbacks are plain C functions
!> that receive the caller's `void *user_data`; they return 0 to continue and
!> any other value to stop the solver, which then returns with info set to
!> that value made negative (-|status|; INT_MIN stays as it is). Scalars are
!> passed by value, arrays as pointers, matrices column-major. See
!> minpack/README.md. No internal procedure is passed anywhere, so no
!> executable stack is needed.
module minpack_capi
    use, intrinsic :: iso_c_binding, only: c_int, c_double, c_ptr, c_funptr, c_loc, &
        c_f_pointer, c_f_procpointer
    use, intrinsic :: iso_fortran_env, only: int64
    use minpack_kinds, only: dp
    use minpack_linalg, only: enorm, covar
    use minpack_lm, only: lmdif, lmder
    use minpack_lmrows, only: lmstr
    use minpack_hybrid, only: hybrd, hybrj
    use minpack_derivcheck, only: chkder
    implicit none
    private

    public :: minpack_func, minpack_jac
    public :: c_callbacks, call_func, call_func_jac, stop_on, default_maxfev
    public :: minpack_lmdif, minpack_lmder, minpack_lmdif1, minpack_lmder1
    public :: minpack_lmdif_bounded, minpack_lmder_bounded
    public :: minpack_enorm, minpack_covar
    public :: minpack_fjrow
    public :: minpack_lmstr, minpack_lmstr1, minpack_chkder
    public :: minpack_hybrd, minpack_hybrj, minpack_hybrd1, minpack_hybrj1

    abstract interface
        !> int func(int m, int n, const double *x, double *fvec, void *user_data)
        function minpack_func(m, n, x, fvec, udata) result(status) bind(c)
            import :: c_int, c_double, c_ptr
            implicit none
            integer(c_int), intent(in), value :: m
            integer(c_int), intent(in), value :: n
            real(c_double), intent(in) :: x(n)
            real(c_double), intent(inout) :: fvec(m)
            type(c_ptr), intent(in), value :: udata
            integer(c_int) :: status
        end function minpack_func

        !> int jac(int m, int n, const double *x, double *fjac, int ldfjac, void *user_data)
        function minpack_jac(m, n, x, fjac, ldfjac, udata) result(status) bind(c)
            import :: c_int, c_double, c_ptr
            implicit none
            integer(c_int), intent(in), value :: m
            integer(c_int), intent(in), value :: n
            real(c_double), intent(in) :: x(n)
            real(c_double), intent(inout) :: fjac(ldfjac, n)
            integer(c_int), intent(in), value :: ldfjac
            type(c_ptr), intent(in), value :: udata
            integer(c_int) :: status
        end function minpack_jac

        !> int fjrow(int m, int n, const double *x, double *fjrow, int row, void *user_data):
        !> row `row` of the Jacobian, 0-based (0 <= row < m), into fjrow[0..n-1]
        function minpack_fjrow(m, n, x, fjrow, row, udata) result(status) bind(c)
            import :: c_int, c_double, c_ptr
            implicit none
            integer(c_int), intent(in), value :: m
            integer(c_int), intent(in), value :: n
            real(c_double), intent(in) :: x(n)
            real(c_double), intent(inout) :: fjrow(n)
            integer(c_int), intent(in), value :: row
            type(c_ptr), intent(in), value :: udata
            integer(c_int) :: status
        end function minpack_fjrow
    end interface

    !> What the adapters need: the C callbacks and the caller's user data.
    type :: c_callbacks
        type(c_funptr) :: func
        type(c_funptr) :: jac
        type(c_ptr) :: udata
    end type c_callbacks

contains

    !> info = minpack_lmdif(func, m, n, x, fvec, ftol, xtol, gtol, maxfev, epsfcn,
    !>                      diag, mode, factor, nfev, fjac, ldfjac, ipvt, qtf, user_data)
    recursive function minpack_lmdif(func, m, n, x, fvec, ftol, xtol, gtol, maxfev, epsfcn, &
                                     diag, mode, factor, nfev, fjac, ldfjac, ipvt, qtf, &
                                     udata) result(info) bind(c, name="minpack_lmdif")
        type(c_funptr), intent(in), value :: func
        integer(c_int), intent(in), value :: m, n, maxfev, mode, ldfjac
        real(c_double), intent(inout) :: x(n), diag(n)
        real(c_double), intent(out) :: fvec(m), fjac(ldfjac, n), qtf(n)
        real(c_double), intent(in), value :: ftol, xtol, gtol, epsfcn, factor
        integer(c_int), intent(out) :: nfev, ipvt(n)
        type(c_ptr), intent(in), value :: udata
        integer(c_int) :: info

        type(c_callbacks), target :: cb

        cb = c_callbacks(func, func, udata)
        call lmdif(call_func, m, n, x, fvec, ftol, xtol, gtol, maxfev, epsfcn, diag, mode, &
                   factor, 0, info, nfev, fjac, ldfjac, ipvt, qtf, c_loc(cb))
    end function minpack_lmdif

    !> info = minpack_lmder(func, jac, m, n, x, fvec, fjac, ldfjac, ftol, xtol, gtol,
    !>                      maxfev, diag, mode, factor, nfev, njev, ipvt, qtf, user_data)
    recursive function minpack_lmder(func, jac, m, n, x, fvec, fjac, ldfjac, ftol, xtol, gtol, &
                                     maxfev, diag, mode, factor, nfev, njev, ipvt, qtf, &
                                     udata) result(info) bind(c, name="minpack_lmder")
        type(c_funptr), intent(in), value :: func, jac
        integer(c_int), intent(in), value :: m, n, ldfjac, maxfev, mode
        real(c_double), intent(inout) :: x(n), diag(n)
        real(c_double), intent(out) :: fvec(m), fjac(ldfjac, n), qtf(n)
        real(c_double), intent(in), value :: ftol, xtol, gtol, factor
        integer(c_int), intent(out) :: nfev, njev, ipvt(n)
        type(c_ptr), intent(in), value :: udata
        integer(c_int) :: info

        type(c_callbacks), target :: cb

        cb = c_callbacks(func, jac, udata)
        call lmder(call_func_jac, m, n, x, fvec, fjac, ldfjac, ftol, xtol, gtol, maxfev, &
                   diag, mode, factor, 0, info, nfev, njev, ipvt, qtf, c_loc(cb))
    end function minpack_lmder

    !> info = minpack_lmdif_bounded(func, m, n, x, fvec, lower, upper, ftol, xtol,
    !>                              gtol, maxfev, epsfcn, diag, mode, factor, nfev,
    !>                              fjac, ldfjac, ipvt, qtf, active, user_data):
    !> minpack_lmdif within lower <= x <= upper. lower, upper and active may
    !> each be NULL (no lower bounds, no upper bounds, no report).
    recursive function minpack_lmdif_bounded(func, m, n, x, fvec, lower, upper, ftol, xtol, &
                                             gtol, maxfev, epsfcn, diag, mode, factor, nfev, &
                                             fjac, ldfjac, ipvt, qtf, active, udata) &
            result(info) bind(c, name="minpack_lmdif_bounded")
        type(c_funptr), intent(in), value :: func
        integer(c_int), intent(in), value :: m, n, maxfev, mode, ldfjac
        real(c_double), intent(inout) :: x(n), diag(n)
        real(c_double), intent(out) :: fvec(m), fjac(ldfjac, n), qtf(n)
        real(c_double), intent(in), optional :: lower(n), upper(n)
        real(c_double), intent(in), value :: ftol, xtol, gtol, epsfcn, factor
        integer(c_int), intent(out) :: nfev, ipvt(n)
        integer(c_int), intent(out), optional :: active(n)
        type(c_ptr), intent(in), value :: udata
        integer(c_int) :: info

        type(c_callbacks), target :: cb

        cb = c_callbacks(func, func, udata)
        call lmdif(call_func, m, n, x, fvec, ftol, xtol, gtol, maxfev, epsfcn, diag, mode, &
                   factor, 0, info, nfev, fjac, ldfjac, ipvt, qtf, c_loc(cb), &
                   lower=lower, upper=upper, active=active)
    end function minpack_lmdif_bounded

    !> info = minpack_lmder_bounded(func, jac, m, n, x, fvec, fjac, ldfjac, lower,
    !>                              upper, ftol, xtol, gtol, maxfev, diag, mode,
    !>                              factor, nfev, njev, ipvt, qtf, active, user_data):
    !> minpack_lmder within lower <= x <= upper (NULL as in minpack_lmdif_bounded).
    recursive function minpack_lmder_bounded(func, jac, m, n, x, fvec, fjac, ldfjac, lower, &
                                             upper, ftol, xtol, gtol, maxfev, diag, mode, &
                                             factor, nfev, njev, ipvt, qtf, active, udata) &
            result(info) bind(c, name="minpack_lmder_bounded")
        type(c_funptr), intent(in), value :: func, jac
        integer(c_int), intent(in), value :: m, n, ldfjac, maxfev, mode
        real(c_double), intent(inout) :: x(n), diag(n)
        real(c_double), intent(out) :: fvec(m), fjac(ldfjac, n), qtf(n)
        real(c_double), intent(in), optional :: lower(n), upper(n)
        real(c_double), intent(in), value :: ftol, xtol, gtol, factor
        integer(c_int), intent(out) :: nfev, njev, ipvt(n)
        integer(c_int), intent(out), optional :: active(n)
        type(c_ptr), intent(in), value :: udata
        integer(c_int) :: info

        type(c_callbacks), target :: cb

        cb = c_callbacks(func, jac, udata)
        call lmder(call_func_jac, m, n, x, fvec, fjac, ldfjac, ftol, xtol, gtol, maxfev, &
                   diag, mode, factor, 0, info, nfev, njev, ipvt, qtf, c_loc(cb), &
                   lower=lower, upper=upper, active=active)
    end function minpack_lmder_bounded

    !> info = minpack_lmdif1(func, m, n, x, fvec, tol, user_data): MINPACK-1's
    !> lmdif1 settings; nfev is returned too.
    recursive function minpack_lmdif1(func, m, n, x, fvec, tol, nfev, udata) result(info) &
            bind(c, name="minpack_lmdif1")
        type(c_funptr), intent(in), value :: func
        integer(c_int), intent(in), value :: m, n
        real(c_double), intent(inout) :: x(n)
        real(c_double), intent(out) :: fvec(m)
        real(c_double), intent(in), value :: tol
        integer(c_int), intent(out) :: nfev
        type(c_ptr), intent(in), value :: udata
        integer(c_int) :: info

        real(dp) :: diag(n), qtf(n)
        real(dp), allocatable :: fjac(:, :)
        integer(c_int) :: ipvt(n)

        allocate(fjac(max(m, 1), n))
        info = minpack_lmdif(func, m, n, x, fvec, tol, tol, 0.0_dp, default_maxfev(n, .false.), &
                             0.0_dp, diag, 1, 100.0_dp, nfev, fjac, max(m, 1), ipvt, qtf, udata)
        if (info == 8) info = 4
    end function minpack_lmdif1

    !> info = minpack_lmder1(func, jac, m, n, x, fvec, fjac, ldfjac, tol, ipvt,
    !>                       user_data): MINPACK-1's lmder1 settings.
    recursive function minpack_lmder1(func, jac, m, n, x, fvec, fjac, ldfjac, tol, ipvt, &
                                      nfev, njev, udata) result(info) &
            bind(c, name="minpack_lmder1")
        type(c_funptr), intent(in), value :: func, jac
        integer(c_int), intent(in), value :: m, n, ldfjac
        real(c_double), intent(inout) :: x(n)
        real(c_double), intent(out) :: fvec(m), fjac(ldfjac, n)
        real(c_double), intent(in), value :: tol
        integer(c_int), intent(out) :: ipvt(n), nfev, njev
        type(c_ptr), intent(in), value :: udata
        integer(c_int) :: info

        real(dp) :: diag(n), qtf(n)

        info = minpack_lmder(func, jac, m, n, x, fvec, fjac, ldfjac, tol, tol, 0.0_dp, &
                             default_maxfev(n, .true.), diag, 1, 100.0_dp, nfev, njev, ipvt, qtf, &
                             udata)
        if (info == 8) info = 4
    end function minpack_lmder1

    !> double minpack_enorm(int n, const double *x): overflow-safe 2-norm.
    pure function minpack_enorm(n, x) result(norm) bind(c, name="minpack_enorm")
        integer(c_int), intent(in), value :: n
        real(c_double), intent(in) :: x(n)
        real(c_double) :: norm

        norm = enorm(n, x)
    end function minpack_enorm

    !> int minpack_covar(int n, const double *r, int ldr, const int *ipvt,
    !>                   double *cov, int ldcov): (J^T J)^-1 from lmdif/lmder's
    !> fjac and ipvt (1-based); returns 0, or the index of a zero pivot.
    function minpack_covar(n, r, ldr, ipvt, cov, ldcov) result(info) &
            bind(c, name="minpack_covar")
        integer(c_int), intent(in), value :: n, ldr, ldcov
        real(c_double), intent(in) :: r(ldr, n)
        integer(c_int), intent(in) :: ipvt(n)
        real(c_double), intent(out) :: cov(ldcov, n)
        integer(c_int) :: info

        call covar(n, r, ldr, ipvt, cov, ldcov, info)
    end function minpack_covar

    !> lmdif callback that forwards to the C residual function.
    recursive subroutine call_func(m, n, x, fvec, iflag, udata)
        integer, intent(in) :: m, n
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(m)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        type(c_callbacks), pointer :: cb
        procedure(minpack_func), pointer :: func

        if (iflag == 0) return
        call c_f_pointer(udata, cb)
        call c_f_procpointer(cb%func, func)
        call stop_on(func(m, n, x, fvec, cb%udata), iflag)
    end subroutine call_func

    !> lmder callback that forwards to the C residual or Jacobian function.
    recursive subroutine call_func_jac(m, n, x, fvec, fjac, ldfjac, iflag, udata)
        integer, intent(in) :: m, n, ldfjac
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(m), fjac(ldfjac, n)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        type(c_callbacks), pointer :: cb
        procedure(minpack_func), pointer :: func
        procedure(minpack_jac), pointer :: jac

        call c_f_pointer(udata, cb)
        select case (iflag)
        case (1)
            call c_f_procpointer(cb%func, func)
            call stop_on(func(m, n, x, fvec, cb%udata), iflag)
        case (2)
            call c_f_procpointer(cb%jac, jac)
            call stop_on(jac(m, n, x, fjac, ldfjac, cb%udata), iflag)
        end select
    end subroutine call_func_jac

    !> MINPACK-1's default limit on function evaluations: 200 (n + 1) with a
    !> difference Jacobian, 100 (n + 1) with an analytic one (at most huge(0)).
    pure function default_maxfev(n, with_jac) result(maxfev)
        integer, intent(in) :: n
            !! number of variables
        logical, intent(in) :: with_jac
            !! whether the Jacobian is computed by the caller
        integer :: maxfev

        integer(int64) :: limit

        limit = merge(100_int64, 200_int64, with_jac) * (int(n, int64) + 1)
        maxfev = int(min(limit, int(huge(maxfev), int64)))
    end function default_maxfev

    !> A non-zero callback status becomes a negative iflag (-|status|; the
    !> most negative integer stays as it is).
    pure subroutine stop_on(status, iflag)
        integer(c_int), intent(in) :: status
        integer, intent(inout) :: iflag

        if (status > 0) then
            iflag = -status
        else if (status < 0) then
            iflag = status
        end if
    end subroutine stop_on

    !> info = minpack_lmstr(func, fjrow, m, n, x, fvec, fjac, ldfjac, ftol, xtol, gtol,
    !>                      maxfev, diag, mode, factor, nfev, njev, ipvt, qtf, user_data):
    !> lmstr with a residual function and a Jacobian-row function (row 0-based);
    !> fjac is n by n (ldfjac >= n).
    recursive function minpack_lmstr(func, fjrow, m, n, x, fvec, fjac, ldfjac, ftol, xtol, &
                                     gtol, maxfev, diag, mode, factor, nfev, njev, ipvt, &
                                     qtf, udata) result(info) bind(c, name="minpack_lmstr")
        type(c_funptr), intent(in), value :: func, fjrow
        integer(c_int), intent(in), value :: m, n, ldfjac, maxfev, mode
        real(c_double), intent(inout) :: x(n), diag(n)
        real(c_double), intent(out) :: fvec(m), fjac(ldfjac, n), qtf(n)
        real(c_double), intent(in), value :: ftol, xtol, gtol, factor
        integer(c_int), intent(out) :: nfev, njev, ipvt(n)
        type(c_ptr), intent(in), value :: udata
        integer(c_int) :: info

        type(c_callbacks), target :: cb

        cb = c_callbacks(func, fjrow, udata)
        call lmstr(call_func_fjrow, m, n, x, fvec, fjac, ldfjac, ftol, xtol, gtol, maxfev, &
                   diag, mode, factor, 0, info, nfev, njev, ipvt, qtf, c_loc(cb))
    end function minpack_lmstr

    !> info = minpack_lmstr1(func, fjrow, m, n, x, fvec, fjac, ldfjac, tol, ipvt, nfev,
    !>                       njev, user_data): MINPACK-1's lmstr1 settings.
    recursive function minpack_lmstr1(func, fjrow, m, n, x, fvec, fjac, ldfjac, tol, ipvt, &
                                      nfev, njev, udata) result(info) &
            bind(c, name="minpack_lmstr1")
        type(c_funptr), intent(in), value :: func, fjrow
        integer(c_int), intent(in), value :: m, n, ldfjac
        real(c_double), intent(inout) :: x(n)
        real(c_double), intent(out) :: fvec(m), fjac(ldfjac, n)
        real(c_double), intent(in), value :: tol
        integer(c_int), intent(out) :: ipvt(n), nfev, njev
        type(c_ptr), intent(in), value :: udata
        integer(c_int) :: info

        real(dp) :: diag(n), qtf(n)

        info = minpack_lmstr(func, fjrow, m, n, x, fvec, fjac, ldfjac, tol, tol, 0.0_dp, &
                             default_maxfev(n, .true.), diag, 1, 100.0_dp, nfev, njev, ipvt, qtf, &
                             udata)
        if (info == 8) info = 4
    end function minpack_lmstr1

    !> void minpack_chkder(int m, int n, const double *x, const double *fvec,
    !>                     const double *fjac, int ldfjac, double *xp,
    !>                     const double *fvecp, int mode, double *err):
    !> MINPACK-1's chkder; mode 1 sets xp, mode 2 sets err.
    pure subroutine minpack_chkder(m, n, x, fvec, fjac, ldfjac, xp, fvecp, mode, err) &
            bind(c, name="minpack_chkder")
        integer(c_int), intent(in), value :: m, n, ldfjac, mode
        real(c_double), intent(in) :: x(n), fvec(m), fjac(ldfjac, n), fvecp(m)
        real(c_double), intent(inout) :: xp(n), err(m)

        call chkder(m, n, x, fvec, fjac, ldfjac, xp, fvecp, mode, err)
    end subroutine minpack_chkder

    !> lmstr callback that forwards to the C residual function (iflag 1) or
    !> Jacobian-row function (iflag = row + 2, row 0-based; cb%jac holds it).
    recursive subroutine call_func_fjrow(m, n, x, fvec, fjrow, iflag, udata)
        integer, intent(in) :: m, n
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(m), fjrow(n)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        type(c_callbacks), pointer :: cb
        procedure(minpack_func), pointer :: func
        procedure(minpack_fjrow), pointer :: row

        call c_f_pointer(udata, cb)
        if (iflag == 1) then
            call c_f_procpointer(cb%func, func)
            call stop_on(func(m, n, x, fvec, cb%udata), iflag)
        else if (iflag >= 2) then
            call c_f_procpointer(cb%jac, row)
            call stop_on(row(m, n, x, fjrow, iflag - 2, cb%udata), iflag)
        end if
    end subroutine call_func_fjrow

    !> info = minpack_hybrd(func, n, x, fvec, xtol, maxfev, ml, mu, epsfcn, diag,
    !>                      mode, factor, nfev, fjac, ldfjac, r, lr, qtf, user_data):
    !> n equations in n unknowns, difference Jacobian (MINPACK-1 hybrd); func
    !> is called with m = n.
    recursive function minpack_hybrd(func, n, x, fvec, xtol, maxfev, ml, mu, epsfcn, diag, &
                                     mode, factor, nfev, fjac, ldfjac, r, lr, qtf, udata) &
            result(info) bind(c, name="minpack_hybrd")
        type(c_funptr), intent(in), value :: func
        integer(c_int), intent(in), value :: n, maxfev, ml, mu, mode, ldfjac, lr
        real(c_double), intent(inout) :: x(n), diag(n)
        real(c_double), intent(out) :: fvec(n), fjac(ldfjac, n), r(lr), qtf(n)
        real(c_double), intent(in), value :: xtol, epsfcn, factor
        integer(c_int), intent(out) :: nfev
        type(c_ptr), intent(in), value :: udata
        integer(c_int) :: info

        type(c_callbacks), target :: cb

        cb = c_callbacks(func, func, udata)
        call hybrd(call_square_func, n, x, fvec, xtol, maxfev, ml, mu, epsfcn, diag, mode, &
                   factor, 0, info, nfev, fjac, ldfjac, r, lr, qtf, c_loc(cb))
    end function minpack_hybrd

    !> info = minpack_hybrj(func, jac, n, x, fvec, fjac, ldfjac, xtol, maxfev, diag,
    !>                      mode, factor, nfev, njev, r, lr, qtf, user_data):
    !> n equations in n unknowns with a Jacobian (MINPACK-1 hybrj); func and
    !> jac are called with m = n.
    recursive function minpack_hybrj(func, jac, n, x, fvec, fjac, ldfjac, xtol, maxfev, diag, &
                                     mode, factor, nfev, njev, r, lr, qtf, udata) &
            result(info) bind(c, name="minpack_hybrj")
        type(c_funptr), intent(in), value :: func, jac
        integer(c_int), intent(in), value :: n, ldfjac, maxfev, mode, lr
        real(c_double), intent(inout) :: x(n), diag(n)
        real(c_double), intent(out) :: fvec(n), fjac(ldfjac, n), r(lr), qtf(n)
        real(c_double), intent(in), value :: xtol, factor
        integer(c_int), intent(out) :: nfev, njev
        type(c_ptr), intent(in), value :: udata
        integer(c_int) :: info

        type(c_callbacks), target :: cb

        cb = c_callbacks(func, jac, udata)
        call hybrj(call_square_func_jac, n, x, fvec, fjac, ldfjac, xtol, maxfev, diag, mode, &
                   factor, 0, info, nfev, njev, r, lr, qtf, c_loc(cb))
    end function minpack_hybrj

    !> info = minpack_hybrd1(func, n, x, fvec, tol, nfev, user_data): MINPACK-1's
    !> hybrd1 settings (info 5 reported as 4).
    recursive function minpack_hybrd1(func, n, x, fvec, tol, nfev, udata) result(info) &
            bind(c, name="minpack_hybrd1")
        type(c_funptr), intent(in), value :: func
        integer(c_int), intent(in), value :: n
        real(c_double), intent(inout) :: x(n)
        real(c_double), intent(out) :: fvec(n)
        real(c_double), intent(in), value :: tol
        integer(c_int), intent(out) :: nfev
        type(c_ptr), intent(in), value :: udata
        integer(c_int) :: info

        real(dp), allocatable :: fjac(:, :), r(:)
        real(dp) :: diag(n), qtf(n)

        allocate(fjac(max(n, 1), n), r(max((n * (n + 1)) / 2, 1)))
        diag = 1.0_dp
        info = minpack_hybrd(func, n, x, fvec, tol, default_maxfev(n, .false.), n - 1, n - 1, &
                             0.0_dp, diag, 2, 100.0_dp, nfev, fjac, max(n, 1), r, size(r), qtf, &
                             udata)
        if (info == 5) info = 4
    end function minpack_hybrd1

    !> info = minpack_hybrj1(func, jac, n, x, fvec, fjac, ldfjac, tol, nfev, njev,
    !>                       user_data): MINPACK-1's hybrj1 settings (info 5 as 4).
    recursive function minpack_hybrj1(func, jac, n, x, fvec, fjac, ldfjac, tol, nfev, njev, &
                                      udata) result(info) bind(c, name="minpack_hybrj1")
        type(c_funptr), intent(in), value :: func, jac
        integer(c_int), intent(in), value :: n, ldfjac
        real(c_double), intent(inout) :: x(n)
        real(c_double), intent(out) :: fvec(n), fjac(ldfjac, n)
        real(c_double), intent(in), value :: tol
        integer(c_int), intent(out) :: nfev, njev
        type(c_ptr), intent(in), value :: udata
        integer(c_int) :: info

        real(dp), allocatable :: r(:)
        real(dp) :: diag(n), qtf(n)

        allocate(r(max((n * (n + 1)) / 2, 1)))
        diag = 1.0_dp
        info = minpack_hybrj(func, jac, n, x, fvec, fjac, ldfjac, tol, default_maxfev(n, .true.), &
                             diag, 2, 100.0_dp, nfev, njev, r, size(r), qtf, udata)
        if (info == 5) info = 4
    end function minpack_hybrj1

    !> hybrd callback: the C residual function with m = n.
    recursive subroutine call_square_func(n, x, fvec, iflag, udata)
        integer, intent(in) :: n
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(n)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        call call_func(n, n, x, fvec, iflag, udata)
    end subroutine call_square_func

    !> hybrj callback: the C residual or Jacobian function with m = n.
    recursive subroutine call_square_func_jac(n, x, fvec, fjac, ldfjac, iflag, udata)
        integer, intent(in) :: n, ldfjac
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(n), fjac(ldfjac, n)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        call call_func_jac(n, n, x, fvec, fjac, ldfjac, iflag, udata)
    end subroutine call_square_func_jac

end module minpack_capi
