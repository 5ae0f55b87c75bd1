!> The problems of the reverse-communication test and the answers to the
!> engine's requests, shared by the callback drivers and the loops over
!> lm_step, so that both see the same residuals, Jacobians and stops.
module revcomm_support
    use, intrinsic :: iso_c_binding, only: c_ptr, c_f_pointer
    use, intrinsic :: iso_fortran_env, only: int64
    use mgh_problems, only: dp, mgh_residual, mgh_jacobian
    implicit none
    private

    public :: fit_case, probe, eval_point, eval_jacobian, note_report
    public :: probe_lmdif, probe_lmder, probe_block, probe_hybrd, probe_hybrj, bits

    !> One fit: an MGH problem, a start, how it is solved.
    type :: fit_case
        integer :: nprob = 0
            !! MGH problem number
        integer :: n = 0
            !! number of variables
        integer :: m = 0
            !! number of residuals
        real(dp) :: factor = 1
            !! the start is factor times the standard one
        logical :: difference = .true.
            !! lmdif (true) or lmder (false)
        logical :: bounded = .false.
            !! with a box that the fit may run into
        integer :: nprint = 0
            !! progress reports every nprint iterations
        integer :: stop_at = 0
            !! the evaluation at which the answer asks to stop (0: never)
        integer :: ldfjac = 0
            !! leading dimension of fjac (m or more)
        real(dp), allocatable :: x0(:), lower(:), upper(:)
            !! the start and the box
    end type fit_case

    !> What the answers record: counts, and a hash of every point of
    !> evaluation in order.
    type :: probe
        integer :: nprob = 0
            !! MGH problem number
        integer :: stop_at = 0
            !! the evaluation at which to ask to stop (0: never)
        integer :: ncall = 0
            !! evaluations (residuals, difference points and Jacobians)
        integer :: nreport = 0
            !! progress reports
        integer(int64) :: trace = 0
            !! hash of the points of evaluation and of the reports
    end type probe

