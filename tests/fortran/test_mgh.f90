!> Callbacks of the MGH test program: the problem residuals and Jacobians of
!> `mgh_problems`, with call counters reached through the `udata` pointer.
module mgh_callbacks
    use, intrinsic :: iso_c_binding, only: c_ptr, c_f_pointer
    use mgh_problems, only: dp, mgh_residual, mgh_jacobian
    implicit none
    private

    public :: eval_counter, fcn_lmder, fcn_lmdif, fcn_lmstr

    !> Problem selector and call counters of one solver run.
    type :: eval_counter
        integer :: nprob = 0
            !! MGH problem number
        integer :: ncall1 = 0
            !! calls with iflag = 1 (function values)
        integer :: ncall2 = 0
            !! calls with iflag = 2 (Jacobian, or a difference column in lmdif)
        integer :: nother = 0
            !! calls with any other iflag (progress hook)
        real(dp), allocatable :: jac(:, :)
            !! lmstr: the Jacobian of the latest iflag = 2 call, m by n
    end type eval_counter

contains

    !> `lmder_fcn` callback: residuals for iflag = 1, analytic Jacobian for iflag = 2.
    subroutine fcn_lmder(m, n, x, fvec, fjac, ldfjac, iflag, udata)
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(in) :: x(n)
            !! point at which to evaluate
        real(dp), intent(inout) :: fvec(m)
            !! residuals (iflag = 1)
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac
        real(dp), intent(inout) :: fjac(ldfjac, n)
            !! Jacobian (iflag = 2)
        integer, intent(inout) :: iflag
            !! what to compute; left unchanged
        type(c_ptr), intent(in), value :: udata
            !! points to an `eval_counter`

        type(eval_counter), pointer :: counter

        call c_f_pointer(udata, counter)
        select case (iflag)
        case (1)
            counter%ncall1 = counter%ncall1 + 1
            call mgh_residual(counter%nprob, m, n, x, fvec)
        case (2)
            counter%ncall2 = counter%ncall2 + 1
            call mgh_jacobian(counter%nprob, m, n, x, fjac, ldfjac)
        case default
            counter%nother = counter%nother + 1
        end select
    end subroutine fcn_lmder

    !> `lmdif_fcn` callback: residuals for iflag = 1 and 2 (MINPACK-1's lmdif
    !> evaluates its difference columns with iflag = 2), counted separately.
    subroutine fcn_lmdif(m, n, x, fvec, iflag, udata)
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(in) :: x(n)
            !! point at which to evaluate
        real(dp), intent(inout) :: fvec(m)
            !! residuals
        integer, intent(inout) :: iflag
            !! 1 or 2: compute fvec; left unchanged
        type(c_ptr), intent(in), value :: udata
            !! points to an `eval_counter`

        type(eval_counter), pointer :: counter

        call c_f_pointer(udata, counter)
        select case (iflag)
        case (1)
            counter%ncall1 = counter%ncall1 + 1
            call mgh_residual(counter%nprob, m, n, x, fvec)
        case (2)
            counter%ncall2 = counter%ncall2 + 1
            call mgh_residual(counter%nprob, m, n, x, fvec)
        case default
            counter%nother = counter%nother + 1
        end select
    end subroutine fcn_lmdif

    !> `lmstr_fcn` callback: residuals for iflag = 1, row iflag - 1 of the Jacobian
    !> for iflag >= 2. As MINPACK-1's lmstr test driver, the whole Jacobian is
    !> computed (and counted) at iflag = 2 and the rows are taken from it.
    subroutine fcn_lmstr(m, n, x, fvec, fjrow, iflag, udata)
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(in) :: x(n)
            !! point at which to evaluate
        real(dp), intent(inout) :: fvec(m)
            !! residuals (iflag = 1)
        real(dp), intent(inout) :: fjrow(n)
            !! row iflag - 1 of the Jacobian (iflag >= 2)
        integer, intent(inout) :: iflag
            !! what to compute; left unchanged
        type(c_ptr), intent(in), value :: udata
            !! points to an `eval_counter` whose `jac` is m by n

        type(eval_counter), pointer :: counter

        call c_f_pointer(udata, counter)
        select case (iflag)
        case (1)
            counter%ncall1 = counter%ncall1 + 1
            call mgh_residual(counter%nprob, m, n, x, fvec)
        case (2:)
            if (iflag == 2) then
                counter%ncall2 = counter%ncall2 + 1
                call mgh_jacobian(counter%nprob, m, n, x, counter%jac, m)
            end if
            fjrow = counter%jac(iflag - 1, :)
        case default
            counter%nother = counter%nother + 1
        end select
    end subroutine fcn_lmstr

