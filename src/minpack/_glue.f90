!> Glue between the f2py extension and the Fortran library.
!>
!> f2py hands us Python callbacks as plain external functions
!> `status = fcn(m, n, x, fvec)` and `status = jac(m, n, x, fjac)`
!> (see _minpack.pyf). The routines below put them in a small derived type on
!> the stack and pass its address to the library as user data, so nothing is
!> stored in module variables and every call is reentrant and thread-safe.
!>
!> On entry `fvec` already holds the residuals at the starting point (Python
!> evaluated them once to learn m), so the solver's own first evaluation is
!> answered from that buffer instead of calling Python again.
module minpack_pyglue
    use, intrinsic :: iso_c_binding, only: c_ptr, c_f_pointer
    use minpack_kinds, only: dp
    implicit none
    private

    public :: py_fcn, py_jac, py_callbacks, call_py_fcn, call_py_fcn_jac
    public :: call_py_hybrd, call_py_hybrj

    abstract interface
        !> Python residual callback as f2py calls it; non-zero status stops.
        function py_fcn(m, n, x, fvec) result(status)
            import :: dp
            implicit none
            integer, intent(in) :: m, n
            real(dp), intent(in) :: x(n)
            real(dp), intent(inout) :: fvec(m)
            integer :: status
        end function py_fcn

        !> Python Jacobian callback as f2py calls it; non-zero status stops.
        function py_jac(m, n, x, fjac) result(status)
            import :: dp
            implicit none
            integer, intent(in) :: m, n
            real(dp), intent(in) :: x(n)
            real(dp), intent(inout) :: fjac(m, n)
            integer :: status
        end function py_jac
    end interface

    !> The callbacks of one solver call.
    type :: py_callbacks
        procedure(py_fcn), pointer, nopass :: fcn => null()
        procedure(py_jac), pointer, nopass :: jac => null()
        logical :: have_f0 = .true.
            !! fvec holds the residuals at x0: skip the first evaluation
    end type py_callbacks

contains

    !> lmdif callback: residuals from Python.
    recursive subroutine call_py_fcn(m, n, x, fvec, iflag, udata)
        integer, intent(in) :: m, n
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(m)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        type(py_callbacks), pointer :: cb

        if (iflag == 0) return
        call c_f_pointer(udata, cb)
        call residuals(cb, m, n, x, fvec, iflag)
    end subroutine call_py_fcn

    !> lmder callback: residuals or Jacobian from Python.
    recursive subroutine call_py_fcn_jac(m, n, x, fvec, fjac, ldfjac, iflag, udata)
        integer, intent(in) :: m, n, ldfjac
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(m), fjac(ldfjac, n)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        type(py_callbacks), pointer :: cb

        call c_f_pointer(udata, cb)
        select case (iflag)
        case (1)
            call residuals(cb, m, n, x, fvec, iflag)
        case (2)
            call stop_on(cb%jac(m, n, x, fjac(1:m, :)), iflag)
        end select
    end subroutine call_py_fcn_jac

    !> hybrd callback: functions from Python (the residual callback, m = n).
    recursive subroutine call_py_hybrd(n, x, fvec, iflag, udata)
        integer, intent(in) :: n
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(n)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        call call_py_fcn(n, n, x, fvec, iflag, udata)
    end subroutine call_py_hybrd

    !> hybrj callback: functions or Jacobian from Python (m = n).
    recursive subroutine call_py_hybrj(n, x, fvec, fjac, ldfjac, iflag, udata)
        integer, intent(in) :: n, ldfjac
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(n), fjac(ldfjac, n)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        call call_py_fcn_jac(n, n, x, fvec, fjac, ldfjac, iflag, udata)
    end subroutine call_py_hybrj

    !> Residuals from Python, except the first request, which the buffer
    !> already answers (it holds the residuals at x0).
    recursive subroutine residuals(cb, m, n, x, fvec, iflag)
        type(py_callbacks), intent(inout) :: cb
        integer, intent(in) :: m, n
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(m)
        integer, intent(inout) :: iflag

        if (cb%have_f0) then
            cb%have_f0 = .false.
            return
        end if
        call stop_on(cb%fcn(m, n, x, fvec), iflag)
    end subroutine residuals

    !> A non-zero status from Python becomes a negative iflag.
    pure subroutine stop_on(status, iflag)
        integer, intent(in) :: status
        integer, intent(inout) :: iflag

        if (status /= 0) iflag = -abs(status)
    end subroutine stop_on

end module minpack_pyglue


!> lmdif with a Python residual (wrapped by f2py as _minpack.lmdif).
subroutine minpack_py_lmdif(fcn, m, n, x, fvec, ftol, xtol, gtol, maxfev, epsfcn, diag, &
                            mode, factor, fjac, ipvt, qtf, info, nfev)
    use, intrinsic :: iso_c_binding, only: c_loc
    use minpack_kinds, only: dp
    use minpack_lm, only: lmdif
    use minpack_pyglue, only: py_fcn, py_callbacks, call_py_fcn
    implicit none
    procedure(py_fcn) :: fcn
    integer, intent(in) :: m, n, maxfev, mode
    real(dp), intent(inout) :: x(n), fvec(m), diag(n)
    real(dp), intent(in) :: ftol, xtol, gtol, epsfcn, factor
    real(dp), intent(out) :: fjac(m, n), qtf(n)
    integer, intent(out) :: ipvt(n), info, nfev

    type(py_callbacks), target :: cb

    cb%fcn => fcn
    call lmdif(call_py_fcn, m, n, x, fvec, ftol, xtol, gtol, maxfev, epsfcn, diag, mode, &
               factor, 0, info, nfev, fjac, m, ipvt, qtf, c_loc(cb))
