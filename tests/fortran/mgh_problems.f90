!> The 18 nonlinear least-squares problems of the MINPACK-1 test set.
!>
!> Residuals, analytic Jacobians and standard starting points, numbered as in
!> MINPACK-1's test drivers (1 linear full rank ... 18 Osborne 2). Written from the
!> problem definitions in Moré, Garbow & Hillstrom, "Testing unconstrained
!> optimization software", ACM TOMS 7(1):17-41, 1981, and the data tables in
!> ../shared/data/mgh/problem_data.json.
!>
!> The module does not depend on the library under test: it is the problem side
!> of tests/fortran/test_mgh.f90. Every routine is pure; a problem number or size
!> outside the allowed range gives NaN results (check with `mgh_size_ok` first).
module mgh_problems
    use, intrinsic :: iso_c_binding, only: c_double
    use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan
    implicit none
    private

    public :: dp, mgh_nprob, mgh_name_len
    public :: mgh_name, mgh_size_ok, mgh_start, mgh_residual, mgh_jacobian

    integer, parameter :: dp = c_double
        !! working precision, the same kind as the library's `dp`
    integer, parameter :: mgh_nprob = 18
        !! number of problems in the set
    integer, parameter :: mgh_name_len = 50
        !! length of the strings returned by `mgh_name`

    ! Bard (problem 8)
    real(dp), parameter :: bard_y(15) = [ &
        0.14_dp, 0.18_dp, 0.22_dp, 0.25_dp, 0.29_dp, 0.32_dp, 0.35_dp, 0.39_dp, &
        0.37_dp, 0.58_dp, 0.73_dp, 0.96_dp, 1.34_dp, 2.10_dp, 4.39_dp]

    ! Kowalik and Osborne (problem 9)
    real(dp), parameter :: kowosb_v(11) = [ &
        4.0_dp, 2.0_dp, 1.0_dp, 0.5_dp, 0.25_dp, 0.167_dp, 0.125_dp, 0.1_dp, &
        0.0833_dp, 0.0714_dp, 0.0625_dp]
    real(dp), parameter :: kowosb_y(11) = [ &
        0.1957_dp, 0.1947_dp, 0.1735_dp, 0.16_dp, 0.0844_dp, 0.0627_dp, &
        0.0456_dp, 0.0342_dp, 0.0323_dp, 0.0235_dp, 0.0246_dp]

    ! Meyer (problem 10)
    real(dp), parameter :: meyer_y(16) = [ &
        34780.0_dp, 28610.0_dp, 23650.0_dp, 19630.0_dp, 16370.0_dp, 13720.0_dp, &
        11540.0_dp, 9744.0_dp, 8261.0_dp, 7030.0_dp, 6005.0_dp, 5147.0_dp, &
        4427.0_dp, 3820.0_dp, 3307.0_dp, 2872.0_dp]

    ! Osborne 1 (problem 17)
    real(dp), parameter :: osb1_y(33) = [ &
        0.844_dp, 0.908_dp, 0.932_dp, 0.936_dp, 0.925_dp, 0.908_dp, 0.881_dp, &
        0.850_dp, 0.818_dp, 0.784_dp, 0.751_dp, 0.718_dp, 0.685_dp, 0.658_dp, &
        0.628_dp, 0.603_dp, 0.580_dp, 0.558_dp, 0.538_dp, 0.522_dp, 0.506_dp, &
        0.490_dp, 0.478_dp, 0.467_dp, 0.457_dp, 0.448_dp, 0.438_dp, 0.431_dp, &
        0.424_dp, 0.420_dp, 0.414_dp, 0.411_dp, 0.406_dp]

    ! Osborne 2 (problem 18)
    real(dp), parameter :: osb2_y(65) = [ &
        1.366_dp, 1.191_dp, 1.112_dp, 1.013_dp, 0.991_dp, 0.885_dp, 0.831_dp, &
        0.847_dp, 0.786_dp, 0.725_dp, 0.746_dp, 0.679_dp, 0.608_dp, 0.655_dp, &
        0.616_dp, 0.606_dp, 0.602_dp, 0.626_dp, 0.651_dp, 0.724_dp, 0.649_dp, &
        0.649_dp, 0.694_dp, 0.644_dp, 0.624_dp, 0.661_dp, 0.612_dp, 0.558_dp, &
        0.533_dp, 0.495_dp, 0.500_dp, 0.423_dp, 0.395_dp, 0.375_dp, 0.372_dp, &
        0.391_dp, 0.396_dp, 0.405_dp, 0.428_dp, 0.429_dp, 0.523_dp, 0.562_dp, &
        0.607_dp, 0.653_dp, 0.672_dp, 0.708_dp, 0.633_dp, 0.668_dp, 0.645_dp, &
        0.632_dp, 0.591_dp, 0.559_dp, 0.597_dp, 0.625_dp, 0.739_dp, 0.710_dp, &
        0.729_dp, 0.720_dp, 0.636_dp, 0.581_dp, 0.428_dp, 0.292_dp, 0.162_dp, &
        0.098_dp, 0.054_dp]

