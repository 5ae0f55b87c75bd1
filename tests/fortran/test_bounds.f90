!> Callbacks of the bounds test program: the MGH problems, with every point of
!> evaluation recorded (difference steps and Jacobians included) through the
!> `udata` pointer.
module bounds_callbacks
    use, intrinsic :: iso_c_binding, only: c_ptr, c_f_pointer
    use mgh_problems, only: dp, mgh_residual, mgh_jacobian
    implicit none
    private

    public :: probe, probe_lmdif, probe_lmder, probe_block

    !> A problem and the record of where it was evaluated.
    type :: probe
        integer :: nprob = 0
            !! MGH problem number
        integer :: nfull = 0
            !! number of variables of the MGH problem
        integer :: jfix = 0
            !! when not 0: x(jfix) of the MGH problem is held at xfix, and
            !! the solver sees the other nfull - 1 variables (a reduced problem)
        real(dp) :: xfix = 0
            !! the value of the held variable
        real(dp), allocatable :: lb(:), ub(:)
            !! the box to check every point against (when allocated)
        real(dp), allocatable :: xmin(:), xmax(:)
            !! componentwise range of every point of evaluation
        integer :: calls = 0
            !! residual evaluations (iflag 1, and 2 in lmdif)
        integer :: jcalls = 0
            !! Jacobian evaluations (lmder, iflag 2)
        integer :: outside = 0
            !! points of evaluation outside the box
    end type probe

contains

    !> Record the point x: its range, and whether it lies in the box.
    subroutine record(p, n, x)
        type(probe), intent(inout) :: p
        integer, intent(in) :: n
        real(dp), intent(in) :: x(n)

        if (.not. allocated(p%xmin)) then
            p%xmin = x
            p%xmax = x
        end if
        p%xmin = min(p%xmin, x)
        p%xmax = max(p%xmax, x)
        if (allocated(p%lb)) then
            if (any(x < p%lb) .or. any(x > p%ub)) p%outside = p%outside + 1
        end if
    end subroutine record

    !> The residuals of the probe's problem at x (of its reduced problem when
    !> jfix /= 0).
    subroutine residual(p, m, n, x, fvec)
        type(probe), intent(in) :: p
        integer, intent(in) :: m, n
        real(dp), intent(in) :: x(n)
        real(dp), intent(out) :: fvec(m)

        real(dp) :: xf(p%nfull)

        if (p%jfix == 0) then
            call mgh_residual(p%nprob, m, n, x, fvec)
        else
            xf = [x(1:p%jfix - 1), p%xfix, x(p%jfix:)]
            call mgh_residual(p%nprob, m, p%nfull, xf, fvec)
        end if
    end subroutine residual

    !> `lmdif_fcn`: residuals for iflag 1 and 2.
    subroutine probe_lmdif(m, n, x, fvec, iflag, udata)
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(in) :: x(n)
            !! point of evaluation
        real(dp), intent(inout) :: fvec(m)
            !! residuals
        integer, intent(inout) :: iflag
            !! 1 or 2: compute fvec
        type(c_ptr), intent(in), value :: udata
            !! points to a `probe`

        type(probe), pointer :: p

        call c_f_pointer(udata, p)
        if (iflag == 0) return
        p%calls = p%calls + 1
        call record(p, n, x)
        call residual(p, m, n, x, fvec)
    end subroutine probe_lmdif

    !> `lmdif_block_fcn`: the residuals at k points.
    subroutine probe_block(m, n, k, x, fvec, iflag, udata)
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of variables
        integer, intent(in) :: k
            !! number of points
        real(dp), intent(in) :: x(n, k)
            !! the points
        real(dp), intent(inout) :: fvec(m, k)
            !! the residuals at each point
        integer, intent(inout) :: iflag
            !! 2
        type(c_ptr), intent(in), value :: udata
            !! points to a `probe`

        integer :: i

        do i = 1, k
            call probe_lmdif(m, n, x(:, i), fvec(:, i), iflag, udata)
        end do
    end subroutine probe_block

    !> `lmder_fcn`: residuals (iflag 1) and the analytic Jacobian (iflag 2).
    subroutine probe_lmder(m, n, x, fvec, fjac, ldfjac, iflag, udata)
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(in) :: x(n)
            !! point of evaluation
        real(dp), intent(inout) :: fvec(m)
            !! residuals (iflag 1)
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac
        real(dp), intent(inout) :: fjac(ldfjac, n)
            !! Jacobian (iflag 2)
        integer, intent(inout) :: iflag
            !! what to compute
        type(c_ptr), intent(in), value :: udata
            !! points to a `probe` (with jfix = 0)

        type(probe), pointer :: p

        call c_f_pointer(udata, p)
        select case (iflag)
        case (1)
            p%calls = p%calls + 1
            call record(p, n, x)
            call mgh_residual(p%nprob, m, n, x, fvec)
        case (2)
            p%jcalls = p%jcalls + 1
            call record(p, n, x)
            call mgh_jacobian(p%nprob, m, n, x, fjac, ldfjac)
        end select
    end subroutine probe_lmder