end module mgh_callbacks


!> Runs the 53 cases of MINPACK-1's least-squares test drivers (Moré, Garbow &
!> Hillstrom problems, starts at factor 1, 10, 100) through our lmder1, lmdif1 and lmstr1
!> with the drivers' settings, and compares with the original driver output.
!>
!> Usage: test_mgh REFERENCE_TABLE [SOLVER ...]
!>   REFERENCE_TABLE  tests/fortran/mgh_reference.txt (see make_reference.py)
!>   SOLVER           lmder, lmdif or lmstr; default: all three
!>
!> Gate: where the reference converged (info 1-4) and all reference runs agree on
!> info, we must converge too, with the same final residual norm to 1e-6 relative
!> (or both norms <= 1e-10). The residual norm at every start must reproduce the
!> reference's initial norm (a check of the problem definitions). nfev/njev are
!> reported, not gated. Exits through `error stop 1` if any check fails.
program test_mgh
    use, intrinsic :: iso_c_binding, only: c_loc
    use minpack, only: lmder1, lmdif1, lmstr1
    use mgh_problems, only: dp, mgh_name, mgh_size_ok, mgh_start, mgh_residual
    use mgh_callbacks, only: eval_counter, fcn_lmder, fcn_lmdif, fcn_lmstr
    implicit none

    !> One row of the reference table.
    type :: ref_case
        character(len=8) :: solver = ''
        integer :: icase = 0, nprob = 0, n = 0, m = 0
        real(dp) :: factor = 0, initial_fnorm = 0, final_fnorm = 0
        integer :: nfev = 0, njev = 0, info = 0
        logical :: agree_info = .false., agree_counts = .false., agree_fnorm = .false.
        real(dp) :: alt_final_fnorm = 0
        integer :: alt_nfev = 0, alt_njev = 0, alt_info = 0, info16 = 0
    end type ref_case

    !> Our result for one case.
    type :: run_result
        integer :: info = 0, nfev = 0, njev = 0
        real(dp) :: fnorm = 0, start_fnorm = 0
    end type run_result

    real(dp), parameter :: fnorm_rtol = 1.0e-6_dp
        !! relative tolerance on final (and initial) residual norms
    real(dp), parameter :: fnorm_zero = 1.0e-10_dp
        !! norms at or below this count as zero residual
    character(len=*), parameter :: all_solvers(3) = [character(len=5) :: 'lmder', 'lmdif', 'lmstr']

    type(ref_case), allocatable :: refs(:)
    character(len=:), allocatable :: ref_path
    character(len=16), allocatable :: solvers(:)
    integer :: nsolvers, isolver, total_failed, arglen

    if (command_argument_count() < 1) then
        write (*, '(a)') 'usage: test_mgh REFERENCE_TABLE [SOLVER ...]'
        error stop 2
    end if
    call get_command_argument(1, length=arglen)
    allocate (character(len=arglen) :: ref_path)
    call get_command_argument(1, ref_path)

    ! Solvers to test: the arguments after the table, or all of them.
    nsolvers = command_argument_count() - 1
    if (nsolvers > 0) then
        allocate (solvers(nsolvers))
        do isolver = 1, nsolvers
            call get_command_argument(isolver + 1, solvers(isolver))
        end do
    else
        nsolvers = size(all_solvers)
        solvers = all_solvers
    end if

    do isolver = 1, nsolvers
        if (.not. solver_known(trim(solvers(isolver)))) then
            write (*, '(3a)') 'test_mgh: unknown solver "', trim(solvers(isolver)), &
                '" (expected lmder, lmdif or lmstr)'
            error stop 2
        end if
    end do

    call read_reference(ref_path, refs)
    write (*, '(a, i0, a, a)') 'read ', size(refs), ' reference rows from ', ref_path

    total_failed = 0
    do isolver = 1, nsolvers
        call test_solver(trim(solvers(isolver)), refs, total_failed)
    end do

    write (*, '(/, a)') repeat('=', 78)
    if (total_failed > 0) then
        write (*, '(a, i0, a)') 'test_mgh: FAILED (', total_failed, ' failing checks)'
        error stop 1
    end if
    write (*, '(a)') 'test_mgh: all gated cases passed'
    ! (the main program's allocatables are not freed at exit: free them, so
    ! that valgrind's leak check sees only the library's memory)
    deallocate (refs, ref_path, solvers)

