!> Levenberg-Marquardt with the Jacobian supplied one row at a time, in
!> O(n^2) storage: MINPACK-1's lmstr, its simplified form lmstr1, and the
!> Givens kernel rwupdt that folds each row into the triangular factor.
!>
!> References: MINPACK-1 User Guide (ANL-80-74, 1980), chapters 2 and 4;
!> J. J. Moré, "The Levenberg-Marquardt algorithm: implementation and
!> theory" (1978). lmstr runs the iteration of lmdif/lmder (minpack_lm's
!> `lm_advance`, the work of `lm_step`, with jac = lm_jac_rows, on the
!> caller's arrays); only the Jacobian stage differs: the m rows of J are
!> folded into an n by n upper triangular R and into Q^T fvec by Givens
!> rotations, so the m by n Jacobian is never stored, and a singular R is
!> refactored by qrfac with column pivoting.
!>
!> Deliberate differences from MINPACK-1:
!> - callbacks carry a `type(c_ptr)` user-data argument (see minpack/README.md);
!> - work arrays are allocated here instead of being passed in;
!> - the row callback gets iflag = i + 1 for row i whatever it did to iflag
!>   on the previous row (MINPACK-1 incremented the returned iflag);
!> - the residual and progress calls get a scratch fjrow of their own
!>   (MINPACK-1 lent them a work array);
!> - residuals or Jacobian rows that are not finite are handled as in lmdif
!>   and lmder (see minpack_lm): info 10 at the starting point, a
!>   failed step at a trial point, info 11 as soon as a row of the Jacobian
!>   is not finite (before it reaches rwupdt).
!> Everything is reentrant and `recursive`: a callback may call a solver again.
!>
!> The module is not called minpack_lmstr because that is the binding label
!> of the C entry point (minpack_capi); Fortran forbids a binding label equal
!> to a module name, and gfortran then resolves calls to the wrong symbol.
module minpack_lmrows
    use, intrinsic :: iso_c_binding, only: c_ptr, c_null_ptr
    use minpack_kinds, only: dp
    use minpack_linalg, only: enorm, qrfac, all_finite
    use minpack_lm, only: lm_state, lm_setup, lm_work, lm_advance, lm_jac_rows, lm_task_fvec, &
        lm_task_fjac, lm_task_report, qr_qtb
    implicit none
    private

    public :: lmstr_fcn
    public :: rwupdt, lmstr, lmstr1

    abstract interface
        !> Residual and Jacobian-row callback of lmstr.
        subroutine lmstr_fcn(m, n, x, fvec, fjrow, iflag, udata)
            import :: dp, c_ptr
            implicit none
            integer, intent(in) :: m
                !! number of residuals
            integer, intent(in) :: n
                !! number of variables
            real(dp), intent(in) :: x(n)
                !! point of evaluation
            real(dp), intent(inout) :: fvec(m)
                !! residuals at x (compute when iflag is 1; keep otherwise)
            real(dp), intent(inout) :: fjrow(n)
                !! row iflag - 1 of the Jacobian at x (compute when iflag >= 2)
            integer, intent(inout) :: iflag
                !! 1: residuals; i >= 2: row i - 1 of the Jacobian;
                !! 0: progress report only. Set negative to stop the solver.
            type(c_ptr), intent(in), value :: udata
                !! the caller's user data
        end subroutine lmstr_fcn
    end interface

    real(dp), parameter :: zero = 0.0_dp, one = 1.0_dp
    real(dp), parameter :: p25 = 0.25_dp, p5 = 0.5_dp