contains

    !> The bits of a double.
    elemental integer(int64) function bits(x)
        real(dp), intent(in) :: x

        bits = transfer(x, 0_int64)
    end function bits

    !> Fold a point into the probe's trace (a rotate and xor per component).
    pure subroutine fold(p, x, tag)
        type(probe), intent(inout) :: p
        real(dp), intent(in) :: x(:)
        integer, intent(in) :: tag

        integer :: j

        p%trace = ieor(ishftc(p%trace, 5), int(tag, int64))
        do j = 1, size(x)
            p%trace = ieor(ishftc(p%trace, 7), bits(x(j)))
        end do
    end subroutine fold

    !> Residuals at x into f; asks to stop (iflag = -1) at evaluation stop_at.
    pure subroutine eval_point(p, m, n, x, f, iflag)
        type(probe), intent(inout) :: p
        integer, intent(in) :: m, n
        real(dp), intent(in) :: x(n)
        real(dp), intent(out) :: f(m)
        integer, intent(inout) :: iflag

        p%ncall = p%ncall + 1
        call fold(p, x, 1)
        call mgh_residual(p%nprob, m, n, x, f)
        if (p%ncall == p%stop_at) iflag = -1
    end subroutine eval_point

    !> Jacobian at x into fjac; asks to stop as eval_point.
    pure subroutine eval_jacobian(p, m, n, x, fjac, ldfjac, iflag)
        type(probe), intent(inout) :: p
        integer, intent(in) :: m, n, ldfjac
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fjac(ldfjac, n)
        integer, intent(inout) :: iflag

        p%ncall = p%ncall + 1
        call fold(p, x, 2)
        call mgh_jacobian(p%nprob, m, n, x, fjac, ldfjac)
        if (p%ncall == p%stop_at) iflag = -1
    end subroutine eval_jacobian

    !> A progress report at x with residuals fvec.
    pure subroutine note_report(p, x, fvec)
        type(probe), intent(inout) :: p
        real(dp), intent(in) :: x(:), fvec(:)

        p%nreport = p%nreport + 1
        call fold(p, x, 3)
        call fold(p, fvec, 4)
    end subroutine note_report

    !> lmdif's callback over a probe.
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
            !! 1, 2: residuals; 0: report
        type(c_ptr), intent(in), value :: udata
            !! points to a probe

        type(probe), pointer :: p

        call c_f_pointer(udata, p)
        if (iflag == 0) then
            call note_report(p, x, fvec)
        else
            call eval_point(p, m, n, x, fvec, iflag)
        end if
    end subroutine probe_lmdif

    !> lmdif's block callback over a probe: the k points one after another.
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
            !! 2; set to -1 by a stop
        type(c_ptr), intent(in), value :: udata
            !! points to a probe

        type(probe), pointer :: p
        integer :: j

        call c_f_pointer(udata, p)
        do j = 1, k
            call eval_point(p, m, n, x(:, j), fvec(:, j), iflag)
            if (iflag < 0) exit
        end do
    end subroutine probe_block

    !> lmder's callback over a probe.
    subroutine probe_lmder(m, n, x, fvec, fjac, ldfjac, iflag, udata)
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of variables
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac
        real(dp), intent(in) :: x(n)
            !! point of evaluation
        real(dp), intent(inout) :: fvec(m)
            !! residuals (iflag 1)
        real(dp), intent(inout) :: fjac(ldfjac, n)
            !! Jacobian (iflag 2)
        integer, intent(inout) :: iflag
            !! 1: residuals; 2: Jacobian; 0: report
        type(c_ptr), intent(in), value :: udata
            !! points to a probe

        type(probe), pointer :: p

        call c_f_pointer(udata, p)
        select case (iflag)
        case (0)
            call note_report(p, x, fvec)
        case (1)
            call eval_point(p, m, n, x, fvec, iflag)
        case default
            call eval_jacobian(p, m, n, x, fjac, ldfjac, iflag)
        end select
    end subroutine probe_lmder

    !> hybrd's callback over a probe (m = n).
    subroutine probe_hybrd(n, x, fvec, iflag, udata)
        integer, intent(in) :: n
            !! number of equations and unknowns
        real(dp), intent(in) :: x(n)
            !! point of evaluation
        real(dp), intent(inout) :: fvec(n)
            !! the functions
        integer, intent(inout) :: iflag
            !! 1, 2: functions; 0: report
        type(c_ptr), intent(in), value :: udata
            !! points to a probe

        call probe_lmdif(n, n, x, fvec, iflag, udata)
    end subroutine probe_hybrd

    !> hybrj's callback over a probe (m = n).
    subroutine probe_hybrj(n, x, fvec, fjac, ldfjac, iflag, udata)
        integer, intent(in) :: n
            !! number of equations and unknowns
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac
        real(dp), intent(in) :: x(n)
            !! point of evaluation
        real(dp), intent(inout) :: fvec(n)
            !! the functions (iflag 1)
        real(dp), intent(inout) :: fjac(ldfjac, n)
            !! the Jacobian (iflag 2)
        integer, intent(inout) :: iflag
            !! 1: functions; 2: Jacobian; 0: report
        type(c_ptr), intent(in), value :: udata
            !! points to a probe

        call probe_lmder(n, n, x, fvec, fjac, ldfjac, iflag, udata)
    end subroutine probe_hybrj

end module revcomm_support