end module bounds_callbacks


!> Bounds in lmdif and lmder (minpack_lm, "Bounds"), on the MGH problems:
!>
!> 1. loose boxes (around every point the unbounded fit evaluates, a few with
!>    infinite sides): x, fvec, fjac, ipvt, qtf, nfev, njev and info are
!>    bit-identical to the unbounded fit, for lmder, lmdif and lmdif with a
!>    block callback;
!> 2. boxes that cut each case's unconstrained path (a bound halfway between
!>    x0 and the unbounded solution): the final x in the box, a sum of squares
!>    not above the start's, a small projected gradient when converged;
!> 3. Rosenbrock with x1 <= 0.5: the solution (0.5, 0.25) on the bound;
!> 4. a start on a bound and in a corner (where the forward difference step
!>    would leave the box);
!> 5. lower = upper fixes a parameter: the same fit as the reduced problem,
!>    every evaluation at the fixed value;
!> 6. x0 outside the box, lower > upper, a NaN bound: info 0, no evaluation.
!> No evaluation outside the box, ever (every point of every callback call is
!> checked). Usage: test_bounds MGH_REFERENCE_TABLE (the case list of
!> tests/fortran/mgh_reference.txt). Exits through `error stop 1` on failure.
program test_bounds
    use, intrinsic :: iso_c_binding, only: c_loc
    use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_positive_inf, &
        ieee_negative_inf, ieee_quiet_nan
    use minpack, only: lmdif, lmder
    use mgh_problems, only: dp, mgh_name, mgh_start, mgh_residual, mgh_jacobian
    use bounds_callbacks, only: probe, probe_lmdif, probe_lmder, probe_block
    implicit none

    !> One case of the MINPACK-1 drivers.
    type :: mgh_case
        integer :: nprob = 0, n = 0, m = 0
        real(dp) :: factor = 1
    end type mgh_case

    !> What a run returned.
    type :: fit
        real(dp), allocatable :: x(:), fvec(:), fjac(:, :), qtf(:)
        integer, allocatable :: ipvt(:), active(:)
        integer :: info = 0, nfev = 0, njev = 0, calls = 0, outside = 0
        real(dp), allocatable :: xmin(:), xmax(:)
    end type fit

    character(len=*), parameter :: solvers(3) = [character(len=10) :: 'lmder', 'lmdif', &
                                                 'lmdif-blk']
    type(mgh_case), allocatable :: cases(:)
    integer :: nfail, ncheck
    real(dp) :: inf, tol
    character(len=:), allocatable :: path
    integer :: arglen

    if (command_argument_count() /= 1) then
        write (*, '(a)') 'usage: test_bounds MGH_REFERENCE_TABLE'
        error stop 2
    end if
    call get_command_argument(1, length=arglen)
    allocate (character(len=arglen) :: path)
    call get_command_argument(1, path)
    call read_cases(path, cases)

    inf = ieee_value(1.0_dp, ieee_positive_inf)
    tol = sqrt(epsilon(1.0_dp))
    nfail = 0
    ncheck = 0

    call loose_boxes()
    call cutting_boxes()
    call rosenbrock_on_bound()
    call corner_starts()
    call fixed_parameter()
    call improper_boxes()

    write (*, '(/, a, i0, a)') 'test_bounds: ', ncheck, ' checks'
    if (nfail > 0) then
        write (*, '(a, i0, a)') 'test_bounds: FAILED (', nfail, ' failing checks)'
        error stop 1
    end if
    write (*, '(a)') 'test_bounds: all passed'
    deallocate (cases, path)