contains

    !> Add the row w to the n by n upper triangular R (and alpha to b):
    !> find an orthogonal Q with  Q [R; w^T] = [R'; 0],  Q [b; alpha] = [b'; alpha']
    !> and overwrite R, b, alpha by R', b', alpha' (MINPACK-1 `rwupdt`).
    !>
    !> Q is the product of n Givens rotations; rotation j, in the plane of row
    !> j of R and the added row, eliminates w(j) and is returned as cos(j),
    !> sin(j) (1 and 0 when there was nothing to eliminate).
    pure subroutine rwupdt(n, r, ldr, w, b, alpha, cos, sin)
        integer, intent(in) :: n
            !! order of r
        integer, intent(in) :: ldr
            !! leading dimension of r, at least n
        real(dp), intent(inout) :: r(ldr, n)
            !! upper triangle: in R, out R' (strict lower triangle not referenced)
        real(dp), intent(in) :: w(n)
            !! the row to add
        real(dp), intent(inout) :: b(n)
            !! in: b; out: b'
        real(dp), intent(inout) :: alpha
            !! in: the right-hand side of the new row; out: alpha'
        real(dp), intent(out) :: cos(n)
            !! cosines of the rotations
        real(dp), intent(out) :: sin(n)
            !! sines of the rotations

        integer :: i, j
        real(dp) :: cotan, rowj, tan, temp

        do j = 1, n
            ! apply the earlier rotations to column j of R and to w(j)
            rowj = w(j)
            do i = 1, j - 1
                temp = cos(i) * r(i, j) + sin(i) * rowj
                rowj = -sin(i) * r(i, j) + cos(i) * rowj
                r(i, j) = temp
            end do

            ! the rotation that eliminates rowj against r(j, j)
            cos(j) = one
            sin(j) = zero
            if (rowj == zero) cycle
            if (abs(r(j, j)) < abs(rowj)) then
                cotan = r(j, j) / rowj
                sin(j) = p5 / sqrt(p25 + p25 * cotan**2)
                cos(j) = sin(j) * cotan
            else
                tan = rowj / r(j, j)
                cos(j) = p5 / sqrt(p25 + p25 * tan**2)
                sin(j) = cos(j) * tan
            end if

            ! apply it to r(j, j), b(j) and alpha
            r(j, j) = cos(j) * r(j, j) + sin(j) * rowj
            temp = cos(j) * b(j) + sin(j) * alpha
            alpha = -sin(j) * b(j) + cos(j) * alpha
            b(j) = temp
        end do
    end subroutine rwupdt

    !> Minimise the sum of squares of m nonlinear functions in n variables,
    !> with the Jacobian supplied one row at a time (MINPACK-1 `lmstr`).
    !>
    !> Arguments as in lmder, except that fjac is n by n (ldfjac >= n) and the
    !> callback returns one row of the Jacobian per call. On exit the upper
    !> triangle of fjac holds R with P^T (J^T J) P = R^T R for the last
    !> Jacobian evaluated (column j of P is column ipvt(j) of the identity);
    !> its strict lower triangle holds intermediate data. info as in lmdif.
    recursive subroutine lmstr(fcn, m, n, x, fvec, fjac, ldfjac, ftol, xtol, gtol, &
                               maxfev, diag, mode, factor, nprint, info, nfev, njev, &
                               ipvt, qtf, udata)
        procedure(lmstr_fcn) :: fcn
            !! the residual and Jacobian-row callback
        integer, intent(in) :: m
            !! number of residuals (m >= n)
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(inout) :: x(n)
            !! in: starting point; out: final estimate
        real(dp), intent(inout) :: fvec(m)
            !! out: residuals at the final x
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac, at least n
        real(dp), intent(out) :: fjac(ldfjac, n)
            !! out: R in the upper triangle (see above)
        real(dp), intent(in) :: ftol
            !! tolerance on the relative reduction of the sum of squares
        real(dp), intent(in) :: xtol
            !! tolerance on the relative change of x
        real(dp), intent(in) :: gtol
            !! tolerance on the orthogonality of fvec and the Jacobian
        integer, intent(in) :: maxfev
            !! maximum number of residual evaluations
        real(dp), intent(inout) :: diag(n)
            !! variable scaling: input when mode = 2, output otherwise
        integer, intent(in) :: mode
            !! 1: scale from the Jacobian's column norms; 2: use diag
        real(dp), intent(in) :: factor
            !! initial step bound factor
        integer, intent(in) :: nprint
            !! call fcn with iflag = 0 every nprint iterations (0: never)
        integer, intent(out) :: info
            !! termination code (see lmdif)
        integer, intent(out) :: nfev
            !! number of residual evaluations
        integer, intent(out) :: njev
            !! number of Jacobian evaluations (each one is m row calls)
        integer, intent(out) :: ipvt(n)
            !! the permutation P
        real(dp), intent(out) :: qtf(n)
            !! first n components of Q^T fvec
        type(c_ptr), intent(in), optional :: udata
            !! passed unchanged to fcn

        type(lm_state) :: st
        type(c_ptr) :: ud
        real(dp) :: fjrow(max(n, 0))
        real(dp), allocatable :: xt(:), ft(:), wa1(:), wa3(:), xd(:, :)

        ! a loop over lm_advance on the caller's arrays, answering its
        ! requests with the callback; the residual and report calls get a
        ! scratch fjrow of zeros
        ud = c_null_ptr
        if (present(udata)) ud = udata
        call lm_setup(st, m, n, x, ftol, xtol, gtol, maxfev, zero, mode, factor, nprint, &
                      jac=lm_jac_rows, diag=diag, ldfjac=ldfjac)
        call lm_work(st, fvec, fjac, ipvt, qtf, xt, ft, wa1, wa3, xd)
        do
            call lm_advance(st, m, n, ldfjac, x, fvec, fjac, diag, qtf, ipvt, xt, ft, wa1, wa3)
            select case (st%task)
            case (lm_task_fvec)
                fjrow = zero
                call fcn(m, n, xt, ft, fjrow, st%iflag, ud)
            case (lm_task_report)
                fjrow = zero
                call fcn(m, n, x, fvec, fjrow, st%iflag, ud)
            case (lm_task_fjac)
                call lmstr_rows(fcn, m, n, x, fvec, fjac, ldfjac, ipvt, xt, qtf, wa1, wa3, &
                                st%jfinite, st%iflag, ud)
            case default
                exit
            end select
        end do
        info = st%info
        nfev = st%nfev
        njev = st%njev
    end subroutine lmstr

    !> Simplified lmstr (MINPACK-1 `lmstr1`): ftol = xtol = tol, gtol = 0,
    !> maxfev = 100 (n + 1), mode = 1, factor = 100; info 8 is reported as 4.
    recursive subroutine lmstr1(fcn, m, n, x, fvec, fjac, ldfjac, tol, info, ipvt, udata)
        procedure(lmstr_fcn) :: fcn
            !! the residual and Jacobian-row callback
        integer, intent(in) :: m
            !! number of residuals (m >= n)
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(inout) :: x(n)
            !! in: starting point; out: final estimate
        real(dp), intent(out) :: fvec(m)
            !! residuals at the final x
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac, at least n
        real(dp), intent(out) :: fjac(ldfjac, n)
            !! out: R, as in lmstr
        real(dp), intent(in) :: tol
            !! tolerance (ftol and xtol)
        integer, intent(out) :: info
            !! termination code (see lmdif)
        integer, intent(out) :: ipvt(n)
            !! the permutation P
        type(c_ptr), intent(in), optional :: udata
            !! passed unchanged to fcn

        real(dp), allocatable :: diag(:), qtf(:)
        integer :: nfev, njev

        info = 0
        if (n <= 0 .or. m < n .or. ldfjac < n .or. tol < zero) return
        allocate(diag(n), qtf(n))
        call lmstr(fcn, m, n, x, fvec, fjac, ldfjac, tol, tol, zero, 100 * (n + 1), &
                   diag, 1, 100.0_dp, 0, info, nfev, njev, ipvt, qtf, udata)
        if (info == 8) info = 4
    end subroutine lmstr1

    !> lmstr's Jacobian stage, its answer to lm_step's lm_task_fjac.
    !>
    !> Starting from R = 0 and qtf = 0, each row i of the Jacobian, with
    !> fvec(i), is folded in by rwupdt, giving J = Q R and qtf = (Q^T fvec)(1:n)
    !> with P = I. If R has a zero diagonal element it is refactored, R = Q2 R2
    !> P, by qrfac with column pivoting, and qtf becomes Q2^T qtf.
    recursive subroutine lmstr_rows(fcn, m, n, x, fvec, r, ldr, ipvt, acnorm, qtf, wa1, wa2, &
                                    finite, iflag, udata)
        procedure(lmstr_fcn) :: fcn
            !! the residual and Jacobian-row callback
        integer, intent(in) :: m
            !! number of residuals
        integer, intent(in) :: n
            !! number of variables
        real(dp), intent(in) :: x(n)
            !! the current point
        real(dp), intent(inout) :: fvec(m)
            !! residuals at x
        integer, intent(in) :: ldr
            !! leading dimension of r, at least n
        real(dp), intent(inout) :: r(ldr, n)
            !! out: R in rows and columns 1..n
        integer, intent(out) :: ipvt(n)
            !! the permutation P
        real(dp), intent(out) :: acnorm(n)
            !! norms of the columns of J
        real(dp), intent(out) :: qtf(n)
            !! first n components of Q^T fvec
        real(dp), intent(out) :: wa1(n)
            !! work array
        real(dp), intent(out) :: wa2(n)
            !! work array
        logical, intent(out) :: finite
            !! false if a row was not finite (not in MINPACK-1): the stage
            !! stopped at that row, which never reached rwupdt
        integer, intent(inout) :: iflag
            !! 2, ..., m + 1 for the row calls; negative if the callback stopped
        type(c_ptr), intent(in), value :: udata
            !! passed unchanged to fcn

        integer :: i, j
        logical :: sing
        real(dp) :: alpha

        finite = .true.
        do j = 1, n
            qtf(j) = zero
            do i = 1, n
                r(i, j) = zero
            end do
        end do

        ! fold in the rows one at a time (wa2: the row; wa1, acnorm: the rotations)
        do i = 1, m
            iflag = i + 1
            call fcn(m, n, x, fvec, wa2, iflag, udata)
            if (iflag < 0) return
            if (.not. all_finite(n, wa2)) then
                finite = .false.
                return
            end if
            alpha = fvec(i)
            call rwupdt(n, r, ldr, wa2, qtf, alpha, wa1, acnorm)
        end do

        ! column norms of J (those of R); refactor a singular R with pivoting
        sing = .false.
        do j = 1, n
            if (r(j, j) == zero) sing = .true.
            ipvt(j) = j
            acnorm(j) = enorm(j, r(1:j, j))
        end do
        if (sing) then
            call qrfac(n, n, r, ldr, .true., ipvt, wa1, acnorm, wa2)
            call qr_qtb(n, n, r, ldr, wa1, qtf)
        end if
    end subroutine lmstr_rows

end module minpack_lmrows