!> Reverse communication (lm_init / lm_step): hundreds of fits of the MGH
!> problems (lmdif and lmder, with and without a box, with progress reports,
!> with a stop asked for midway) kept in one array of states and advanced
!> one request at a time in round-robin and in random order, the requests
!> answered here. Every result must be bit-identical to the callback driver
!> (lmdif or lmder) on the same fit: x, fvec, fjac, ipvt, qtf, diag, info,
!> nfev, njev, the active mask, and the sequence of points evaluated (so
!> must lmdif's block callback, which evaluates the difference points of a
!> Jacobian in one call). Then
!> states are copied, swapped and moved (move_alloc) between steps, and the
!> copies finish with the same results: a state is plain data.
!>
!> Usage: test_revcomm mgh_reference.txt [stride] (the cases are its lmder
!> rows, every stride-th of them: the valgrind run takes fewer). Exits with
!> status 1 on any difference.
program test_revcomm
    use, intrinsic :: iso_c_binding, only: c_loc
    use, intrinsic :: iso_fortran_env, only: int64
    use mgh_problems, only: dp, mgh_start, mgh_name, mgh_name_len
    use minpack, only: lm_state, lm_init, lm_step, lm_active, lm_task_done, &
        lm_task_report, lm_task_fvec, lm_task_fjac, lm_task_fdiff, lm_jac_difference, &
        lm_jac_user, lmdif, lmder
    use revcomm_support, only: fit_case, probe, eval_point, eval_jacobian, note_report, &
        probe_lmdif, probe_lmder, probe_block, probe_hybrd, probe_hybrj, bits
    use minpack_hybrid, only: hy_state, hy_init, hy_step, hybrd, hybrj
    implicit none

    !> A finished fit, from either route.
    type :: fit_result
        real(dp), allocatable :: x(:), fvec(:), fjac(:, :), qtf(:), diag(:)
        integer, allocatable :: ipvt(:), active(:)
        integer :: info = 0, nfev = 0, njev = 0
        type(probe) :: p
    end type fit_result

    type(fit_case), allocatable :: cases(:)
    type(fit_result), allocatable :: ref(:)
    integer :: k, nfail, stride
    character(len=512) :: ref_path, arg
    real(dp), parameter :: tol = 1.4901161193847656e-08_dp

    if (command_argument_count() < 1) then
        write (*, '(a)') 'usage: test_revcomm mgh_reference.txt'
        stop 2
    end if
    call get_command_argument(1, ref_path)
    stride = 1
    if (command_argument_count() >= 2) then
        call get_command_argument(2, arg)
        read (arg, *) stride
    end if
    call make_cases(trim(ref_path), stride, cases)
    nfail = 0

    allocate (ref(size(cases)))
    do k = 1, size(cases)
        call run_driver(cases(k), ref(k))
    end do
    write (*, '(a, i0, a)') 'reference: ', size(cases), ' fits through the callback drivers'
    call block_driver()

    call interleaved('round-robin', .false.)
    call interleaved('random order', .true.)
    call copies()
    call done_stays_done()
    call hybrid()
    deallocate (cases, ref)

    if (nfail > 0) then
        write (*, '(i0, a)') nfail, ' failure(s)'
        error stop 1
    end if
    write (*, '(a)') 'all reverse-communication fits bit-identical to the callback drivers'