contains

    !> The (problem, n, m, factor) cases: the lmder rows of the reference table.
    subroutine read_cases(path, cases)
        character(len=*), intent(in) :: path
        type(mgh_case), allocatable, intent(out) :: cases(:)

        character(len=1024) :: line
        character(len=8) :: solver
        integer :: unit, ios, icase, k
        type(mgh_case) :: c
        type(mgh_case) :: buf(200)

        open (newunit=unit, file=path, status='old', action='read', iostat=ios)
        if (ios /= 0) then
            write (*, '(a)') 'test_bounds: cannot open '//path
            error stop 2
        end if
        k = 0
        do
            read (unit, '(a)', iostat=ios) line
            if (ios /= 0) exit
            if (len_trim(line) == 0 .or. line(1:1) == '#') cycle
            read (line, *) solver, icase, c%nprob, c%n, c%m, c%factor
            if (solver /= 'lmder') cycle
            k = k + 1
            buf(k) = c
        end do
        close (unit)
        cases = buf(1:k)
        if (k < 50) then
            write (*, '(a, i0, a)') 'test_bounds: only ', k, ' cases read'
            error stop 2
        end if
    end subroutine read_cases

    !> Record one check.
    subroutine check(ok, what)
        logical, intent(in) :: ok
        character(len=*), intent(in) :: what

        ncheck = ncheck + 1
        if (.not. ok) then
            nfail = nfail + 1
            write (*, '(a)') '  FAIL: '//what
        end if
    end subroutine check

    !> Run solver on problem nprob (n, m) from x0, within [lb, ub] when
    !> `boxed`, with the drivers' settings (tol = sqrt(eps), maxfev 100 (n + 1)
    !> for lmder and 200 (n + 1) for lmdif, mode 1, factor 100). `jfix` /= 0
    !> runs the reduced problem (see `probe`).
    subroutine run(solver, nprob, n, m, x0, boxed, lb, ub, r, jfix, xfix)
        character(len=*), intent(in) :: solver
        integer, intent(in) :: nprob, n, m
        real(dp), intent(in) :: x0(n)
        logical, intent(in) :: boxed
        real(dp), intent(in) :: lb(n), ub(n)
        type(fit), intent(out) :: r
        integer, intent(in), optional :: jfix
        real(dp), intent(in), optional :: xfix

        type(probe), target :: p
        real(dp) :: diag(n)

        p%nprob = nprob
        p%nfull = n
        if (present(jfix)) then
            p%jfix = jfix
            p%xfix = xfix
            p%nfull = n + 1
        end if
        if (boxed) then
            p%lb = lb
            p%ub = ub
        end if
        r%x = x0
        allocate (r%fvec(m), r%fjac(m, n), r%qtf(n), r%ipvt(n), r%active(n))
        r%active = 99
        select case (solver)
        case ('lmder')
            if (boxed) then
                call lmder(probe_lmder, m, n, r%x, r%fvec, r%fjac, m, tol, tol, 0.0_dp, &
                           100 * (n + 1), diag, 1, 100.0_dp, 0, r%info, r%nfev, r%njev, &
                           r%ipvt, r%qtf, c_loc(p), lower=lb, upper=ub, active=r%active)
            else
                call lmder(probe_lmder, m, n, r%x, r%fvec, r%fjac, m, tol, tol, 0.0_dp, &
                           100 * (n + 1), diag, 1, 100.0_dp, 0, r%info, r%nfev, r%njev, &
                           r%ipvt, r%qtf, c_loc(p), active=r%active)
            end if
        case ('lmdif')
            if (boxed) then
                call lmdif(probe_lmdif, m, n, r%x, r%fvec, tol, tol, 0.0_dp, 200 * (n + 1), &
                           0.0_dp, diag, 1, 100.0_dp, 0, r%info, r%nfev, r%fjac, m, r%ipvt, &
                           r%qtf, c_loc(p), lower=lb, upper=ub, active=r%active)
            else
                call lmdif(probe_lmdif, m, n, r%x, r%fvec, tol, tol, 0.0_dp, 200 * (n + 1), &
                           0.0_dp, diag, 1, 100.0_dp, 0, r%info, r%nfev, r%fjac, m, r%ipvt, &
                           r%qtf, c_loc(p), active=r%active)
            end if
        case ('lmdif-blk')
            if (boxed) then
                call lmdif(probe_lmdif, m, n, r%x, r%fvec, tol, tol, 0.0_dp, 200 * (n + 1), &
                           0.0_dp, diag, 1, 100.0_dp, 0, r%info, r%nfev, r%fjac, m, r%ipvt, &
                           r%qtf, c_loc(p), probe_block, lower=lb, upper=ub, active=r%active)
            else
                call lmdif(probe_lmdif, m, n, r%x, r%fvec, tol, tol, 0.0_dp, 200 * (n + 1), &
                           0.0_dp, diag, 1, 100.0_dp, 0, r%info, r%nfev, r%fjac, m, r%ipvt, &
                           r%qtf, c_loc(p), probe_block)
                r%active = 0
            end if
        end select
        r%calls = p%calls
        r%outside = p%outside
        if (allocated(p%xmin)) then
            r%xmin = p%xmin
            r%xmax = p%xmax
        end if
    end subroutine run

    !> Whether two runs agree bit for bit in everything MINPACK returns.
    logical function identical(a, b, n)
        type(fit), intent(in) :: a, b
        integer, intent(in) :: n

        identical = all(a%x == b%x) .and. all(a%fvec == b%fvec) .and. &
            all(a%fjac(1:n, :) == b%fjac(1:n, :)) .and. all(a%ipvt == b%ipvt) .and. &
            all(a%qtf == b%qtf) .and. a%info == b%info .and. a%nfev == b%nfev .and. &
            a%njev == b%njev .and. a%calls == b%calls
    end function identical

    !> The projected gradient of the sum of squares at x, g = J^T f with the
    !> components held on a bound by a gradient pointing out of the box set
    !> to zero: its largest component (gmax) and its largest scaled one,
    !> |g_j| / (||J e_j|| ||f||) (cmax: the cosine that MINPACK's gtol test
    !> measures, over the free directions).
    subroutine projected_gradient(nprob, n, m, x, lb, ub, gmax, cmax)
        integer, intent(in) :: nprob, n, m
        real(dp), intent(in) :: x(n), lb(n), ub(n)
        real(dp), intent(out) :: gmax, cmax

        real(dp) :: f(m), jac(m, n), g, cn, fn
        integer :: j

        call mgh_residual(nprob, m, n, x, f)
        call mgh_jacobian(nprob, m, n, x, jac, m)
        fn = norm2(f)
        cmax = 0
        gmax = 0
        do j = 1, n
            g = dot_product(jac(:, j), f)
            if (x(j) == lb(j) .and. g >= 0) cycle
            if (x(j) == ub(j) .and. g <= 0) cycle
            gmax = max(gmax, abs(g))
            cn = norm2(jac(:, j))
            if (cn > 0 .and. fn > 0) cmax = max(cmax, abs(g) / (cn * fn))
        end do
    end subroutine projected_gradient

    !> How far x is from a first-order point of the box: the smaller of the
    !> scaled cosine and the projected gradient relative to the start's. The
    !> cosine alone misjudges degenerate fits whose Jacobian columns vanish
    !> (Bard from 10 x0), the ratio alone fits that start near-stationary; a
    !> fit far from a first-order point is large in both.
    real(dp) function projected_optimality(nprob, n, m, x, x0, lb, ub) result(c)
        integer, intent(in) :: nprob, n, m
        real(dp), intent(in) :: x(n), x0(n), lb(n), ub(n)

        real(dp) :: g, cosine, g0, cosine0

        call projected_gradient(nprob, n, m, x, lb, ub, g, cosine)
        call projected_gradient(nprob, n, m, x0, lb, ub, g0, cosine0)
        c = cosine
        if (g0 > 0) c = min(c, g / g0)
    end function projected_optimality

    !> 1. Loose boxes: bit-identical to the unbounded fit.
    subroutine loose_boxes()
        integer :: ic, is, nsame, ntot, n, m
        type(fit) :: free, boxed
        real(dp), allocatable :: x0(:), lb(:), ub(:)
        character(len=120) :: what

        write (*, '(a)') '1. loose boxes: bit-identical to the unbounded fit'
        do is = 1, size(solvers)
            nsame = 0
            ntot = 0
            do ic = 1, size(cases)
                n = cases(ic)%n
                m = cases(ic)%m
                allocate (x0(n))
                call mgh_start(cases(ic)%nprob, n, cases(ic)%factor, x0)
                call run(solvers(is), cases(ic)%nprob, n, m, x0, .false., x0, x0, free)
                ! a box around every point the unbounded fit evaluated;
                ! every third component unbounded on one side (+-inf)
                lb = free%xmin - (1 + abs(free%xmin))
                ub = free%xmax + (1 + abs(free%xmax))
                lb(1:n:3) = -inf
                ub(2:n:3) = inf
                call run(solvers(is), cases(ic)%nprob, n, m, x0, .true., lb, ub, boxed)
                ntot = ntot + 1
                write (what, '(a, a, i0, a, i0, a)') trim(solvers(is)), ' case ', ic, &
                    ' (problem ', cases(ic)%nprob, '): not identical to the unbounded fit'
                call check(identical(free, boxed, n) .and. all(boxed%active == 0) .and. &
                           boxed%outside == 0, what)
                if (identical(free, boxed, n)) nsame = nsame + 1
                deallocate (x0)
            end do
            write (*, '(2x, a10, i0, a, i0, a)') solvers(is), nsame, '/', ntot, &
                ' cases bit-identical'
        end do
    end subroutine loose_boxes

    !> 2. Boxes that cut the way to the unconstrained solution.
    subroutine cutting_boxes()
        integer :: ic, is, j, n, m, nconv, nsmall, ntot, nactive
        type(fit) :: free, boxed
        real(dp), allocatable :: x0(:), lb(:), ub(:), f0(:)
        real(dp) :: c, cworst
        character(len=160) :: what

        write (*, '(/, a)') '2. boxes cutting the path to the unconstrained solution'
        do is = 1, size(solvers)
            nconv = 0
            nsmall = 0
            ntot = 0
            nactive = 0
            cworst = 0
            do ic = 1, size(cases)
                n = cases(ic)%n
                m = cases(ic)%m
                allocate (x0(n), f0(m))
                call mgh_start(cases(ic)%nprob, n, cases(ic)%factor, x0)
                call run(solvers(is), cases(ic)%nprob, n, m, x0, .false., x0, x0, free)
                ! a bound halfway between x0 and the unbounded solution on the
                ! component that moved most (relative to its size)
                j = maxloc(abs(free%x - x0) / (1 + abs(x0)), 1)
                allocate (lb(n), ub(n))
                lb = -inf
                ub = inf
                if (free%x(j) > x0(j)) then
                    ub(j) = x0(j) + (free%x(j) - x0(j)) / 2
                else
                    lb(j) = x0(j) + (free%x(j) - x0(j)) / 2
                end if
                call run(solvers(is), cases(ic)%nprob, n, m, x0, .true., lb, ub, boxed)
                ntot = ntot + 1
                write (what, '(a, a, i0, a, i0, a)') trim(solvers(is)), ' case ', ic, &
                    ' (problem ', cases(ic)%nprob, ')'
                call check(boxed%outside == 0, trim(what)//': evaluated outside the box')
                call check(all(boxed%x >= lb .and. boxed%x <= ub), &
                           trim(what)//': final x outside the box')
                call mgh_residual(cases(ic)%nprob, m, n, x0, f0)
                call check(norm2(boxed%fvec) <= norm2(f0), &
                           trim(what)//': sum of squares above the start''s')
                call check(boxed%info >= 1 .and. boxed%info <= 5, &
                           trim(what)//': unexpected info')
                if (any(boxed%active /= 0)) nactive = nactive + 1
                call check(all(boxed%active == merge(-1, 0, boxed%x == lb) &
                                                + merge(1, 0, boxed%x == ub)), &
                           trim(what)//': active mask does not match x')
                if (boxed%info >= 1 .and. boxed%info <= 4) then
                    nconv = nconv + 1
                    c = projected_optimality(cases(ic)%nprob, n, m, boxed%x, x0, lb, ub)
                    cworst = max(cworst, c)
                    if (c <= 1.0e-4_dp) then
                        nsmall = nsmall + 1
                    else
                        write (*, '(4x, a, a, es9.2, a, i0, a, *(g0, 1x))') trim(what), &
                            ': projected gradient ', c, ', info ', boxed%info, &
                            ', active ', boxed%active
                    end if
                end if
                deallocate (x0, f0, lb, ub)
            end do
            write (*, '(2x, a10, i0, a, i0, a, i0, a, i0, a, es9.2, a, i0, a)') solvers(is), &
                nconv, '/', ntot, ' converged, projected gradient <= 1e-4 in ', &
                nsmall, '/', nconv, ' (largest ', cworst, '), ', nactive, ' end on a bound'
            call check(nconv >= (9 * ntot) / 10, trim(solvers(is))// &
                       ': fewer than 90 % of the cut boxes converged')
            call check(nsmall >= (9 * nconv) / 10, trim(solvers(is))// &
                       ': projected gradient not small in more than 10 % of the converged')
        end do
    end subroutine cutting_boxes

    !> 3. Rosenbrock, x1 <= 0.5: the solution is (0.5, 0.25), on the bound.
    subroutine rosenbrock_on_bound()
        integer :: is
        type(fit) :: r
        real(dp) :: x0(2), lb(2), ub(2)

        write (*, '(/, a)') '3. Rosenbrock with x1 <= 0.5: solution (0.5, 0.25) on the bound'
        x0 = [-1.2_dp, 1.0_dp]
        lb = -inf
        ub = [0.5_dp, inf]
        do is = 1, size(solvers)
            call run(solvers(is), 4, 2, 2, x0, .true., lb, ub, r)
            write (*, '(2x, a10, a, 2es24.16, a, i0, a, i0, a, 2i3)') solvers(is), 'x =', r%x, &
                ', info ', r%info, ', nfev ', r%nfev, ', active', r%active
            call check(r%info >= 1 .and. r%info <= 4, trim(solvers(is))//': not converged')
            call check(r%x(1) == 0.5_dp, trim(solvers(is))//': x1 not exactly on its bound')
            call check(abs(r%x(2) - 0.25_dp) <= 1.0e-8_dp, trim(solvers(is))//': x2 /= 0.25')
            call check(all(r%active == [1, 0]), trim(solvers(is))//': active mask')
            call check(r%outside == 0, trim(solvers(is))//': evaluated outside the box')
        end do
    end subroutine rosenbrock_on_bound

    !> 4. Starts on a bound and in a corner: Rosenbrock in [-2, 0.5] x [-1, 0.2]
    !> (solution x2 = 0.2 on its bound, x1 the root of 400 x1^3 - 78 x1 - 2 in
    !> the interior), from each corner and from the middle of each side.
    subroutine corner_starts()
        integer :: is, k
        type(fit) :: r
        real(dp) :: x0(2), lb(2), ub(2), xs, starts(2, 6)
        character(len=120) :: what

        write (*, '(/, a)') '4. Rosenbrock in [-2, 0.5] x [-1, 0.2] from corners and sides'
        lb = [-2.0_dp, -1.0_dp]
        ub = [0.5_dp, 0.2_dp]
        ! the solution's x1: Newton on 400 x^3 - 78 x - 2 from 0.5
        xs = 0.5_dp
        do k = 1, 50
            xs = xs - (400 * xs**3 - 78 * xs - 2) / (1200 * xs**2 - 78)
        end do
        starts = reshape([lb(1), lb(2), ub(1), ub(2), lb(1), ub(2), ub(1), lb(2), &
                          lb(1), 0.0_dp, 0.0_dp, ub(2)], [2, 6])
        do is = 1, size(solvers)
            do k = 1, size(starts, 2)
                x0 = starts(:, k)
                call run(solvers(is), 4, 2, 2, x0, .true., lb, ub, r)
                write (what, '(a, a, 2f6.2, a, i0, a, 2es12.4)') trim(solvers(is)), &
                    ' from', x0, ': info ', r%info, ', x =', r%x
                write (*, '(2x, a)') trim(what)
                call check(r%info >= 1 .and. r%info <= 4, trim(what)//': not converged')
                call check(r%x(2) == 0.2_dp .and. abs(r%x(1) - xs) <= 1.0e-7_dp, &
                           trim(what)//': not the solution')
                call check(all(r%active == [0, 1]), trim(what)//': active mask')
                call check(r%outside == 0, trim(what)//': evaluated outside the box')
            end do
        end do
    end subroutine corner_starts

    !> 5. lower = upper fixes a parameter: Bard (problem 8) with x2 = 1, and
    !> Osborne 1 (problem 17) with x5 = 0.02, against the reduced problems.
    subroutine fixed_parameter()
        integer :: is, k, nprob, n, m, jfix
        type(fit) :: full, reduced
        real(dp), allocatable :: x0(:), lb(:), ub(:), x0r(:)
        real(dp) :: xfix
        character(len=120) :: what

        write (*, '(/, a)') '5. lower = upper fixes a parameter: the fit of the reduced problem'
        do k = 1, 2
            if (k == 1) then
                nprob = 8; n = 3; m = 15; jfix = 2; xfix = 1.0_dp
            else
                nprob = 17; n = 5; m = 33; jfix = 5; xfix = 0.02_dp
            end if
            allocate (x0(n))
            call mgh_start(nprob, n, 1.0_dp, x0)
            x0(jfix) = xfix
            allocate (lb(n), ub(n))
            lb = -inf
            ub = inf
            lb(jfix) = xfix
            ub(jfix) = xfix
            x0r = [x0(1:jfix - 1), x0(jfix + 1:)]
            do is = 1, 2
                call run(solvers(is), nprob, n, m, x0, .true., lb, ub, full)
                call run('lmdif', nprob, n - 1, m, x0r, .false., x0r, x0r, reduced, &
                         jfix, xfix)
                write (what, '(a, 1x, a, a, i0, a, i0, a, i0, a, i0)') trim(solvers(is)), &
                    trim(mgh_name(nprob)), ': info ', full%info, ', nfev ', full%nfev, &
                    ' (reduced lmdif: info ', reduced%info, ', nfev ', reduced%nfev
                write (*, '(2x, a, a)') trim(what), ')'
                call check(full%info >= 1 .and. full%info <= 4, trim(what)//': not converged')
                call check(full%x(jfix) == xfix, trim(what)//': the fixed parameter moved')
                call check(full%outside == 0, trim(what)//': evaluated off the fixed value')
                call check(maxval(abs([full%x(1:jfix - 1), full%x(jfix + 1:)] - reduced%x) &
                                  / (abs(reduced%x) + 1.0e-12_dp)) <= 1.0e-6_dp, &
                           trim(what)//': x differs from the reduced fit')
                call check(abs(norm2(full%fvec) - norm2(reduced%fvec)) <= &
                           1.0e-10_dp * norm2(reduced%fvec), trim(what)//': fnorm differs')
                call check(full%active(jfix) == -1 .and. count(full%active /= 0) == 1, &
                           trim(what)//': active mask')
                if (solvers(is) == 'lmdif') call check(full%calls == full%nfev, &
                    trim(what)//': nfev is not the number of calls')
            end do
            deallocate (x0, lb, ub)
        end do
    end subroutine fixed_parameter

    !> 6. Improper boxes: info 0 before any evaluation, x untouched.
    subroutine improper_boxes()
        integer :: is, k
        type(fit) :: r
        real(dp) :: x0(2), lb(2), ub(2)
        character(len=80) :: what

        write (*, '(/, a)') '6. x0 outside the box, lower > upper, NaN bound: info 0'
        x0 = [-1.2_dp, 1.0_dp]
        do is = 1, size(solvers)
            do k = 1, 4
                lb = -inf
                ub = inf
                select case (k)
                case (1)
                    ub(1) = -1.5_dp                     ! x0(1) above its upper bound
                case (2)
                    lb(2) = 1.0_dp + epsilon(1.0_dp)    ! x0(2) just below its lower bound
                case (3)
                    lb(2) = 3.0_dp                      ! lower > upper
                    ub(2) = 2.0_dp
                case (4)
                    lb(1) = ieee_value(1.0_dp, ieee_quiet_nan)
                end select
                call run(solvers(is), 4, 2, 2, x0, .true., lb, ub, r)
                write (what, '(a, a, i0)') trim(solvers(is)), ': improper box ', k
                call check(r%info == 0 .and. r%calls == 0 .and. all(r%x == x0), what)
            end do
        end do
        write (*, '(2x, a)') 'done'
    end subroutine improper_boxes

end program test_bounds