contains

    !> Name of problem `nprob` as in the MGH paper ('unknown problem' if out of range).
    pure function mgh_name(nprob) result(name)
        integer, intent(in) :: nprob
            !! problem number, 1 to 18
        character(len=mgh_name_len) :: name

        select case (nprob)
        case (1)
            name = 'Linear function - full rank'
        case (2)
            name = 'Linear function - rank 1'
        case (3)
            name = 'Linear function - rank 1 with zero cols and rows'
        case (4)
            name = 'Rosenbrock function'
        case (5)
            name = 'Helical valley function'
        case (6)
            name = 'Powell singular function'
        case (7)
            name = 'Freudenstein and Roth function'
        case (8)
            name = 'Bard function'
        case (9)
            name = 'Kowalik and Osborne function'
        case (10)
            name = 'Meyer function'
        case (11)
            name = 'Watson function'
        case (12)
            name = 'Box 3-dimensional function'
        case (13)
            name = 'Jennrich and Sampson function'
        case (14)
            name = 'Brown and Dennis function'
        case (15)
            name = 'Chebyquad function'
        case (16)
            name = 'Brown almost-linear function'
        case (17)
            name = 'Osborne 1 function'
        case (18)
            name = 'Osborne 2 function'
        case default
            name = 'unknown problem'
        end select
    end function mgh_name

    !> Whether (n, m) is an allowed size for problem `nprob`.
    pure logical function mgh_size_ok(nprob, n, m) result(ok)
        integer, intent(in) :: nprob
            !! problem number, 1 to 18
        integer, intent(in) :: n
            !! number of variables
        integer, intent(in) :: m
            !! number of residuals

        select case (nprob)
        case (1, 2, 3, 15)
            ok = n >= 1 .and. m >= n
        case (4, 7)
            ok = n == 2 .and. m == 2
        case (5)
            ok = n == 3 .and. m == 3
        case (6)
            ok = n == 4 .and. m == 4
        case (8)
            ok = n == 3 .and. m == 15
        case (9)
            ok = n == 4 .and. m == 11
        case (10)
            ok = n == 3 .and. m == 16
        case (11)
            ok = n >= 2 .and. n <= 31 .and. m == 31
        case (12)
            ok = n == 3 .and. m >= n
        case (13)
            ok = n == 2 .and. m >= n
        case (14)
            ok = n == 4 .and. m >= n
        case (16)
            ok = n >= 1 .and. m == n
        case (17)
            ok = n == 5 .and. m == 33
        case (18)
            ok = n == 11 .and. m == 65
        case default
            ok = .false.
        end select
    end function mgh_size_ok

    !> Starting point of the MINPACK-1 test drivers: `factor` times the standard
    !> start. Watson's standard start is 0, so there (as in the drivers) every
    !> x_j is set to `factor` itself when factor /= 1.
    pure subroutine mgh_start(nprob, n, factor, x)
        integer, intent(in) :: nprob
            !! problem number, 1 to 18
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(in) :: factor
            !! scale of the start: 1, 10 or 100 in the drivers
        real(dp), intent(out) :: x(n)
            !! starting point

        integer :: j

        select case (nprob)
        case (1, 2, 3)
            x = 1.0_dp
        case (4)
            x = [-1.2_dp, 1.0_dp]
        case (5)
            x = [-1.0_dp, 0.0_dp, 0.0_dp]
        case (6)
            x = [3.0_dp, -1.0_dp, 0.0_dp, 1.0_dp]
        case (7)
            x = [0.5_dp, -2.0_dp]
        case (8)
            x = 1.0_dp
        case (9)
            x = [0.25_dp, 0.39_dp, 0.415_dp, 0.39_dp]
        case (10)
            x = [0.02_dp, 4000.0_dp, 250.0_dp]
        case (11)
            x = 0.0_dp
        case (12)
            x = [0.0_dp, 10.0_dp, 20.0_dp]
        case (13)
            x = [0.3_dp, 0.4_dp]
        case (14)
            x = [25.0_dp, 5.0_dp, -5.0_dp, -1.0_dp]
        case (15)
            do j = 1, n
                x(j) = real(j, dp)/real(n + 1, dp)
            end do
        case (16)
            x = 0.5_dp
        case (17)
            x = [0.5_dp, 1.5_dp, -1.0_dp, 0.01_dp, 0.02_dp]
        case (18)
            x = [1.3_dp, 0.65_dp, 0.65_dp, 0.7_dp, 0.6_dp, 3.0_dp, 5.0_dp, 7.0_dp, &
                 2.0_dp, 4.5_dp, 5.5_dp]
        case default
            x = ieee_value(1.0_dp, ieee_quiet_nan)
            return
        end select

        if (factor == 1.0_dp) return
        if (nprob == 11) then
            x = factor
        else
            x = factor*x
        end if
    end subroutine mgh_start

    !> Residual vector f(x) of problem `nprob`, with the sign convention of the
    !> MINPACK-1 test drivers.
    pure subroutine mgh_residual(nprob, m, n, x, fvec)
        integer, intent(in) :: nprob
            !! problem number, 1 to 18
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(in) :: x(n)
            !! point at which to evaluate
        real(dp), intent(out) :: fvec(m)
            !! residuals f_1 .. f_m

        real(dp), parameter :: twopi = 8.0_dp*atan(1.0_dp)
        real(dp) :: s, ti, d, e1, e2, e3, e4, theta, tprev, tcur, tnext, y, p
        integer :: i, j

        if (.not. mgh_size_ok(nprob, n, m)) then
            fvec = ieee_value(1.0_dp, ieee_quiet_nan)
            return
        end if

        select case (nprob)
        case (1)  ! linear, full rank
            s = 2.0_dp*sum(x)/real(m, dp) + 1.0_dp
            fvec(1:n) = x - s
            fvec(n+1:m) = -s
        case (2)  ! linear, rank 1
            s = 0.0_dp
            do j = 1, n
                s = s + real(j, dp)*x(j)
            end do
            do i = 1, m
                fvec(i) = real(i, dp)*s - 1.0_dp
            end do
        case (3)  ! linear, rank 1 with zero columns and rows
            s = 0.0_dp
            do j = 2, n - 1
                s = s + real(j, dp)*x(j)
            end do
            do i = 1, m - 1
                fvec(i) = real(i - 1, dp)*s - 1.0_dp
            end do
            fvec(m) = -1.0_dp
        case (4)  ! Rosenbrock
            fvec(1) = 10.0_dp*(x(2) - x(1)**2)
            fvec(2) = 1.0_dp - x(1)
        case (5)  ! helical valley
            if (x(1) > 0.0_dp) then
                theta = atan(x(2)/x(1))/twopi
            else if (x(1) < 0.0_dp) then
                theta = atan(x(2)/x(1))/twopi + 0.5_dp
            else
                theta = sign(0.25_dp, x(2))
            end if
            fvec(1) = 10.0_dp*(x(3) - 10.0_dp*theta)
            fvec(2) = 10.0_dp*(sqrt(x(1)**2 + x(2)**2) - 1.0_dp)
            fvec(3) = x(3)
        case (6)  ! Powell singular
            fvec(1) = x(1) + 10.0_dp*x(2)
            fvec(2) = sqrt(5.0_dp)*(x(3) - x(4))
            fvec(3) = (x(2) - 2.0_dp*x(3))**2
            fvec(4) = sqrt(10.0_dp)*(x(1) - x(4))**2
        case (7)  ! Freudenstein and Roth
            fvec(1) = -13.0_dp + x(1) + ((5.0_dp - x(2))*x(2) - 2.0_dp)*x(2)
            fvec(2) = -29.0_dp + x(1) + ((1.0_dp + x(2))*x(2) - 14.0_dp)*x(2)
        case (8)  ! Bard
            do i = 1, 15
                d = real(16 - i, dp)*x(2) + real(min(i, 16 - i), dp)*x(3)
                fvec(i) = bard_y(i) - (x(1) + real(i, dp)/d)
            end do
        case (9)  ! Kowalik and Osborne
            do i = 1, 11
                associate (v => kowosb_v(i))
                    fvec(i) = kowosb_y(i) - x(1)*(v*(v + x(2)))/(v*(v + x(3)) + x(4))
                end associate
            end do
        case (10)  ! Meyer
            do i = 1, 16
                ti = 45.0_dp + 5.0_dp*real(i, dp)
                fvec(i) = x(1)*exp(x(2)/(ti + x(3))) - meyer_y(i)
            end do
        case (11)  ! Watson
            do i = 1, 29
                ti = real(i, dp)/29.0_dp
                ! s: sum_j (j-1) x_j t^(j-2);  p: sum_j x_j t^(j-1)
                s = 0.0_dp
                d = 1.0_dp
                do j = 2, n
                    s = s + real(j - 1, dp)*d*x(j)
                    d = ti*d
                end do
                p = 0.0_dp
                d = 1.0_dp
                do j = 1, n
                    p = p + d*x(j)
                    d = ti*d
                end do
                fvec(i) = s - p**2 - 1.0_dp
            end do
            fvec(30) = x(1)
            fvec(31) = x(2) - x(1)**2 - 1.0_dp
        case (12)  ! Box 3-dimensional
            do i = 1, m
                ti = real(i, dp)/10.0_dp
                fvec(i) = exp(-ti*x(1)) - exp(-ti*x(2)) &
                    + (exp(-real(i, dp)) - exp(-ti))*x(3)
            end do
        case (13)  ! Jennrich and Sampson
            do i = 1, m
                ti = real(i, dp)
                fvec(i) = 2.0_dp + 2.0_dp*ti - (exp(ti*x(1)) + exp(ti*x(2)))
            end do
        case (14)  ! Brown and Dennis
            do i = 1, m
                ti = real(i, dp)/5.0_dp
                e1 = x(1) + ti*x(2) - exp(ti)
                e2 = x(3) + sin(ti)*x(4) - cos(ti)
                fvec(i) = e1**2 + e2**2
            end do
        case (15)  ! Chebyquad: T_i by the three-term recurrence at y = 2 x_j - 1
            fvec = 0.0_dp
            do j = 1, n
                y = 2.0_dp*x(j) - 1.0_dp
                tprev = 1.0_dp
                tcur = y
                do i = 1, m
                    fvec(i) = fvec(i) + tcur
                    tnext = 2.0_dp*y*tcur - tprev
                    tprev = tcur
                    tcur = tnext
                end do
            end do
            do i = 1, m
                fvec(i) = fvec(i)/real(n, dp)
                if (mod(i, 2) == 0) fvec(i) = fvec(i) + 1.0_dp/real(i**2 - 1, dp)
            end do
        case (16)  ! Brown almost-linear
            s = sum(x) - real(n + 1, dp)
            fvec(1:n-1) = x(1:n-1) + s
            p = 1.0_dp
            do j = 1, n
                p = p*x(j)
            end do
            fvec(n) = p - 1.0_dp
        case (17)  ! Osborne 1
            do i = 1, 33
                ti = 10.0_dp*real(i - 1, dp)
                e4 = exp(-ti*x(4))
                e1 = exp(-ti*x(5))
                fvec(i) = osb1_y(i) - (x(1) + x(2)*e4 + x(3)*e1)
            end do
        case (18)  ! Osborne 2
            do i = 1, 65
                ti = real(i - 1, dp)/10.0_dp
                e1 = exp(-ti*x(5))
                e2 = exp(-(ti - x(9))**2*x(6))
                e3 = exp(-(ti - x(10))**2*x(7))
                e4 = exp(-(ti - x(11))**2*x(8))
                fvec(i) = osb2_y(i) - (x(1)*e1 + x(2)*e2 + x(3)*e3 + x(4)*e4)
            end do
        end select
    end subroutine mgh_residual

    !> Analytic Jacobian of `mgh_residual`: fjac(i, j) = d f_i / d x_j, stored
    !> column-major in rows 1..m of an ldfjac-by-n array (rows beyond m untouched).
    pure subroutine mgh_jacobian(nprob, m, n, x, fjac, ldfjac)
        integer, intent(in) :: nprob
            !! problem number, 1 to 18
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(in) :: x(n)
            !! point at which to evaluate
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac, at least m
        real(dp), intent(inout) :: fjac(ldfjac, n)
            !! the Jacobian in fjac(1:m, 1:n)

        real(dp), parameter :: twopi = 8.0_dp*atan(1.0_dp)
        real(dp) :: ti, d, r2, e1, e2, e3, e4, y, p, dterm, tprev, tcur, tnext, &
                    dprev, dcur, dnext, st, ct
        integer :: i, j, k

        if (.not. mgh_size_ok(nprob, n, m) .or. ldfjac < m) then
            fjac(1:min(m, ldfjac), :) = ieee_value(1.0_dp, ieee_quiet_nan)
            return
        end if

        associate (jac => fjac(1:m, 1:n))
            jac = 0.0_dp
        end associate

        select case (nprob)
        case (1)  ! linear, full rank: I - (2/m) e e^T in the first n rows
            fjac(1:m, 1:n) = -2.0_dp/real(m, dp)
            do j = 1, n
                fjac(j, j) = fjac(j, j) + 1.0_dp
            end do
        case (2)  ! linear, rank 1: i*j
            do j = 1, n
                do i = 1, m
                    fjac(i, j) = real(i, dp)*real(j, dp)
                end do
            end do
        case (3)  ! linear, rank 1 with zero columns and rows: (i-1)*j inside
            do j = 2, n - 1
                do i = 2, m - 1
                    fjac(i, j) = real(i - 1, dp)*real(j, dp)
                end do
            end do
        case (4)  ! Rosenbrock
            fjac(1, 1) = -20.0_dp*x(1)
            fjac(1, 2) = 10.0_dp
            fjac(2, 1) = -1.0_dp
        case (5)  ! helical valley: d theta = (x1 dx2 - x2 dx1)/(2 pi r^2)
            r2 = x(1)**2 + x(2)**2
            d = twopi*r2
            fjac(1, 1) = 100.0_dp*x(2)/d
            fjac(1, 2) = -100.0_dp*x(1)/d
            fjac(1, 3) = 10.0_dp
            fjac(2, 1) = 10.0_dp*x(1)/sqrt(r2)
            fjac(2, 2) = 10.0_dp*x(2)/sqrt(r2)
            fjac(3, 3) = 1.0_dp
        case (6)  ! Powell singular
            fjac(1, 1) = 1.0_dp
            fjac(1, 2) = 10.0_dp
            fjac(2, 3) = sqrt(5.0_dp)
            fjac(2, 4) = -sqrt(5.0_dp)
            d = 2.0_dp*(x(2) - 2.0_dp*x(3))
            fjac(3, 2) = d
            fjac(3, 3) = -2.0_dp*d
            d = 2.0_dp*sqrt(10.0_dp)*(x(1) - x(4))
            fjac(4, 1) = d
            fjac(4, 4) = -d
        case (7)  ! Freudenstein and Roth
            fjac(1, 1) = 1.0_dp
            fjac(1, 2) = (10.0_dp - 3.0_dp*x(2))*x(2) - 2.0_dp
            fjac(2, 1) = 1.0_dp
            fjac(2, 2) = (3.0_dp*x(2) + 2.0_dp)*x(2) - 14.0_dp
        case (8)  ! Bard
            do i = 1, 15
                d = real(16 - i, dp)*x(2) + real(min(i, 16 - i), dp)*x(3)
                fjac(i, 1) = -1.0_dp
                fjac(i, 2) = real(i, dp)*real(16 - i, dp)/d**2
                fjac(i, 3) = real(i, dp)*real(min(i, 16 - i), dp)/d**2
            end do
        case (9)  ! Kowalik and Osborne
            do i = 1, 11
                associate (v => kowosb_v(i))
                    p = v*(v + x(2))
                    d = v*(v + x(3)) + x(4)
                    fjac(i, 1) = -p/d
                    fjac(i, 2) = -x(1)*v/d
                    fjac(i, 3) = x(1)*p*v/d**2
                    fjac(i, 4) = x(1)*p/d**2
                end associate
            end do
        case (10)  ! Meyer
            do i = 1, 16
                ti = 45.0_dp + 5.0_dp*real(i, dp)
                d = ti + x(3)
                e1 = exp(x(2)/d)
                fjac(i, 1) = e1
                fjac(i, 2) = x(1)*e1/d
                fjac(i, 3) = -x(1)*e1*x(2)/d**2
            end do
        case (11)  ! Watson: (j-1) t^(j-2) - 2 p t^(j-1), p = sum_k x_k t^(k-1)
            do i = 1, 29
                ti = real(i, dp)/29.0_dp
                p = 0.0_dp
                d = 1.0_dp
                do j = 1, n
                    p = p + d*x(j)
                    d = ti*d
                end do
                d = 1.0_dp      ! t^(j-1)
                dterm = 0.0_dp  ! (j-1) t^(j-2)
                do j = 1, n
                    fjac(i, j) = dterm - 2.0_dp*p*d
                    dterm = real(j, dp)*d
                    d = ti*d
                end do
            end do
            fjac(30, 1) = 1.0_dp
            fjac(31, 1) = -2.0_dp*x(1)
            fjac(31, 2) = 1.0_dp
        case (12)  ! Box 3-dimensional
            do i = 1, m
                ti = real(i, dp)/10.0_dp
                fjac(i, 1) = -ti*exp(-ti*x(1))
                fjac(i, 2) = ti*exp(-ti*x(2))
                fjac(i, 3) = exp(-real(i, dp)) - exp(-ti)
            end do
        case (13)  ! Jennrich and Sampson
            do i = 1, m
                ti = real(i, dp)
                fjac(i, 1) = -ti*exp(ti*x(1))
                fjac(i, 2) = -ti*exp(ti*x(2))
            end do
        case (14)  ! Brown and Dennis
            do i = 1, m
                ti = real(i, dp)/5.0_dp
                st = sin(ti)
                ct = cos(ti)
                e1 = 2.0_dp*(x(1) + ti*x(2) - exp(ti))
                e2 = 2.0_dp*(x(3) + st*x(4) - ct)
                fjac(i, 1) = e1
                fjac(i, 2) = e1*ti
                fjac(i, 3) = e2
                fjac(i, 4) = e2*st
            end do
        case (15)  ! Chebyquad: (2/n) T_i'(y), T'_(k+1) = 2 T_k + 2 y T'_k - T'_(k-1)
            do j = 1, n
                y = 2.0_dp*x(j) - 1.0_dp
                tprev = 1.0_dp
                tcur = y
                dprev = 0.0_dp
                dcur = 1.0_dp
                do i = 1, m
                    fjac(i, j) = 2.0_dp*dcur/real(n, dp)
                    tnext = 2.0_dp*y*tcur - tprev
                    dnext = 2.0_dp*tcur + 2.0_dp*y*dcur - dprev
                    tprev = tcur
                    tcur = tnext
                    dprev = dcur
                    dcur = dnext
                end do
            end do
        case (16)  ! Brown almost-linear
            fjac(1:n-1, 1:n) = 1.0_dp
            do i = 1, n - 1
                fjac(i, i) = 2.0_dp
            end do
            do j = 1, n
                p = 1.0_dp
                do k = 1, n
                    if (k /= j) p = p*x(k)
                end do
                fjac(n, j) = p
            end do
        case (17)  ! Osborne 1
            do i = 1, 33
                ti = 10.0_dp*real(i - 1, dp)
                e4 = exp(-ti*x(4))
                e1 = exp(-ti*x(5))
                fjac(i, 1) = -1.0_dp
                fjac(i, 2) = -e4
                fjac(i, 3) = -e1
                fjac(i, 4) = ti*x(2)*e4
                fjac(i, 5) = ti*x(3)*e1
            end do
        case (18)  ! Osborne 2
            do i = 1, 65
                ti = real(i - 1, dp)/10.0_dp
                e1 = exp(-ti*x(5))
                e2 = exp(-(ti - x(9))**2*x(6))
                e3 = exp(-(ti - x(10))**2*x(7))
                e4 = exp(-(ti - x(11))**2*x(8))
                fjac(i, 1) = -e1
                fjac(i, 2) = -e2
                fjac(i, 3) = -e3
                fjac(i, 4) = -e4
                fjac(i, 5) = ti*x(1)*e1
                fjac(i, 6) = (ti - x(9))**2*x(2)*e2
                fjac(i, 7) = (ti - x(10))**2*x(3)*e3
                fjac(i, 8) = (ti - x(11))**2*x(4)*e4
                fjac(i, 9) = -2.0_dp*x(6)*(ti - x(9))*x(2)*e2
                fjac(i, 10) = -2.0_dp*x(7)*(ti - x(10))*x(3)*e3
                fjac(i, 11) = -2.0_dp*x(8)*(ti - x(11))*x(4)*e4
            end do
        end select
    end subroutine mgh_jacobian

end module mgh_problems
