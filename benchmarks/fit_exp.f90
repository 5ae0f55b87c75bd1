!> The floor for the compiled-residual benchmarks (benchmarks/compiled.py):
!> fit y = a exp(-b t) + c (m = 50, n = 3) with a Fortran residual through our engine (lmdif and lmder), many times,
!> and print the median time per fit in microseconds.
!>
!> Usage: fit_exp [repeats]. The data are those of benchmarks/compiled.py.
!> Residual and Jacobian of the benchmark model; data reached through udata.
module fit_exp_model
    use, intrinsic :: iso_c_binding, only: c_ptr, c_f_pointer
    use minpack, only: dp
    implicit none
    private
    public :: resid, resid_jac

contains


    subroutine resid(m, n, x, fvec, iflag, udata)
        integer, intent(in) :: m, n
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(m)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata
        real(dp), pointer :: d(:)
        integer :: i

        if (iflag == 0) return
        call c_f_pointer(udata, d, [2 * m])
        do i = 1, m
            fvec(i) = d(m + i) - (x(1) * exp(-x(2) * d(i)) + x(3))
        end do
    end subroutine resid

    subroutine resid_jac(m, n, x, fvec, fjac, ldfjac, iflag, udata)
        integer, intent(in) :: m, n, ldfjac
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(m), fjac(ldfjac, n)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata
        real(dp), pointer :: d(:)
        real(dp) :: e
        integer :: i

        call c_f_pointer(udata, d, [2 * m])
        if (iflag == 1) then
            do i = 1, m
                fvec(i) = d(m + i) - (x(1) * exp(-x(2) * d(i)) + x(3))
            end do
        else if (iflag == 2) then
            do i = 1, m
                e = exp(-x(2) * d(i))
                fjac(i, 1) = -e
                fjac(i, 2) = x(1) * d(i) * e
                fjac(i, 3) = -1.0_dp
            end do
        end if
    end subroutine resid_jac

end module fit_exp_model


program fit_exp
    use, intrinsic :: iso_c_binding, only: c_ptr, c_loc, c_f_pointer
    use, intrinsic :: iso_fortran_env, only: int64
    use minpack, only: dp, lmdif, lmder
    use fit_exp_model, only: resid, resid_jac
    implicit none

    integer, parameter :: m = 50, n = 3, nrounds = 7
    real(dp), target :: data(2 * m)
    real(dp) :: x(n), fvec(m), fjac(m, n), diag(n), qtf(n), times(nrounds, 2)
    integer :: ipvt(n), info, nfev, njev, i, r, k, repeats, info_dif, nfev_dif
    integer(int64) :: t0, t1, rate
    character(len=32) :: arg

    repeats = 20000
    if (command_argument_count() >= 1) then
        call get_command_argument(1, arg)
        read (arg, *) repeats
    end if
    do i = 1, m
        data(i) = 4.0_dp * real(i - 1, dp) / real(m - 1, dp)
        data(m + i) = 3.0_dp * exp(-1.3_dp * data(i)) + 0.5_dp + 0.01_dp * sin(7.0_dp * data(i))
    end do

    do r = 1, nrounds
        call system_clock(t0, rate)
        do k = 1, repeats
            x = [1.0_dp, 1.0_dp, 0.0_dp]
            call lmdif(resid, m, n, x, fvec, 1.49012e-8_dp, 1.49012e-8_dp, 0.0_dp, 800, &
                       epsilon(1.0_dp), diag, 1, 100.0_dp, 0, info, nfev, fjac, m, ipvt, qtf, &
                       c_loc(data))
        end do
        call system_clock(t1)
        times(r, 1) = real(t1 - t0, dp) / real(rate, dp) / repeats * 1.0e6_dp
        info_dif = info
        nfev_dif = nfev
        call system_clock(t0, rate)
        do k = 1, repeats
            x = [1.0_dp, 1.0_dp, 0.0_dp]
            call lmder(resid_jac, m, n, x, fvec, fjac, m, 1.49012e-8_dp, 1.49012e-8_dp, &
                       0.0_dp, 400, diag, 1, 100.0_dp, 0, info, nfev, njev, ipvt, qtf, &
                       c_loc(data))
        end do
        call system_clock(t1)
        times(r, 2) = real(t1 - t0, dp) / real(rate, dp) / repeats * 1.0e6_dp
    end do
    write (*, '(a, f10.3, a, i0, a, i0)') 'lmdif_us ', median(times(:, 1)), '  info ', &
        info_dif, '  nfev ', nfev_dif
    write (*, '(a, f10.3, a, i0, a, i0, a, i0)') 'lmder_us ', median(times(:, 2)), &
        '  info ', info, '  nfev ', nfev, '  njev ', njev
    write (*, '(a, 3es24.16)') 'x ', x

contains

    function median(a) result(med)
        real(dp), intent(in) :: a(:)
        real(dp) :: med, b(size(a)), t
        integer :: i, j

        b = a
        do i = 2, size(b)
            t = b(i)
            j = i - 1
            do while (j >= 1)
                if (b(j) <= t) exit
                b(j + 1) = b(j)
                j = j - 1
            end do
            b(j + 1) = t
        end do
        med = b((size(b) + 1) / 2)
    end function median
end program fit_exp
