!> Checks chkder on the 18 MGH least-squares problems (one size each, at the
!> standard start and 10 times it): the analytic Jacobians of mgh_problems must
!> score as correct, deliberately wrong ones as incorrect.
!>
!> What chkder can decide (MINPACK-1 user guide): with s_j = |x_j| (1 if
!> x_j = 0) and eps = sqrt(epsmch), it compares (fvecp(i) - fvec(i)) / eps with
!> sum_j s_j fjac(i, j) relative to |fvec(i)| + |fvecp(i)|. So
!> - it judges nothing (err(i) = 0 by design) when fvec(i) or fvecp(i) is zero
!>   or they differ by less than 100 epsmch |fvec(i)|: not gated;
!> - a correct row scores about 1 unless fvec(i) is near its own rounding
!>   error; we gate correct rows where |fvec(i)| >= eps sum_j s_j |fjac(i, j)|;
!> - a wrong row scores about 0 when its error along s is comparable to
!>   |fvec(i)|; we gate wrong rows where |sum_j s_j (fjac - wrong)(i, j)| >=
!>   0.1 (|fvec(i)| + |fvecp(i)|), i.e. an error of 10% of the function value.
!> Gate: correct rows err >= 0.5 (the user guide's "probably correct"), wrong
!> rows err <= 0.2. The wrong Jacobians: the analytic one negated, with one
!> nonzero derivative doubled in each row, and all zero. Exits through
!> `error stop 1` if any check fails.
program test_chkder
    use minpack, only: chkder
    use mgh_problems, only: dp, mgh_name, mgh_size_ok, mgh_start, mgh_residual, &
        mgh_jacobian
    implicit none

    real(dp), parameter :: good_min = 0.5_dp
        !! correct gradients must score at least this (1 is perfect)
    real(dp), parameter :: bad_max = 0.2_dp
        !! wrong gradients must score at most this (0: no digit agrees)
    real(dp), parameter :: eps = sqrt(epsilon(1.0_dp))
        !! chkder's relative step
    integer, parameter :: nprobs = 18
    integer, parameter :: sizes(3, nprobs) = reshape([ &
        1, 5, 10,   2, 5, 10,   3, 5, 10,   4, 2, 2,    5, 3, 3,    6, 4, 4, &
        7, 2, 2,    8, 3, 15,   9, 4, 11,   10, 3, 16,  11, 6, 31,  12, 3, 10, &
        13, 2, 10,  14, 4, 20,  15, 8, 8,   16, 10, 10, 17, 5, 33,  18, 11, 65], &
        [3, nprobs])
        !! (problem, n, m): the first case of each problem in the MGH driver
    real(dp), parameter :: factors(2) = [1.0_dp, 10.0_dp]

    integer :: iprob, ifac, nfail, ngood, nbad
    real(dp) :: good_lo, good_sum, bad_hi, bad_sum

    nfail = 0
    ngood = 0
    nbad = 0
    good_lo = 1.0_dp
    good_sum = 0.0_dp
    bad_hi = 0.0_dp
    bad_sum = 0.0_dp
    write (*, '(a4, 2x, a30, a4, a4, a5, " |", a6, a10, a6, 3a10)') 'prob', 'name', 'n', &
        'm', 'fact', 'gated', 'min good', 'gated', 'max neg', 'max 2x', 'max zero'
    do iprob = 1, nprobs
        do ifac = 1, size(factors)
            call check_problem(sizes(1, iprob), sizes(2, iprob), sizes(3, iprob), &
                               factors(ifac))
        end do
    end do

    write (*, '(/, a, i0, a, f6.4, a, f6.4)') 'correct rows gated: ', ngood, &
        ', err mean ', good_sum / max(ngood, 1), ', min ', good_lo
    write (*, '(a, i0, a, f6.4, a, f6.4)') 'wrong rows gated:   ', nbad, &
        ', err mean ', bad_sum / max(nbad, 1), ', max ', bad_hi
    if (nfail > 0) then
        write (*, '(a, i0, a)') 'test_chkder: FAILED (', nfail, ' failing checks)'
        error stop 1
    end if
    write (*, '(a)') 'test_chkder: all checks passed'

contains

    !> chkder on one problem at factor times its standard start, with the
    !> analytic Jacobian and the three wrong ones; print a line and gate.
    subroutine check_problem(nprob, n, m, factor)
        integer, intent(in) :: nprob, n, m
        real(dp), intent(in) :: factor

        real(dp) :: x(n), xp(n), fvec(m), fvecp(m), fjac(m, n), wrong(m, n), err(m), s(n)
        real(dp) :: worst(4)
        logical :: judged(m), resolved(m)
        integer :: nwrong(3)
        character(len=80) :: label
        integer :: i, j, k

        if (.not. mgh_size_ok(nprob, n, m)) then
            write (*, '(a, i0, a)') 'FAIL: problem ', nprob, ': size not allowed'
            nfail = nfail + 1
            return
        end if
        write (label, '(a, i0, 1x, a, a, f5.0)') 'problem ', nprob, trim(mgh_name(nprob)), &
            ' at factor', factor

        ! mode 1 references only x and xp
        call mgh_start(nprob, n, factor, x)
        fvec = 0.0_dp
        fvecp = 0.0_dp
        fjac = 0.0_dp
        err = 0.0_dp
        call chkder(m, n, x, fvec, fjac, m, xp, fvecp, 1, err)
        call mgh_residual(nprob, m, n, x, fvec)
        call mgh_residual(nprob, m, n, xp, fvecp)
        call mgh_jacobian(nprob, m, n, x, fjac, m)

        ! which rows chkder can judge, and judge reliably when correct (see above)
        s = abs(x)
        where (s == 0.0_dp) s = 1.0_dp
        judged = fvec /= 0.0_dp .and. fvecp /= 0.0_dp .and. &
            abs(fvecp - fvec) >= 100.0_dp * epsilon(1.0_dp) * abs(fvec)
        do i = 1, m
            resolved(i) = judged(i) .and. abs(fvec(i)) >= eps * sum(s * abs(fjac(i, :)))
        end do

        ! the analytic Jacobian
        call chkder(m, n, x, fvec, fjac, m, xp, fvecp, 2, err)
        worst(1) = 1.0_dp
        if (any(resolved)) worst(1) = minval(err, mask=resolved)
        ngood = ngood + count(resolved)
        good_sum = good_sum + sum(err, mask=resolved)
        good_lo = min(good_lo, worst(1))
        if (.not. all(err >= good_min .or. .not. resolved)) &
            call fail(trim(label)//': analytic Jacobian scored as wrong')

        ! wrong: negated
        wrong = -fjac
        worst(2) = wrong_score(trim(label)//': negated Jacobian', m, n, x, s, fvec, fjac, &
                               wrong, xp, fvecp, judged, nwrong(1))

        ! wrong: in each row, one nonzero derivative doubled
        wrong = fjac
        do i = 1, m
            do j = 1, n
                k = 1 + mod(i + j - 2, n)
                if (fjac(i, k) /= 0.0_dp) then
                    wrong(i, k) = 2 * fjac(i, k)
                    exit
                end if
            end do
        end do
        worst(3) = wrong_score(trim(label)//': one derivative doubled', m, n, x, s, fvec, &
                               fjac, wrong, xp, fvecp, judged, nwrong(2))

        ! wrong: all zero (the forgotten Jacobian)
        wrong = 0.0_dp
        worst(4) = wrong_score(trim(label)//': zero Jacobian', m, n, x, s, fvec, fjac, &
                               wrong, xp, fvecp, judged, nwrong(3))

        write (*, '(i4, 2x, a30, i4, i4, f5.0, " |", i6, f10.4, i6, 3f10.4)') nprob, &
            mgh_name(nprob), n, m, factor, count(resolved), worst(1), sum(nwrong), worst(2:4)
    end subroutine check_problem

    !> chkder with the wrong Jacobian `wrong`: on the judged rows where its error
    !> along s is at least 10% of |fvec| + |fvecp|, err must be at most bad_max.
    !> Returns the largest such err (0 if no row qualifies) and their number.
    real(dp) function wrong_score(what, m, n, x, s, fvec, fjac, wrong, xp, fvecp, judged, &
                                  ngated) result(worst_err)
        character(len=*), intent(in) :: what
        integer, intent(in) :: m, n
        real(dp), intent(in) :: x(n), s(n), fvec(m), fjac(m, n), wrong(m, n), xp(n), &
                                fvecp(m)
        logical, intent(in) :: judged(m)
        integer, intent(out) :: ngated

        real(dp) :: err(m), xp_unused(n)
        logical :: gated(m)
        integer :: i

        do i = 1, m
            gated(i) = judged(i) .and. abs(sum(s * (fjac(i, :) - wrong(i, :)))) &
                >= 0.1_dp * (abs(fvec(i)) + abs(fvecp(i)))
        end do
        xp_unused = xp
        call chkder(m, n, x, fvec, wrong, m, xp_unused, fvecp, 2, err)
        ngated = count(gated)
        worst_err = 0.0_dp
        if (any(gated)) worst_err = maxval(err, mask=gated)
        nbad = nbad + ngated
        bad_sum = bad_sum + sum(err, mask=gated)
        bad_hi = max(bad_hi, worst_err)
        if (.not. all(err <= bad_max .or. .not. gated)) &
            call fail(what//' scored as correct')
    end function wrong_score

    !> Count and report a failing check.
    subroutine fail(what)
        character(len=*), intent(in) :: what

        nfail = nfail + 1
        write (*, '(2a)') 'FAIL: ', what
    end subroutine fail

end program test_chkder