end subroutine minpack_py_lmdif


!> lmder with Python residual and Jacobian (wrapped by f2py as _minpack.lmder).
subroutine minpack_py_lmder(fcn, jac, m, n, x, fvec, ftol, xtol, gtol, maxfev, diag, &
                            mode, factor, fjac, ipvt, qtf, info, nfev, njev)
    use, intrinsic :: iso_c_binding, only: c_loc
    use minpack_kinds, only: dp
    use minpack_lm, only: lmder
    use minpack_pyglue, only: py_fcn, py_jac, py_callbacks, call_py_fcn_jac
    implicit none
    procedure(py_fcn) :: fcn
    procedure(py_jac) :: jac
    integer, intent(in) :: m, n, maxfev, mode
    real(dp), intent(inout) :: x(n), fvec(m), diag(n)
    real(dp), intent(in) :: ftol, xtol, gtol, factor
    real(dp), intent(out) :: fjac(m, n), qtf(n)
    integer, intent(out) :: ipvt(n), info, nfev, njev

    type(py_callbacks), target :: cb

    cb%fcn => fcn
    cb%jac => jac
    call lmder(call_py_fcn_jac, m, n, x, fvec, fjac, m, ftol, xtol, gtol, maxfev, diag, &
               mode, factor, 0, info, nfev, njev, ipvt, qtf, c_loc(cb))
end subroutine minpack_py_lmder


!> hybrd with a Python function (wrapped by f2py as _minpack.hybrd).
subroutine minpack_py_hybrd(fcn, n, x, fvec, xtol, maxfev, ml, mu, epsfcn, diag, mode, &
                            factor, fjac, r, qtf, info, nfev)
    use, intrinsic :: iso_c_binding, only: c_loc
    use minpack_kinds, only: dp
    use minpack_hybrid, only: hybrd
    use minpack_pyglue, only: py_fcn, py_callbacks, call_py_hybrd
    implicit none
    procedure(py_fcn) :: fcn
    integer, intent(in) :: n, maxfev, ml, mu, mode
    real(dp), intent(inout) :: x(n), fvec(n), diag(n)
    real(dp), intent(in) :: xtol, epsfcn, factor
    real(dp), intent(out) :: fjac(n, n), r((n * (n + 1)) / 2), qtf(n)
    integer, intent(out) :: info, nfev

    type(py_callbacks), target :: cb

    cb%fcn => fcn
    call hybrd(call_py_hybrd, n, x, fvec, xtol, maxfev, ml, mu, epsfcn, diag, mode, factor, &
               0, info, nfev, fjac, n, r, size(r), qtf, c_loc(cb))
end subroutine minpack_py_hybrd


!> hybrj with Python function and Jacobian (wrapped by f2py as _minpack.hybrj).
subroutine minpack_py_hybrj(fcn, jac, n, x, fvec, xtol, maxfev, diag, mode, factor, &
                            fjac, r, qtf, info, nfev, njev)
    use, intrinsic :: iso_c_binding, only: c_loc
    use minpack_kinds, only: dp
    use minpack_hybrid, only: hybrj
    use minpack_pyglue, only: py_fcn, py_jac, py_callbacks, call_py_hybrj
    implicit none
    procedure(py_fcn) :: fcn
    procedure(py_jac) :: jac
    integer, intent(in) :: n, maxfev, mode
    real(dp), intent(inout) :: x(n), fvec(n), diag(n)
    real(dp), intent(in) :: xtol, factor
    real(dp), intent(out) :: fjac(n, n), r((n * (n + 1)) / 2), qtf(n)
    integer, intent(out) :: info, nfev, njev

    type(py_callbacks), target :: cb

    cb%fcn => fcn
    cb%jac => jac
    call hybrj(call_py_hybrj, n, x, fvec, fjac, n, xtol, maxfev, diag, mode, factor, 0, &
               info, nfev, njev, r, size(r), qtf, c_loc(cb))
end subroutine minpack_py_hybrj


!> Covariance from R and ipvt (wrapped by f2py as _minpack.covar).
subroutine minpack_py_covar(m, n, r, ipvt, cov, info)
    use minpack_kinds, only: dp
    use minpack_linalg, only: covar
    implicit none
    integer, intent(in) :: m, n
    real(dp), intent(in) :: r(m, n)
    integer, intent(in) :: ipvt(n)
    real(dp), intent(out) :: cov(n, n)
    integer, intent(out) :: info

    call covar(n, r, m, ipvt, cov, n, info)
end subroutine minpack_py_covar