contains

    !> The fits: each stride-th lmder row of the reference file (problem, n,
    !> m, start factor) in six variants: lmdif, lmder; each with a box and reports;
    !> each with a stop asked for at the 7th evaluation.
    subroutine make_cases(path, stride, cases)
        character(len=*), intent(in) :: path
        integer, intent(in) :: stride
        type(fit_case), allocatable, intent(out) :: cases(:)

        character(len=1024) :: line
        character(len=16) :: solver
        integer :: unit, ios, icase, nprob, n, m, nrow, nseen, v
        real(dp) :: factor
        type(fit_case) :: c
        type(fit_case), allocatable :: list(:)

        allocate (list(0))
        open (newunit=unit, file=path, status='old', action='read', iostat=ios)
        if (ios /= 0) then
            write (*, '(a, a)') 'cannot open ', path
            error stop 2
        end if
        nrow = 0
        nseen = 0
        do
            read (unit, '(a)', iostat=ios) line
            if (ios /= 0) exit
            if (line(1:1) == '#' .or. len_trim(line) == 0) cycle
            read (line, *) solver, icase, nprob, n, m, factor
            if (solver /= 'lmder') cycle
            nseen = nseen + 1
            if (mod(nseen - 1, max(stride, 1)) /= 0) cycle
            nrow = nrow + 1
            do v = 1, 6
                c%nprob = nprob
                c%n = n
                c%m = m
                c%factor = factor
                c%difference = mod(v, 2) == 1
                c%bounded = v == 3 .or. v == 4
                c%nprint = merge(1 + mod(nrow, 3), 0, c%bounded)
                c%stop_at = merge(7, 0, v >= 5)
                c%ldfjac = m + mod(nrow + v, 3)
                if (allocated(c%x0)) deallocate (c%x0, c%lower, c%upper)
                allocate (c%x0(n), c%lower(n), c%upper(n))
                call mgh_start(nprob, n, factor, c%x0)
                ! a box around the start, tight enough to be reached: the
                ! even components bounded below, the odd ones above
                c%lower = -huge(1.0_dp)
                c%upper = huge(1.0_dp)
                c%lower(2::2) = c%x0(2::2) - 0.25_dp * (abs(c%x0(2::2)) + 1)
                c%upper(1::2) = c%x0(1::2) + 0.25_dp * (abs(c%x0(1::2)) + 1)
                list = [list, c]
            end do
        end do
        close (unit)
        if (nrow == 0) then
            write (*, '(a)') 'no lmder rows in the reference file'
            error stop 2
        end if
        call move_alloc(list, cases)
    end subroutine make_cases

    !> A fit through the callback driver.
    subroutine run_driver(c, r)
        type(fit_case), intent(in) :: c
        type(fit_result), intent(out), target :: r

        integer :: nfev

        allocate (r%x(c%n), r%fvec(c%m), r%fjac(c%ldfjac, c%n), r%qtf(c%n), r%diag(c%n), &
                  r%ipvt(c%n), r%active(c%n))
        r%x = c%x0
        r%fvec = 0
        r%fjac = 0
        r%diag = 0  ! as lm_init without diag: a stop before the scaling leaves it
        r%p%nprob = c%nprob
        r%p%stop_at = c%stop_at
        if (c%difference) then
            if (c%bounded) then
                call lmdif(probe_lmdif, c%m, c%n, r%x, r%fvec, tol, tol, 0.0_dp, 200 * (c%n + 1), &
                           0.0_dp, r%diag, 1, 100.0_dp, c%nprint, r%info, nfev, r%fjac, c%ldfjac, &
                           r%ipvt, r%qtf, c_loc(r%p), lower=c%lower, upper=c%upper, &
                           active=r%active)
            else
                call lmdif(probe_lmdif, c%m, c%n, r%x, r%fvec, tol, tol, 0.0_dp, 200 * (c%n + 1), &
                           0.0_dp, r%diag, 1, 100.0_dp, c%nprint, r%info, nfev, r%fjac, c%ldfjac, &
                           r%ipvt, r%qtf, c_loc(r%p))
                r%active = 0
            end if
            r%nfev = nfev
            r%njev = 0
        else
            if (c%bounded) then
                call lmder(probe_lmder, c%m, c%n, r%x, r%fvec, r%fjac, c%ldfjac, tol, tol, 0.0_dp, &
                           100 * (c%n + 1), r%diag, 1, 100.0_dp, c%nprint, r%info, r%nfev, &
                           r%njev, r%ipvt, r%qtf, c_loc(r%p), lower=c%lower, upper=c%upper, &
                           active=r%active)
            else
                call lmder(probe_lmder, c%m, c%n, r%x, r%fvec, r%fjac, c%ldfjac, tol, tol, 0.0_dp, &
                           100 * (c%n + 1), r%diag, 1, 100.0_dp, c%nprint, r%info, r%nfev, &
                           r%njev, r%ipvt, r%qtf, c_loc(r%p))
                r%active = 0
            end if
        end if
    end subroutine run_driver

    !> lmdif with the block callback (all difference points of a Jacobian in
    !> one call, into a section of fjac when ldfjac > m) gives the fit of
    !> lmdif with the point callback.
    subroutine block_driver()
        type(fit_result), target :: b
        integer :: k, nfev, nblock

        nblock = 0
        do k = 1, size(cases)
            associate (c => cases(k))
                if (.not. c%difference) cycle
                nblock = nblock + 1
                allocate (b%x(c%n), b%fvec(c%m), b%fjac(c%ldfjac, c%n), b%qtf(c%n), &
                          b%diag(c%n), b%ipvt(c%n), b%active(c%n))
                b%x = c%x0
                b%fvec = 0
                b%fjac = 0
                b%diag = 0
                b%p = probe(nprob=c%nprob, stop_at=c%stop_at)
                if (c%bounded) then
                    call lmdif(probe_lmdif, c%m, c%n, b%x, b%fvec, tol, tol, 0.0_dp, &
                               200 * (c%n + 1), 0.0_dp, b%diag, 1, 100.0_dp, c%nprint, b%info, &
                               nfev, b%fjac, c%ldfjac, b%ipvt, b%qtf, c_loc(b%p), &
                               fcn_block=probe_block, lower=c%lower, upper=c%upper, &
                               active=b%active)
                else
                    call lmdif(probe_lmdif, c%m, c%n, b%x, b%fvec, tol, tol, 0.0_dp, &
                               200 * (c%n + 1), 0.0_dp, b%diag, 1, 100.0_dp, c%nprint, b%info, &
                               nfev, b%fjac, c%ldfjac, b%ipvt, b%qtf, c_loc(b%p), &
                               fcn_block=probe_block)
                end if
                b%nfev = nfev
                if (.not. c%bounded) b%active = 0
                call compare('block callback', k, b%x, b%fvec, b%fjac, b%ipvt, b%qtf, b%diag, &
                             b%info, b%nfev, b%njev, b%active, b%p)
                deallocate (b%x, b%fvec, b%fjac, b%qtf, b%diag, b%ipvt, b%active)
            end associate
        end do
        write (*, '(a, i0, a)') 'block callback: ', nblock, ' lmdif fits'
    end subroutine block_driver

    !> Start the fit of case c in state st.
    subroutine start(c, st, p)
        type(fit_case), intent(in) :: c
        type(lm_state), intent(out) :: st
        type(probe), intent(out) :: p

        integer :: jac, maxfev

        jac = merge(lm_jac_difference, lm_jac_user, c%difference)
        maxfev = merge(200, 100, c%difference) * (c%n + 1)
        p%nprob = c%nprob
        p%stop_at = c%stop_at
        if (c%bounded) then
            call lm_init(st, c%m, c%n, c%x0, tol, tol, 0.0_dp, maxfev, 0.0_dp, 1, 100.0_dp, &
                         c%nprint, jac=jac, ldfjac=c%ldfjac, lower=c%lower, upper=c%upper)
        else
            call lm_init(st, c%m, c%n, c%x0, tol, tol, 0.0_dp, maxfev, 0.0_dp, 1, 100.0_dp, &
                         c%nprint, jac=jac, ldfjac=c%ldfjac)
        end if
    end subroutine start

    !> One step: lm_step, then the answer to its request. False once done.
    logical function advance(st, p) result(going)
        type(lm_state), intent(inout) :: st
        type(probe), intent(inout) :: p

        integer :: k

        call lm_step(st)
        going = .true.
        select case (st%task)
        case (lm_task_fvec)
            call eval_point(p, st%m, st%n, st%xt, st%ft, st%iflag)
        case (lm_task_fdiff)
            do k = 1, st%ncol
                call eval_point(p, st%m, st%n, st%xd(:, k), st%fjac(1:st%m, k), st%iflag)
                if (st%iflag < 0) exit
            end do
        case (lm_task_fjac)
            call eval_jacobian(p, st%m, st%n, st%x, st%fjac, st%ldfjac, st%iflag)
        case (lm_task_report)
            call note_report(p, st%x, st%fvec)
        case (lm_task_done)
            going = .false.
        case default
            write (*, '(a, i0)') 'unknown request ', st%task
            error stop 1
        end select
    end function advance

    !> Check a finished state against the driver's result for case k.
    subroutine check(what, k, st, p)
        character(len=*), intent(in) :: what
        integer, intent(in) :: k
        type(lm_state), intent(in) :: st
        type(probe), intent(in) :: p

        integer :: active(cases(k)%n)

        call lm_active(st, active)
        call compare(what, k, st%x, st%fvec, st%fjac, st%ipvt, st%qtf, st%diag, st%info, &
                     st%nfev, st%njev, active, p)
    end subroutine check

    !> Compare a fit's results, bit for bit, with the driver's for case k.
    subroutine compare(what, k, x, fvec, fjac, ipvt, qtf, diag, info, nfev, njev, active, p)
        character(len=*), intent(in) :: what
        integer, intent(in) :: k
        real(dp), intent(in) :: x(:), fvec(:), fjac(:, :), qtf(:), diag(:)
        integer, intent(in) :: ipvt(:), info, nfev, njev, active(:)
        type(probe), intent(in) :: p

        integer :: m
        character(len=160) :: bad

        m = cases(k)%m
        bad = ''
        associate (r => ref(k))
            if (info /= r%info) bad = trim(bad)//' info'
            if (nfev /= r%nfev) bad = trim(bad)//' nfev'
            if (.not. cases(k)%difference .and. njev /= r%njev) bad = trim(bad)//' njev'
            if (any(bits(x) /= bits(r%x))) bad = trim(bad)//' x'
            if (any(bits(fvec) /= bits(r%fvec))) bad = trim(bad)//' fvec'
            if (any(bits(fjac(1:m, :)) /= bits(r%fjac(1:m, :)))) bad = trim(bad)//' fjac'
            if (any(ipvt /= r%ipvt)) bad = trim(bad)//' ipvt'
            if (any(bits(qtf) /= bits(r%qtf))) bad = trim(bad)//' qtf'
            if (any(bits(diag) /= bits(r%diag))) bad = trim(bad)//' diag'
            if (any(active /= r%active)) bad = trim(bad)//' active'
            if (p%ncall /= r%p%ncall) bad = trim(bad)//' calls'
            if (p%nreport /= r%p%nreport) bad = trim(bad)//' reports'
            if (p%trace /= r%p%trace) bad = trim(bad)//' points'
        end associate
        if (len_trim(bad) > 0) then
            nfail = nfail + 1
            write (*, '(a, a, i0, 1x, a, a, a)') what, ': case ', k, &
                trim(mgh_name(cases(k)%nprob)), ': differs in', trim(bad)
        end if
    end subroutine compare

    !> All fits at once, one request of one state at a time: in turn
    !> (round-robin) or picking a random unfinished state each time.
    subroutine interleaved(what, random)
        character(len=*), intent(in) :: what
        logical, intent(in) :: random

        type(lm_state), allocatable :: st(:)
        type(probe), allocatable :: p(:)
        logical, allocatable :: going(:)
        integer :: k, nk, left, nsteps, pick
        integer(int64) :: seed

        nk = size(cases)
        allocate (st(nk), p(nk), going(nk))
        do k = 1, nk
            call start(cases(k), st(k), p(k))
        end do
        going = .true.
        left = nk
        nsteps = 0
        seed = 88172645463325252_int64
        k = 0
        do while (left > 0)
            if (random) then
                ! xorshift64: a fixed, portable sequence
                seed = ieor(seed, shiftl(seed, 13))
                seed = ieor(seed, shiftr(seed, 7))
                seed = ieor(seed, shiftl(seed, 17))
                pick = int(modulo(seed, int(left, int64))) + 1
                ! the pick-th unfinished state
                do k = 1, nk
                    if (going(k)) pick = pick - 1
                    if (pick == 0) exit
                end do
            else
                k = mod(k, nk) + 1
                if (.not. going(k)) cycle
            end if
            nsteps = nsteps + 1
            if (.not. advance(st(k), p(k))) then
                going(k) = .false.
                left = left - 1
                call check(what, k, st(k), p(k))
            end if
        end do
        write (*, '(a, a, i0, a, i0, a)') what, ': ', nk, ' states, ', nsteps, &
            ' requests answered'
    end subroutine interleaved

    !> A state is plain data: mid-fit, copy it (intrinsic assignment),
    !> swap two states through a temporary, move the whole array with
    !> move_alloc; every copy finishes with the driver's result.
    subroutine copies()
        type(lm_state), allocatable :: st(:), moved(:), twin(:)
        type(probe), allocatable :: p(:), ptwin(:)
        type(lm_state) :: tmp
        type(probe) :: ptmp
        integer, allocatable :: owner(:)
        integer :: k, i, nk, nsteps
        logical :: going

        nk = size(cases)
        allocate (st(nk), p(nk), twin(nk), ptwin(nk), owner(nk))
        do k = 1, nk
            call start(cases(k), st(k), p(k))
            owner(k) = k
        end do
        ! a few requests each, then a copy of every state and its probe
        do i = 1, 5
            do k = 1, nk
                going = advance(st(k), p(k))
            end do
        end do
        twin = st
        ptwin = p
        ! swap neighbours (the case each slot holds moves with it), then
        ! move the array
        do k = 1, nk - 1, 2
            tmp = st(k)
            st(k) = st(k + 1)
            st(k + 1) = tmp
            ptmp = p(k)
            p(k) = p(k + 1)
            p(k + 1) = ptmp
            owner([k, k + 1]) = owner([k + 1, k])
        end do
        call move_alloc(st, moved)
        if (allocated(st)) then
            nfail = nfail + 1
            write (*, '(a)') 'move_alloc left the source allocated'
        end if
        nsteps = 0
        do k = 1, nk
            do while (advance(moved(k), p(k)))
                nsteps = nsteps + 1
            end do
            call check('moved', owner(k), moved(k), p(k))
            do while (advance(twin(k), ptwin(k)))
                nsteps = nsteps + 1
            end do
            call check('copied', k, twin(k), ptwin(k))
        end do
            write (*, '(a, i0, a, i0, a)') 'copies: ', 2 * nk, ' states copied, swapped or moved; ', &
            nsteps, ' requests answered after that'
    end subroutine copies

    !> A finished state keeps answering done and changes no more.
    subroutine done_stays_done()
        type(lm_state) :: st
        type(probe) :: p
        integer :: i, info, nfev

        call start(cases(1), st, p)
        do while (advance(st, p))
        end do
        info = st%info
        nfev = st%nfev
        do i = 1, 3
            call lm_step(st)
            if (st%task /= lm_task_done .or. st%info /= info .or. st%nfev /= nfev) then
                nfail = nfail + 1
                write (*, '(a)') 'a finished state did not stay done'
                return
            end if
        end do
        write (*, '(a)') 'done: a finished state stays done'
    end subroutine done_stays_done


    !> The hybrid engine (hy_init / hy_step) the same way: the square cases
    !> (m = n) as hybrd with a dense and a banded difference Jacobian, and
    !> hybrj, with reports and stops, advanced in round-robin and random
    !> order, bit-identical to the drivers.
    subroutine hybrid()
        type(hy_state), allocatable :: st(:)
        type(probe), allocatable :: p(:)
        type(probe), allocatable, target :: pref(:)
        integer, allocatable :: nprob(:), nn(:), kind(:), ml(:), nprint(:), stopat(:), info(:), &
                                nfev(:), njev(:)
        real(dp), allocatable :: x0(:, :), xr(:, :), fr(:, :), qr(:, :), dr(:, :), jr(:, :, :), &
                                 rr(:, :)
        logical, allocatable :: going(:)
        integer :: k, c, nk, v, n, left, pass, pick, nsteps, ldf, j
        integer(int64) :: seed
        character(len=160) :: bad

        ! the cases
        nk = 0
        do pass = 1, 2
            k = 0
            do c = 1, size(cases), 6
                if (cases(c)%m /= cases(c)%n) cycle
                do v = 1, 5
                    k = k + 1
                    if (pass == 2) then
                        nprob(k) = cases(c)%nprob
                        nn(k) = cases(c)%n
                        kind(k) = merge(2, 1, v == 3 .or. v == 5)   ! 1 hybrd, 2 hybrj
                        ml(k) = merge(0, nn(k) - 1, v == 2)         ! v = 2: banded
                        nprint(k) = merge(1 + mod(k, 2), 0, v == 4)
                        stopat(k) = merge(7, 0, v == 5 .or. v == 1 .and. mod(c, 4) == 1)
                        x0(1:nn(k), k) = cases(c)%x0
                    end if
                end do
            end do
            if (pass == 1) then
                nk = k
                n = maxval(cases%n, mask=cases%m == cases%n)
                allocate (st(nk), p(nk), pref(nk), nprob(nk), nn(nk), kind(nk), ml(nk), &
                          nprint(nk), stopat(nk), info(nk), nfev(nk), njev(nk), going(nk))
                allocate (x0(n, nk), xr(n, nk), fr(n, nk), qr(n, nk), dr(n, nk), &
                          jr(n + 1, n, nk), rr((n * (n + 1)) / 2, nk))
                x0 = 0
            end if
        end do

        ! the drivers (ldfjac = n + 1)
        do k = 1, nk
            n = nn(k)
            ldf = n + 1
            xr(1:n, k) = x0(1:n, k)
            fr(:, k) = 0
            dr(:, k) = 0
            jr(:, :, k) = 0
            pref(k) = probe(nprob=nprob(k), stop_at=stopat(k))
            if (kind(k) == 1) then
                call hybrd(probe_hybrd, n, xr(1:n, k), fr(1:n, k), tol, 200 * (n + 1), ml(k), &
                           ml(k), 0.0_dp, dr(1:n, k), 1, 100.0_dp, nprint(k), info(k), nfev(k), &
                           jr(1:ldf, 1:n, k), ldf, rr(1:(n * (n + 1)) / 2, k), (n * (n + 1)) / 2, &
                           qr(1:n, k), c_loc(pref(k)))
                njev(k) = 0
            else
                call hybrj(probe_hybrj, n, xr(1:n, k), fr(1:n, k), jr(1:ldf, 1:n, k), ldf, tol, &
                           100 * (n + 1), dr(1:n, k), 1, 100.0_dp, nprint(k), info(k), nfev(k), &
                           njev(k), rr(1:(n * (n + 1)) / 2, k), (n * (n + 1)) / 2, qr(1:n, k), &
                           c_loc(pref(k)))
            end if
        end do

        do pass = 1, 2
            do k = 1, nk
                n = nn(k)
                p(k) = probe(nprob=nprob(k), stop_at=stopat(k))
                call hy_init(st(k), n, x0(1:n, k), tol, merge(200, 100, kind(k) == 1) * (n + 1), &
                             ml(k), ml(k), 0.0_dp, 1, 100.0_dp, nprint(k), &
                             jac=merge(lm_jac_difference, lm_jac_user, kind(k) == 1), ldfjac=n + 1)
            end do
            going = .true.
            left = nk
            nsteps = 0
            seed = 2463534242_int64
            k = 0
            do while (left > 0)
                if (pass == 2) then
                    seed = ieor(seed, shiftl(seed, 13))
                    seed = ieor(seed, shiftr(seed, 7))
                    seed = ieor(seed, shiftl(seed, 17))
                    pick = int(modulo(seed, int(left, int64))) + 1
                    do k = 1, nk
                        if (going(k)) pick = pick - 1
                        if (pick == 0) exit
                    end do
                else
                    k = mod(k, nk) + 1
                    if (.not. going(k)) cycle
                end if
                nsteps = nsteps + 1
                n = nn(k)
                call hy_step(st(k))
                select case (st(k)%task)
                case (lm_task_fvec)
                    call eval_point(p(k), n, n, st(k)%xt, st(k)%ft, st(k)%iflag)
                case (lm_task_fdiff)
                    do j = 1, st(k)%ncol
                        call eval_point(p(k), n, n, st(k)%xd(:, j), st(k)%fjac(1:n, j), &
                                        st(k)%iflag)
                        if (st(k)%iflag < 0) exit
                    end do
                case (lm_task_fjac)
                    call eval_jacobian(p(k), n, n, st(k)%x, st(k)%fjac, st(k)%ldfjac, &
                                       st(k)%iflag)
                case (lm_task_report)
                    call note_report(p(k), st(k)%x, st(k)%fvec)
                case default
                    going(k) = .false.
                    left = left - 1
                    bad = ''
                    if (st(k)%info /= info(k)) bad = trim(bad)//' info'
                    if (st(k)%nfev /= nfev(k)) bad = trim(bad)//' nfev'
                    if (st(k)%njev /= njev(k)) bad = trim(bad)//' njev'
                    if (any(bits(st(k)%x) /= bits(xr(1:n, k)))) bad = trim(bad)//' x'
                    if (any(bits(st(k)%fvec) /= bits(fr(1:n, k)))) bad = trim(bad)//' fvec'
                    if (any(bits(st(k)%fjac(1:n, :)) /= bits(jr(1:n, 1:n, k)))) &
                        bad = trim(bad)//' fjac'
                    if (any(bits(st(k)%r) /= bits(rr(1:(n * (n + 1)) / 2, k)))) &
                        bad = trim(bad)//' r'
                    if (any(bits(st(k)%qtf) /= bits(qr(1:n, k)))) bad = trim(bad)//' qtf'
                    if (any(bits(st(k)%diag) /= bits(dr(1:n, k)))) bad = trim(bad)//' diag'
                    if (p(k)%ncall /= pref(k)%ncall) bad = trim(bad)//' calls'
                    if (p(k)%nreport /= pref(k)%nreport) bad = trim(bad)//' reports'
                    if (p(k)%trace /= pref(k)%trace) bad = trim(bad)//' points'
                    if (len_trim(bad) > 0) then
                        nfail = nfail + 1
                        write (*, '(a, i0, 1x, a, a, a)') 'hybrid: case ', k, &
                            trim(mgh_name(nprob(k))), ': differs in', trim(bad)
                    end if
                end select
            end do
            write (*, '(a, a, i0, a, i0, a)') merge('hybrid, round-robin: ', 'hybrid, random:      ', &
                pass == 1), ' ', nk, ' states, ', nsteps, ' requests answered'
        end do
    end subroutine hybrid

end program test_revcomm