contains

    !> Whether `solver` names a solver of the reference table.
    logical function solver_known(solver)
        character(len=*), intent(in) :: solver

        solver_known = any(all_solvers == solver)
    end function solver_known

    !> Read all data rows of the reference table (comment lines start with '#').
    subroutine read_reference(path, refs)
        character(len=*), intent(in) :: path
        type(ref_case), allocatable, intent(out) :: refs(:)

        character(len=1024) :: line, msg
        integer :: unit, ios, nrows, irow

        open (newunit=unit, file=path, status='old', action='read', iostat=ios, iomsg=msg)
        if (ios /= 0) then
            write (*, '(a)') 'test_mgh: cannot open reference table: '//trim(msg)
            error stop 2
        end if

        nrows = 0
        do
            read (unit, '(a)', iostat=ios) line
            if (ios /= 0) exit
            if (is_data(line)) nrows = nrows + 1
        end do
        allocate (refs(nrows))

        rewind (unit)
        irow = 0
        do
            read (unit, '(a)', iostat=ios) line
            if (ios /= 0) exit
            if (.not. is_data(line)) cycle
            irow = irow + 1
            associate (r => refs(irow))
                read (line, *, iostat=ios, iomsg=msg) r%solver, r%icase, r%nprob, r%n, r%m, &
                    r%factor, r%initial_fnorm, r%final_fnorm, r%nfev, r%njev, r%info, &
                    r%agree_info, r%agree_counts, r%agree_fnorm, &
                    r%alt_final_fnorm, r%alt_nfev, r%alt_njev, r%alt_info, r%info16
            end associate
            if (ios /= 0) then
                write (*, '(a)') 'test_mgh: bad reference row: '//trim(line)
                write (*, '(a)') '  '//trim(msg)
                error stop 2
            end if
        end do
        close (unit)
    end subroutine read_reference

    logical function is_data(line)
        character(len=*), intent(in) :: line

        is_data = len_trim(line) > 0 .and. line(1:1) /= '#'
    end function is_data

    !> Run one solver on every reference case of that solver, print a line per case
    !> and a summary, and add the number of failing checks to `nfailed`.
    subroutine test_solver(solver, refs, nfailed)
        character(len=*), intent(in) :: solver
        type(ref_case), intent(in) :: refs(:)
        integer, intent(inout) :: nfailed

        type(run_result) :: res
        character(len=256), allocatable :: excluded(:), failures(:)
        character(len=256) :: note
        character(len=*), parameter :: row_fmt = '(a6, i5, 2x, a30, i3, i4, i5, " |", &
            &i5, i6, i6, es15.6, " |", i5, i6, i6, es15.6, " | ", a4, 2x, a)'
        character(len=*), parameter :: head_fmt = '(a6, a5, 2x, a30, a3, a4, a5, " |", &
            &a5, a6, a6, a15, " |", a5, a6, a6, a15, " | ", a4, 2x, a)'
        character(len=30) :: head_problem
        character(len=4) :: status, head_gate
        character(len=12) :: counts
        integer :: i, ncases, ngated, npassed, nconv, nconv_ref, nexact, nexact_nfev, &
                   nexact_njev, nexcluded, nfail, nstart_bad
        logical :: gated, ok, start_ok

        ncases = count(refs%solver == solver)
        write (*, '(/, a)') repeat('=', 78)
        if (ncases == 0) then
            write (*, '(a)') solver//': FAIL: no reference rows for this solver'
            nfailed = nfailed + 1
            return
        end if

        write (*, '(a, es8.2)') solver//'1 on the MGH set, tol = ', sqrt(epsilon(1.0_dp))
        head_problem = 'problem'
        head_gate = 'gate'
        write (*, '(a)') repeat(' ', 56)//'|'//repeat('-', 12)//' ours '//repeat('-', 15)// &
            '|'//repeat('-', 10)//' reference '//repeat('-', 12)//'|'
        write (*, head_fmt) 'solver', 'case', head_problem, 'n', 'm', 'fact', &
            'info', 'nfev', 'njev', 'fnorm', 'info', 'nfev', 'njev', 'ref fnorm', head_gate, &
            'nfev/njev'

        allocate (excluded(ncases), failures(ncases))
        ngated = 0
        npassed = 0
        nconv = 0
        nconv_ref = 0
        nexact = 0
        nexact_nfev = 0
        nexact_njev = 0
        nexcluded = 0
        nfail = 0
        nstart_bad = 0

        do i = 1, size(refs)
            if (refs(i)%solver /= solver) cycle
            associate (r => refs(i))
                if (.not. mgh_size_ok(r%nprob, r%n, r%m)) then
                    write (*, '(a, i0, a)') solver//' case ', r%icase, &
                        ': FAIL: size not allowed for the problem'
                    nfail = nfail + 1
                    write (failures(nfail), '(a, i0, a)') 'case ', r%icase, ': bad size'
                    cycle
                end if

                call run_case(solver, r, res)

                start_ok = rel_close(res%start_fnorm, r%initial_fnorm)
                if (.not. start_ok) then
                    nstart_bad = nstart_bad + 1
                    nfail = nfail + 1
                    write (failures(nfail), '(a, i0, a, es14.7, a, es14.7, a)') 'case ', &
                        r%icase, ': start norm ', res%start_fnorm, ' /= reference ', &
                        r%initial_fnorm, ' (problem definition?)'
                end if

                if (converged(res%info)) nconv = nconv + 1
                if (converged(r%info)) nconv_ref = nconv_ref + 1

                gated = converged(r%info) .and. r%agree_info
                if (gated) then
                    ngated = ngated + 1
                    ok = converged(res%info) .and. norms_agree(res%fnorm, r%final_fnorm)
                    if (ok) then
                        npassed = npassed + 1
                        status = 'OK'
                    else
                        status = 'FAIL'
                        nfail = nfail + 1
                        write (failures(nfail), '(a, i0, 1x, a, a, i0, a, i0, a, es14.7, &
                            &a, es14.7, a, es9.2)') 'case ', r%icase, &
                            trim(mgh_name(r%nprob)), ': info ', res%info, ' (ref ', &
                            r%info, '), fnorm ', res%fnorm, ' vs ', r%final_fnorm, &
                            ', rel diff ', rel_diff(res%fnorm, r%final_fnorm)
                    end if
                else
                    status = '--'
                    nexcluded = nexcluded + 1
                    if (.not. converged(r%info)) then
                        write (note, '(a, i0)') 'reference did not converge, info ', r%info
                    else
                        write (note, '(a, 3(i0, a))') 'reference runs disagree on info (', &
                            r%info, '; 16-digit run ', r%info16, '; 2026 run ', r%alt_info, ')'
                    end if
                    write (excluded(nexcluded), '(a, i0, 1x, a, a)') 'case ', r%icase, &
                        trim(mgh_name(r%nprob)), ': '//trim(note)
                end if
                if (.not. start_ok) status = 'FAIL'

                if (res%nfev == r%nfev) nexact_nfev = nexact_nfev + 1
                if (res%njev == r%njev) nexact_njev = nexact_njev + 1
                if (res%nfev == r%nfev .and. res%njev == r%njev) then
                    nexact = nexact + 1
                    counts = 'exact'
                else if (res%nfev == r%alt_nfev .and. res%njev == r%alt_njev) then
                    counts = 'as 2026 run'
                else
                    counts = 'differ'
                end if

                write (*, row_fmt) solver, r%icase, mgh_name(r%nprob), r%n, r%m, &
                    nint(r%factor), res%info, res%nfev, res%njev, res%fnorm, &
                    r%info, r%nfev, r%njev, r%final_fnorm, status, trim(counts)
            end associate
        end do

        write (*, '(/, a)') solver//' summary:'
        write (*, '(2x, i0, a, i0, a, i0, a)') ncases, ' cases, ', ngated, ' gated, ', &
            npassed, ' passed'
        write (*, '(2x, a, i0, a, i0, a, i0, a)') 'converged (info 1-4): ', nconv, '/', &
            ncases, ' (reference: ', nconv_ref, ')'
        write (*, '(2x, a, i0, a, i0, a, i0, a, i0, a)') 'nfev and njev equal to the reference: ', &
            nexact, '/', ncases, ' (nfev alone ', nexact_nfev, ', njev alone ', nexact_njev, ')'
        write (*, '(2x, a, i0, a, i0)') 'start norms reproduced: ', ncases - nstart_bad, '/', &
            ncases
        if (nexcluded > 0) then
            write (*, '(2x, a, i0, a)') 'not gated (', nexcluded, '):'
            do i = 1, nexcluded
                write (*, '(4x, a)') trim(excluded(i))
            end do
        end if
        if (nfail > 0) then
            write (*, '(2x, a, i0, a)') 'FAILED (', nfail, '):'
            do i = 1, nfail
                write (*, '(4x, a)') trim(failures(i))
            end do
        end if
        nfailed = nfailed + nfail
    end subroutine test_solver

    !> Run one case as the MINPACK-1 driver does: start from factor times the
    !> standard start, call the solver's easy-to-use driver with tol = sqrt(eps),
    !> count the callback calls, and recompute the residual norm at the result.
    subroutine run_case(solver, r, res)
        character(len=*), intent(in) :: solver
        type(ref_case), intent(in) :: r
        type(run_result), intent(out) :: res

        type(eval_counter), target :: counter
        real(dp), allocatable :: x(:), fvec(:), fjac(:, :)
        integer, allocatable :: ipvt(:)
        real(dp) :: tol

        tol = sqrt(epsilon(1.0_dp))
        allocate (x(r%n), fvec(r%m))
        call mgh_start(r%nprob, r%n, r%factor, x)
        call mgh_residual(r%nprob, r%m, r%n, x, fvec)
        res%start_fnorm = norm2(fvec)

        counter%nprob = r%nprob
        select case (solver)
        case ('lmder')
            allocate (fjac(r%m, r%n), ipvt(r%n))
            call lmder1(fcn_lmder, r%m, r%n, x, fvec, fjac, r%m, tol, res%info, ipvt, &
                        c_loc(counter))
            res%nfev = counter%ncall1
            res%njev = counter%ncall2
        case ('lmdif')
            call lmdif1(fcn_lmdif, r%m, r%n, x, fvec, tol, res%info, c_loc(counter))
            res%nfev = counter%ncall1
            res%njev = counter%ncall2/r%n  ! as the driver: difference columns / n
        case ('lmstr')
            allocate (fjac(r%n, r%n), ipvt(r%n), counter%jac(r%m, r%n))
            call lmstr1(fcn_lmstr, r%m, r%n, x, fvec, fjac, r%n, tol, res%info, ipvt, &
                        c_loc(counter))
            res%nfev = counter%ncall1
            res%njev = counter%ncall2
        end select

        call mgh_residual(r%nprob, r%m, r%n, x, fvec)
        res%fnorm = norm2(fvec)
    end subroutine run_case

    logical function converged(info)
        integer, intent(in) :: info

        converged = info >= 1 .and. info <= 4
    end function converged

    !> Final norms agree: to fnorm_rtol relative, or both are zero residuals.
    logical function norms_agree(ours, ref)
        real(dp), intent(in) :: ours, ref

        norms_agree = (ours <= fnorm_zero .and. ref <= fnorm_zero) .or. rel_close(ours, ref)
    end function norms_agree

    logical function rel_close(a, b)
        real(dp), intent(in) :: a, b

        rel_close = abs(a - b) <= fnorm_rtol*abs(b)
    end function rel_close

    real(dp) function rel_diff(a, b)
        real(dp), intent(in) :: a, b

        if (b /= 0.0_dp) then
            rel_diff = abs(a - b)/abs(b)
        else
            rel_diff = abs(a - b)
        end if
    end function rel_diff

end program test_mgh
