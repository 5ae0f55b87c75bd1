!> Fit the Bard problem (Moré, Garbow & Hillstrom 1981, problem 8) with lmder.
!>
!> A Fortran program that links our MINPACK library: `use minpack`, an analytic
!> Jacobian, and the observations reached through the `udata` pointer instead
!> of module variables. Checks the result MINPACK-1's test driver documents for
!> the standard start (1, 1, 1): ||f|| = 0.09063596, x = (0.08241058, 1.133037,
!> 2.343695), info = 1. Exits with status 1 when the fit is off.
!>
!> The callback is a module procedure: passing an internal procedure (one after
!> `contains` in the program) would make gfortran build a trampoline on the
!> stack and mark the program as needing an executable stack.
!>
!> Build against the installed Python package (see docs/fortran_c.rst):
!>     inc=$(python -c 'import minpack; print(minpack.get_include())')
!>     lib=$(python -c 'import minpack; print(minpack.get_library_dir())')
!>     gfortran -I"$inc" bard_lmder.f90 -L"$lib" -Wl,-rpath,"$lib" -lminpack
module bard_problem
    use, intrinsic :: iso_c_binding, only: c_ptr, c_f_pointer
    use minpack, only: dp
    implicit none
    private

    public :: bard_data, bard

    integer, parameter, public :: m = 15
        !! number of observations
    integer, parameter, public :: n = 3
        !! number of parameters

    !> The data of one fit, handed to the callback through udata.
    type :: bard_data
        real(dp) :: y(m)
            !! observations
        integer :: njev = 0
            !! Jacobian evaluations seen by the callback
    end type bard_data

contains

    !> Residuals f_i = y_i - (x1 + u_i / (x2 v_i + x3 w_i)), u_i = i,
    !> v_i = 16 - i, w_i = min(u_i, v_i); iflag = 2: their Jacobian.
    subroutine bard(m, n, x, fvec, fjac, ldfjac, iflag, udata)
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of parameters
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac
        real(dp), intent(in) :: x(n)
            !! the point
        real(dp), intent(inout) :: fvec(m)
            !! residuals (iflag = 1)
        real(dp), intent(inout) :: fjac(ldfjac, n)
            !! Jacobian (iflag = 2)
        integer, intent(inout) :: iflag
            !! what to compute; set negative to stop
        type(c_ptr), intent(in), value :: udata
            !! the bard_data of this fit

        type(bard_data), pointer :: d
        real(dp) :: u, v, w, den
        integer :: i

        call c_f_pointer(udata, d)
        do i = 1, m
            u = i
            v = 16 - i
            w = min(u, v)
            den = x(2) * v + x(3) * w
            select case (iflag)
            case (1)
                fvec(i) = d%y(i) - (x(1) + u / den)
            case (2)
                fjac(i, 1) = -1.0_dp
                fjac(i, 2) = u * v / den**2
                fjac(i, 3) = u * w / den**2
            end select
        end do
        if (iflag == 2) d%njev = d%njev + 1
    end subroutine bard

end module bard_problem

program bard_lmder
    use, intrinsic :: iso_c_binding, only: c_loc
    use, intrinsic :: iso_fortran_env, only: output_unit
    use minpack, only: dp, epsmch, enorm, lmder
    use bard_problem, only: bard_data, bard, m, n
    implicit none

    type(bard_data), target :: data
    real(dp) :: x(n), fvec(m), fjac(m, n), diag(n), qtf(n), tol, fnorm
    integer :: ipvt(n), info, nfev, njev
    real(dp), parameter :: x_ref(n) = [0.0824105765758334_dp, 1.133036653471504_dp, &
                                       2.343694638941154_dp]
    real(dp), parameter :: fnorm_ref = 0.09063596_dp
    logical :: ok

    data%y = [0.14_dp, 0.18_dp, 0.22_dp, 0.25_dp, 0.29_dp, 0.32_dp, 0.35_dp, 0.39_dp, &
              0.37_dp, 0.58_dp, 0.73_dp, 0.96_dp, 1.34_dp, 2.10_dp, 4.39_dp]
    x = 1.0_dp
    tol = sqrt(epsmch)

    ! lmder with lmder1's settings: ftol = xtol = tol, gtol = 0, maxfev = 100 (n + 1),
    ! mode = 1 (internal scaling), factor = 100, nprint = 0.
    call lmder(bard, m, n, x, fvec, fjac, m, tol, tol, 0.0_dp, 100 * (n + 1), diag, 1, &
               100.0_dp, 0, info, nfev, njev, ipvt, qtf, c_loc(data))
    fnorm = enorm(m, fvec)

    write (output_unit, '(a)') 'Bard problem, Fortran: lmder from `use minpack`'
    write (output_unit, '(a, 3es17.8)') '  x     =', x
    write (output_unit, '(a, es17.8)') '  fnorm =', fnorm
    write (output_unit, '(a, i0, a, i0, a, i0)') '  info  = ', info, ', nfev = ', nfev, &
        ', njev = ', njev

    ok = info >= 1 .and. info <= 3
    ok = ok .and. abs(fnorm - fnorm_ref) <= 1.0e-7_dp
    ok = ok .and. all(abs(x - x_ref) <= 1.0e-6_dp * abs(x_ref))
    ok = ok .and. data%njev == njev
    if (.not. ok) then
        write (output_unit, '(a)') 'FAILED: expected fnorm = 0.09063596, x = (0.08241058, ' &
            // '1.133037, 2.343695), info in 1..3'
        error stop 1
    end if
    write (output_unit, '(a)') 'OK: the documented MINPACK-1 result'
end program bard_lmder
