!> Check a user-supplied Jacobian against the residuals (MINPACK-1 `chkder`).
!>
!> Reference: MINPACK-1 User Guide (ANL-80-74, 1980), chapter 4, `chkder`.
!>
!> Deliberate difference from MINPACK-1: the machine precision comes from the
!> `epsilon` intrinsic (minpack_kinds' epsmch) instead of dpmpar. The routine
!> is pure: no state, no I/O, safe to call from any thread.
!>
!> Not called minpack_chkder: that is the binding label of the C entry point,
!> and Fortran forbids a binding label equal to a module name.
module minpack_derivcheck
    use minpack_kinds, only: dp, epsmch
    implicit none
    private

    public :: chkder

    real(dp), parameter :: zero = 0.0_dp, one = 1.0_dp
    real(dp), parameter :: factor = 100.0_dp
        !! a residual difference below factor * epsmch * |fvec(i)| is too small to judge

contains

    !> Check the gradients of m nonlinear functions of n variables at x, in
    !> two calls around one evaluation of the functions at a nearby point.
    !>
    !> mode 1 (any mode other than 2, as in MINPACK-1): set xp, a point
    !> near x (x_j + eps |x_j|, or x_j + eps when x_j = 0, with
    !> eps = sqrt(epsmch)). The caller then evaluates fvec at x, fjac at x and
    !> fvecp at xp, and calls again with mode 2.
    !>
    !> mode 2: set err(i), a measure of the correctness of the gradient of
    !> function i (row i of fjac), from the forward difference fvecp - fvec:
    !> 1 if it agrees with fjac to about the working precision, 0 if it does not
    !> agree in any digit, and in between the fraction of the digits of eps that
    !> agree (err(i) > 0.5 means probably correct). err(i) is 0 also when
    !> fvec(i) or fvecp(i) is zero, or when they differ by less than
    !> 100 epsmch |fvec(i)|: then the difference says nothing about fjac.
    pure subroutine chkder(m, n, x, fvec, fjac, ldfjac, xp, fvecp, mode, err)
        integer, intent(in) :: m
            !! number of functions
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(in) :: x(n)
            !! the point of the check
        real(dp), intent(in) :: fvec(m)
            !! mode 2: the functions at x (not referenced in mode 1)
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac, at least m
        real(dp), intent(in) :: fjac(ldfjac, n)
            !! mode 2: the Jacobian to check, at x (not referenced in mode 1)
        real(dp), intent(inout) :: xp(n)
            !! mode 1: set to the nearby point (not referenced in mode 2)
        real(dp), intent(in) :: fvecp(m)
            !! mode 2: the functions at xp (not referenced in mode 1)
        integer, intent(in) :: mode
            !! 1: compute xp; 2: compute err
        real(dp), intent(inout) :: err(m)
            !! mode 2: set to the measures of correctness (not referenced in mode 1)

        real(dp), parameter :: eps = sqrt(epsmch)
        real(dp), parameter :: epsf = factor * epsmch
        real(dp), parameter :: epslog = log10(eps)
        integer :: i, j
        real(dp) :: temp

        if (mode /= 2) then
            do j = 1, n
                temp = eps * abs(x(j))
                if (temp == zero) temp = eps
                xp(j) = x(j) + temp
            end do
            return
        end if

        ! err(i) = sum_j s_j fjac(i, j), with the steps s_j / eps of mode 1
        do i = 1, m
            err(i) = zero
        end do
        do j = 1, n
            temp = abs(x(j))
            if (temp == zero) temp = one
            do i = 1, m
                err(i) = err(i) + temp * fjac(i, j)
            end do
        end do

        ! compare with the forward difference; map the relative discrepancy
        ! epsmch .. eps to 1 .. 0 on a logarithmic scale
        do i = 1, m
            temp = one
            if (fvec(i) /= zero .and. fvecp(i) /= zero .and. &
                abs(fvecp(i) - fvec(i)) >= epsf * abs(fvec(i))) &
                temp = eps * abs((fvecp(i) - fvec(i)) / eps - err(i)) &
                       / (abs(fvec(i)) + abs(fvecp(i)))
            err(i) = one
            if (temp > epsmch .and. temp < eps) err(i) = (log10(temp) - epslog) / epslog
            if (temp >= eps) err(i) = zero
        end do
    end subroutine chkder

end module minpack_derivcheck
