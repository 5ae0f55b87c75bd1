!> Powell's hybrid method for systems of n nonlinear equations in n unknowns
!> (MINPACK-1 hybrd, hybrj, hybrd1, hybrj1) and its kernels.
!>
!> References: MINPACK-1 User Guide (ANL-80-74, 1980), chapters 1 and 4;
!> M. J. D. Powell, "A hybrid method for nonlinear equations" (1970). The
!> iteration follows MINPACK-1 step by step: dogleg steps in a trust region,
!> Broyden rank-one updates of the QR factors, and a fresh Jacobian after two
!> consecutive failures.
!>
!> Deliberate differences from MINPACK-1: callbacks carry a `type(c_ptr)`
!> user-data argument; work arrays are allocated here; when a callback stops
!> the finite-difference Jacobian, x is restored; functions or a Jacobian
!> that are not finite (NaN or inf) are detected. MINPACK-1 has no such
!> test: NaN at the start ran it to its "no progress" exits, and a trial
!> point with NaN spoiled R and Q through the Broyden update. Here, values
!> that are not finite at the starting point stop the solver at once with
!> info 10 (`info_nonfinite_start`); at a trial point they make the step a
!> failure, as if |fvec| were infinite (the step bound is halved, x and fvec
!> keep the last iterate, and the Broyden update is skipped: such a point
!> says nothing about the Jacobian); a Jacobian that is not finite stops the
!> solver at the current x with info 11 (`info_nonfinite_jacobian`). While
!> every value stays finite these tests change nothing: iterates, nfev, njev
!> and info are MINPACK-1's. Everything is reentrant.
!>
!> Reverse communication, as for Levenberg-Marquardt (see minpack_lm): the
!> iteration is a state object, `type(hy_state)`, started by `hy_init` and
!> advanced by `hy_step`, which returns with the requests of `lm_step`
!> (lm_task_fvec: the functions at st%xt into st%ft; lm_task_fdiff: the
!> functions at the st%ncol difference points st%xd(:, k) into st%fjac(1:n,
!> k), ncol = min(ml + mu + 1, n), each point perturbing one group of
!> columns of a banded Jacobian; lm_task_fjac: the Jacobian at st%x into
!> st%fjac(1:n, 1:n); lm_task_report; lm_task_done), with st%iflag as
!> there. hybrd and hybrj are such loops, answering with their callbacks,
!> over hy_advance (hy_step's work, every array an argument) on their
!> caller's x, fvec, fjac, r, diag and qtf and the work arrays of
!> MINPACK-1's drivers (hy_work), with the scalars in a state from hy_setup:
!> both routes give the same solve to the last bit, and the drivers copy
!> nothing in or out. A solve stopped before its first Jacobian returns
!> fjac (rows 1..n), r and qtf as zeros.
module minpack_hybrid
    use, intrinsic :: iso_c_binding, only: c_ptr
    use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_positive_inf
    use minpack_kinds, only: dp, epsmch, giant, info_nonfinite_start, &
        info_nonfinite_jacobian, user_data
    use minpack_linalg, only: enorm, qrfac, all_finite
    use minpack_lm, only: lm_task_done, lm_task_report, lm_task_fvec, lm_task_fjac, &
        lm_task_fdiff, lm_jac_difference, lm_jac_user
    implicit none
    private

    public :: hybrd_fcn, hybrj_fcn
    public :: dogleg, fdjac1, qform, r1updt, r1mpyq
    public :: hybrd, hybrj, hybrd1, hybrj1
    public :: hy_state, hy_init, hy_step

    !> Points hy_step resumes from (st%stage).
    integer, parameter :: stage_start = 1, stage_start_done = 2, stage_outer = 3, &
                          stage_jac_done = 4, stage_inner = 5, stage_dogleg = 6, &
                          stage_trial_done = 7, stage_finish = 8, stage_done = 9

    !> The whole state of one hybrid solve (hy_init, hy_step); the
    !> components the caller reads or answers in come first.
    type :: hy_state
        integer :: task = lm_task_done
            !! the request hy_step returned with
        integer :: iflag = 0
            !! MINPACK's iflag for the request; set negative to stop
        integer :: info = 0
            !! termination code, once task is lm_task_done (as in hybrd)
        integer :: nfev = 0
            !! function evaluations so far (difference points included)
        integer :: njev = 0
            !! Jacobian requests so far (lm_jac_user)
        integer :: n = 0
            !! number of equations and unknowns
        integer :: ldfjac = 0
            !! leading dimension of fjac
        integer :: ncol = 0
            !! lm_task_fdiff: the number of points, columns of xd
        real(dp), allocatable :: x(:)
            !! the current iterate (n)
        real(dp), allocatable :: fvec(:)
            !! the functions at x (n)
        real(dp), allocatable :: fjac(:, :)
            !! the Jacobian, then Q (ldfjac, n)
        real(dp), allocatable :: r(:)
            !! R packed by rows (n (n + 1) / 2)
        real(dp), allocatable :: qtf(:)
            !! Q^T fvec (n)
        real(dp), allocatable :: diag(:)
            !! the variable scaling (n)
        real(dp), allocatable :: xt(:)
            !! lm_task_fvec: the point (MINPACK's wa2; work array otherwise)
        real(dp), allocatable :: ft(:)
            !! lm_task_fvec: its functions (MINPACK's wa4; work array otherwise)
        real(dp), allocatable :: xd(:, :)
            !! lm_task_fdiff: the points, one per column (n, msum)

        ! inputs (hy_init)
        integer :: jac = lm_jac_difference
        integer :: maxfev = 0, ml = 0, mu = 0, mode = 1, nprint = 0
        real(dp) :: xtol = 0, epsfcn = 0, factor = 0
        ! the iteration
        integer :: stage = stage_done
        integer :: iter = 0, msum = 0, ncfail = 0, ncsuc = 0, nslow1 = 0, nslow2 = 0
        logical :: jeval = .false., sing = .false., finite1 = .true., proper = .false.
        real(dp) :: actred = 0, delta = 0, fnorm = 0, fnorm1 = 0, pnorm = 0, prered = 0
        real(dp) :: ratio = 0, xnorm = 0
        real(dp), allocatable :: wa1(:), wa3(:)
            !! work arrays (n)
        integer, allocatable :: ipvt(:)
            !! qrfac's permutation argument (no pivoting here)
    end type hy_state

    abstract interface
        !> Function callback of hybrd.
        subroutine hybrd_fcn(n, x, fvec, iflag, udata)
            import :: dp, c_ptr
            implicit none
            integer, intent(in) :: n
                !! number of equations and unknowns
            real(dp), intent(in) :: x(n)
                !! point of evaluation
            real(dp), intent(inout) :: fvec(n)
                !! the functions at x (compute when iflag is 1 or 2)
            integer, intent(inout) :: iflag
                !! 1: functions; 2: functions for a difference quotient;
                !! 0: progress report only. Set negative to stop the solver.
            type(c_ptr), intent(in), value :: udata
                !! the caller's user data
        end subroutine hybrd_fcn

        !> Function and Jacobian callback of hybrj.
        subroutine hybrj_fcn(n, x, fvec, fjac, ldfjac, iflag, udata)
            import :: dp, c_ptr
            implicit none
            integer, intent(in) :: n
                !! number of equations and unknowns
            integer, intent(in) :: ldfjac
                !! leading dimension of fjac
            real(dp), intent(in) :: x(n)
                !! point of evaluation
            real(dp), intent(inout) :: fvec(n)
                !! the functions at x (compute when iflag is 1; keep otherwise)
            real(dp), intent(inout) :: fjac(ldfjac, n)
                !! the Jacobian at x (compute when iflag is 2; keep otherwise)
            integer, intent(inout) :: iflag
                !! 1: functions; 2: Jacobian; 0: progress report only.
                !! Set negative to stop the solver.
            type(c_ptr), intent(in), value :: udata
                !! the caller's user data
        end subroutine hybrj_fcn
    end interface

    real(dp), parameter :: zero = 0.0_dp, one = 1.0_dp
    real(dp), parameter :: p1 = 0.1_dp, p25 = 0.25_dp, p5 = 0.5_dp
    real(dp), parameter :: p001 = 0.001_dp, p0001 = 1.0e-4_dp

contains

    !> Dogleg step: the convex combination of the Gauss-Newton and scaled
    !> gradient directions that minimises |A x - b| within |D x| <= delta,
    !> given A = Q R (MINPACK-1 `dogleg`). R is upper triangular, packed by rows.
    pure subroutine dogleg(n, r, lr, diag, qtb, delta, x, wa1, wa2)
        integer, intent(in) :: n
            !! order of R
        integer, intent(in) :: lr
            !! length of r, at least n (n + 1) / 2
        real(dp), intent(in) :: r(lr)
            !! the upper triangle of R, row by row
        real(dp), intent(in) :: diag(n)
            !! the diagonal scaling D (nonzero)
        real(dp), intent(in) :: qtb(n)
            !! Q^T b
        real(dp), intent(in) :: delta
            !! trust-region radius (positive)
        real(dp), intent(out) :: x(n)
            !! the step
        real(dp), intent(out) :: wa1(n)
            !! work array
        real(dp), intent(out) :: wa2(n)
            !! work array

        integer :: i, j, jj, k, l
        real(dp) :: alpha, bnorm, gnorm, qnorm, sgnorm, s, temp

        ! Gauss-Newton direction; a zero pivot is replaced by a small multiple
        ! of the largest element of its column
        jj = (n * (n + 1)) / 2 + 1
        do k = 1, n
            j = n - k + 1
            jj = jj - k
            l = jj + 1
            s = zero
            do i = j + 1, n
                s = s + r(l) * x(i)
                l = l + 1
            end do
            temp = r(jj)
            if (temp == zero) then
                l = j
                do i = 1, j
                    temp = max(temp, abs(r(l)))
                    l = l + n - i
                end do
                temp = epsmch * temp
                if (temp == zero) temp = epsmch
            end if
            x(j) = (qtb(j) - s) / temp
        end do

        ! accept the Gauss-Newton step if it is inside the trust region
        do j = 1, n
            wa1(j) = zero
            wa2(j) = diag(j) * x(j)
        end do
        qnorm = enorm(n, wa2)
        if (qnorm <= delta) return

        ! scaled gradient direction
        l = 1
        do j = 1, n
            temp = qtb(j)
            do i = j, n
                wa1(i) = wa1(i) + r(l) * temp
                l = l + 1
            end do
            wa1(j) = wa1(j) / diag(j)
        end do

        gnorm = enorm(n, wa1)
        sgnorm = zero
        alpha = delta / qnorm
        if (gnorm /= zero) then
            ! minimiser of the quadratic along the scaled gradient
            do j = 1, n
                wa1(j) = (wa1(j) / gnorm) / diag(j)
            end do
            l = 1
            do j = 1, n
                s = zero
                do i = j, n
                    s = s + r(l) * wa1(i)
                    l = l + 1
                end do
                wa2(j) = s
            end do
            temp = enorm(n, wa2)
            sgnorm = (gnorm / temp) / temp

            alpha = zero
            if (sgnorm < delta) then
                ! the dogleg: where the segment to the Gauss-Newton point leaves
                ! the trust region
                bnorm = enorm(n, qtb)
                temp = (bnorm / gnorm) * (bnorm / qnorm) * (sgnorm / delta)
                temp = temp - (delta / qnorm) * (sgnorm / delta)**2 &
                       + sqrt((temp - (delta / qnorm))**2 &
                              + (one - (delta / qnorm)**2) * (one - (sgnorm / delta)**2))
                alpha = ((delta / qnorm) * (one - (sgnorm / delta)**2)) / temp
            end if
        end if

        temp = (one - alpha) * min(sgnorm, delta)
        do j = 1, n
            x(j) = temp * wa1(j) + alpha * x(j)
        end do
    end subroutine dogleg

    !> Forward-difference approximation of the n by n Jacobian, dense or
    !> banded (MINPACK-1 `fdjac1`). With a band (ml + mu + 1 < n), columns
    !> that share no row are perturbed together: ml + mu + 1 evaluations.
    recursive subroutine fdjac1(fcn, n, x, fvec, fjac, ldfjac, iflag, ml, mu, epsfcn, &
                                wa1, wa2, udata)
        procedure(hybrd_fcn) :: fcn
            !! the function callback
        integer, intent(in) :: n
            !! number of equations and unknowns
        real(dp), intent(inout) :: x(n)
            !! the point (perturbed during the evaluations, restored on exit)
        real(dp), intent(in) :: fvec(n)
            !! the functions at x
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac
        real(dp), intent(out) :: fjac(ldfjac, n)
            !! the approximate Jacobian
        integer, intent(inout) :: iflag
            !! passed to fcn; negative on return if fcn asked to stop
        integer, intent(in) :: ml
            !! number of subdiagonals within the band
        integer, intent(in) :: mu
            !! number of superdiagonals within the band
        real(dp), intent(in) :: epsfcn
            !! relative error of the functions
        real(dp), intent(out) :: wa1(n)
            !! work array
        real(dp), intent(out) :: wa2(n)
            !! work array
        type(c_ptr), intent(in), value :: udata
            !! passed to fcn

        integer :: i, j, k, msum
        real(dp) :: eps, h, temp

        eps = sqrt(max(epsfcn, epsmch))
        msum = ml + mu + 1
        if (msum >= n) then
            do j = 1, n
                temp = x(j)
                h = eps * abs(temp)
                if (h == zero) h = eps
                x(j) = temp + h
                call fcn(n, x, wa1, iflag, udata)
                x(j) = temp
                if (iflag < 0) return
                do i = 1, n
                    fjac(i, j) = (wa1(i) - fvec(i)) / h
                end do
            end do
        else
            do k = 1, msum
                do j = k, n, msum
                    wa2(j) = x(j)
                    h = eps * abs(wa2(j))
                    if (h == zero) h = eps
                    x(j) = wa2(j) + h
                end do
                call fcn(n, x, wa1, iflag, udata)
                do j = k, n, msum
                    x(j) = wa2(j)
                end do
                if (iflag < 0) return
                do j = k, n, msum
                    h = eps * abs(wa2(j))
                    if (h == zero) h = eps
                    do i = 1, n
                        fjac(i, j) = zero
                        if (i >= j - mu .and. i <= j + ml) fjac(i, j) = (wa1(i) - fvec(i)) / h
                    end do
                end do
            end do
        end if
    end subroutine fdjac1

    !> Accumulate the m by m orthogonal Q from the Householder vectors that
    !> qrfac left in the first min(m, n) columns of q (MINPACK-1 `qform`).
    pure subroutine qform(m, n, q, ldq, wa)
        integer, intent(in) :: m
            !! number of rows
        integer, intent(in) :: n
            !! number of columns factored by qrfac
        integer, intent(in) :: ldq
            !! leading dimension of q, at least m
        real(dp), intent(inout) :: q(ldq, m)
            !! in: qrfac's output in the first min(m, n) columns; out: Q
        real(dp), intent(out) :: wa(m)
            !! work array

        integer :: i, j, k, l, minmn
        real(dp) :: s, temp

        minmn = min(m, n)
        ! zero the strict upper triangle of the first min(m, n) columns
        do j = 2, minmn
            do i = 1, j - 1
                q(i, j) = zero
            end do
        end do
        ! the remaining columns start as the identity
        do j = n + 1, m
            do i = 1, m
                q(i, j) = zero
            end do
            q(j, j) = one
        end do

        ! apply the reflections backwards
        do l = 1, minmn
            k = minmn - l + 1
            do i = k, m
                wa(i) = q(i, k)
                q(i, k) = zero
            end do
            q(k, k) = one
            if (wa(k) /= zero) then
                do j = k, m
                    s = zero
                    do i = k, m
                        s = s + q(i, j) * wa(i)
                    end do
                    temp = s / wa(k)
                    do i = k, m
                        q(i, j) = q(i, j) - temp * wa(i)
                    end do
                end do
            end if
        end do
    end subroutine qform

    !> Rank-one update of a lower trapezoidal matrix: find an orthogonal Q with
    !> (S + u v^T) Q lower trapezoidal again (MINPACK-1 `r1updt`). Q is a
    !> product of 2(n - 1) Givens rotations, returned in v and w as r1mpyq
    !> expects them.
    pure subroutine r1updt(m, n, s, ls, u, v, w, sing)
        integer, intent(in) :: m
            !! number of rows of S
        integer, intent(in) :: n
            !! number of columns of S (n <= m)
        integer, intent(in) :: ls
            !! length of s, at least n (2 m - n + 1) / 2
        real(dp), intent(inout) :: s(ls)
            !! the lower trapezoid of S, column by column
        real(dp), intent(in) :: u(m)
            !! the vector u
        real(dp), intent(inout) :: v(n)
            !! in: v; out: the first n - 1 rotations, and v(n) the last pivot
        real(dp), intent(out) :: w(m)
            !! out: the second n - 1 rotations
        logical, intent(out) :: sing
            !! whether a diagonal element of the updated S is zero

        integer :: i, j, jj, l, nmj
        real(dp) :: cs, sn, ct, tn, tau, temp

        ! position of the diagonal element of the last column
        jj = (n * (2 * m - n + 1)) / 2 - (m - n)

        l = jj
        do i = n, m
            w(i) = s(l)
            l = l + 1
        end do

        ! rotate v into a multiple of e_n; this puts a spike in w
        do nmj = 1, n - 1
            j = n - nmj
            jj = jj - (m - j + 1)
            w(j) = zero
            if (v(j) /= zero) then
                if (abs(v(n)) < abs(v(j))) then
                    ct = v(n) / v(j)
                    sn = p5 / sqrt(p25 + p25 * ct**2)
                    cs = sn * ct
                    tau = one
                    if (abs(cs) * giant > one) tau = one / cs
                else
                    tn = v(j) / v(n)
                    cs = p5 / sqrt(p25 + p25 * tn**2)
                    sn = cs * tn
                    tau = sn
                end if
                v(n) = sn * v(j) + cs * v(n)
                v(j) = tau
                l = jj
                do i = j, m
                    temp = cs * s(l) - sn * w(i)
                    w(i) = sn * s(l) + cs * w(i)
                    s(l) = temp
                    l = l + 1
                end do
            end if
        end do

        ! add the rank-one term to the spike
        do i = 1, m
            w(i) = w(i) + v(n) * u(i)
        end do

        ! eliminate the spike
        sing = .false.
        do j = 1, n - 1
            if (w(j) /= zero) then
                if (abs(s(jj)) < abs(w(j))) then
                    ct = s(jj) / w(j)
                    sn = p5 / sqrt(p25 + p25 * ct**2)
                    cs = sn * ct
                    tau = one
                    if (abs(cs) * giant > one) tau = one / cs
                else
                    tn = w(j) / s(jj)
                    cs = p5 / sqrt(p25 + p25 * tn**2)
                    sn = cs * tn
                    tau = sn
                end if
                l = jj
                do i = j, m
                    temp = cs * s(l) + sn * w(i)
                    w(i) = -sn * s(l) + cs * w(i)
                    s(l) = temp
                    l = l + 1
                end do
                w(j) = tau
            end if
            if (s(jj) == zero) sing = .true.
            jj = jj + (m - j + 1)
        end do

        ! the last column
        l = jj
        do i = n, m
            s(l) = w(i)
            l = l + 1
        end do
        if (s(jj) == zero) sing = .true.
    end subroutine r1updt

    !> a := a Q, with Q the product of Givens rotations encoded by r1updt in
    !> v and w (MINPACK-1 `r1mpyq`).
    pure subroutine r1mpyq(m, n, a, lda, v, w)
        integer, intent(in) :: m
            !! number of rows of a
        integer, intent(in) :: n
            !! number of columns of a
        integer, intent(in) :: lda
            !! leading dimension of a
        real(dp), intent(inout) :: a(lda, n)
            !! the matrix
        real(dp), intent(in) :: v(n)
            !! the first set of rotations
        real(dp), intent(in) :: w(n)
            !! the second set of rotations

        integer :: i, j, nmj
        real(dp) :: cs, sn, temp

        do nmj = 1, n - 1
            j = n - nmj
            call rotation(v(j), cs, sn)
            do i = 1, m
                temp = cs * a(i, j) - sn * a(i, n)
                a(i, n) = sn * a(i, j) + cs * a(i, n)
                a(i, j) = temp
            end do
        end do
        do j = 1, n - 1
            call rotation(w(j), cs, sn)
            do i = 1, m
                temp = cs * a(i, j) + sn * a(i, n)
                a(i, n) = -sn * a(i, j) + cs * a(i, n)
                a(i, j) = temp
            end do
        end do

    contains

        !> Cosine and sine from r1updt's one-number encoding.
        pure subroutine rotation(code, cs, sn)
            real(dp), intent(in) :: code
            real(dp), intent(out) :: cs, sn

            if (abs(code) > one) then
                cs = one / code
                sn = sqrt(one - cs**2)
            else
                sn = code
                cs = sqrt(one - sn**2)
            end if
        end subroutine rotation
    end subroutine r1mpyq

    !> Solve n nonlinear equations in n unknowns with a forward-difference
    !> Jacobian (MINPACK-1 `hybrd`).
    !>
    !> info: 0 improper input; 1 relative error between two consecutive
    !> iterates at most xtol; 2 nfev reached maxfev; 3 xtol too small;
    !> 4 not making progress (five Jacobian evaluations); 5 not making
    !> progress (ten iterations); 10 the functions at the starting point are
    !> not all finite (the solver stopped after that evaluation); 11 the
    !> Jacobian at x is not all finite (the solver stopped at x); negative:
    !> the callback's iflag. 10 and 11 are not in MINPACK-1 (see the module
    !> header).
    recursive subroutine hybrd(fcn, n, x, fvec, xtol, maxfev, ml, mu, epsfcn, diag, mode, &
                               factor, nprint, info, nfev, fjac, ldfjac, r, lr, qtf, udata)
        procedure(hybrd_fcn) :: fcn
            !! the function callback
        integer, intent(in) :: n
            !! number of equations and unknowns
        real(dp), intent(inout) :: x(n)
            !! in: starting point; out: final estimate
        real(dp), intent(inout) :: fvec(n)
            !! out: the functions at the final x
        real(dp), intent(in) :: xtol
            !! tolerance on the relative change of x
        integer, intent(in) :: maxfev
            !! maximum number of function evaluations
        integer, intent(in) :: ml
            !! subdiagonals of a banded Jacobian (n - 1 if dense)
        integer, intent(in) :: mu
            !! superdiagonals of a banded Jacobian (n - 1 if dense)
        real(dp), intent(in) :: epsfcn
            !! relative error of the functions (sets the difference step)
        real(dp), intent(inout) :: diag(n)
            !! variable scaling: input when mode = 2, output otherwise
        integer, intent(in) :: mode
            !! 1: scale from the Jacobian's column norms; 2: use diag
        real(dp), intent(in) :: factor
            !! initial step bound factor
        integer, intent(in) :: nprint
            !! call fcn with iflag = 0 every nprint iterations (0: never)
        integer, intent(out) :: info
            !! termination code
        integer, intent(out) :: nfev
            !! number of function evaluations
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac, at least n
        real(dp), intent(out) :: fjac(ldfjac, n)
            !! out: the orthogonal Q of the final QR factorisation
        integer, intent(in) :: lr
            !! length of r, at least n (n + 1) / 2
        real(dp), intent(out) :: r(lr)
            !! out: the upper triangle R, row by row
        real(dp), intent(out) :: qtf(n)
            !! out: Q^T fvec
        type(c_ptr), intent(in), optional :: udata
            !! passed unchanged to fcn

        type(hy_state) :: st
        type(c_ptr) :: ud
        real(dp), allocatable :: xt(:), ft(:), wa1(:), wa3(:), xd(:, :)
        integer, allocatable :: ipvt(:)
        integer :: k, lrr

        ! a loop over hy_advance on the caller's arrays, answering its
        ! requests with the callback; the state holds the scalars
        ud = user_data(udata)
        call hy_setup(st, n, xtol, maxfev, ml, mu, epsfcn, mode, factor, nprint, &
                      jac=lm_jac_difference, diag=diag, ldfjac=ldfjac, lr=lr)
        call hy_work(st, fvec, fjac, r, qtf, xt, ft, wa1, wa3, ipvt, xd)
        lrr = max(min(lr, (n * (n + 1)) / 2), 0)
        do
            call hy_advance(st, n, ldfjac, lrr, x, fvec, fjac, r, diag, qtf, &
                            ipvt, xt, ft, wa1, wa3, xd)
            select case (st%task)
            case (lm_task_fvec)
                call fcn(n, xt, ft, st%iflag, ud)
            case (lm_task_fdiff)
                do k = 1, st%ncol
                    call fcn(n, xd(:, k), fjac(:, k), st%iflag, ud)
                    if (st%iflag < 0) exit
                end do
            case (lm_task_report)
                call fcn(n, x, fvec, st%iflag, ud)
            case default
                exit
            end select
        end do
        info = st%info
        nfev = st%nfev
    end subroutine hybrd

    !> Solve n nonlinear equations in n unknowns with a Jacobian supplied by
    !> the callback (MINPACK-1 `hybrj`). Arguments as in hybrd, without the
    !> band and epsfcn, plus njev; info as in hybrd.
    recursive subroutine hybrj(fcn, n, x, fvec, fjac, ldfjac, xtol, maxfev, diag, mode, &
                               factor, nprint, info, nfev, njev, r, lr, qtf, udata)
        procedure(hybrj_fcn) :: fcn
            !! the function and Jacobian callback
        integer, intent(in) :: n
            !! number of equations and unknowns
        real(dp), intent(inout) :: x(n)
            !! in: starting point; out: final estimate
        real(dp), intent(inout) :: fvec(n)
            !! out: the functions at the final x
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac, at least n
        real(dp), intent(out) :: fjac(ldfjac, n)
            !! out: the orthogonal Q of the final QR factorisation
        real(dp), intent(in) :: xtol
            !! tolerance on the relative change of x
        integer, intent(in) :: maxfev
            !! maximum number of function evaluations
        real(dp), intent(inout) :: diag(n)
            !! variable scaling: input when mode = 2, output otherwise
        integer, intent(in) :: mode
            !! 1: scale from the Jacobian's column norms; 2: use diag
        real(dp), intent(in) :: factor
            !! initial step bound factor
        integer, intent(in) :: nprint
            !! call fcn with iflag = 0 every nprint iterations (0: never)
        integer, intent(out) :: info
            !! termination code (see hybrd)
        integer, intent(out) :: nfev
            !! number of function evaluations
        integer, intent(out) :: njev
            !! number of Jacobian evaluations
        integer, intent(in) :: lr
            !! length of r, at least n (n + 1) / 2
        real(dp), intent(out) :: r(lr)
            !! out: the upper triangle R, row by row
        real(dp), intent(out) :: qtf(n)
            !! out: Q^T fvec
        type(c_ptr), intent(in), optional :: udata
            !! passed unchanged to fcn

        type(hy_state) :: st
        type(c_ptr) :: ud
        real(dp), allocatable :: xt(:), ft(:), wa1(:), wa3(:), xd(:, :)
        integer, allocatable :: ipvt(:)
        integer :: lrr

        ! a loop over hy_advance on the caller's arrays, answering its
        ! requests with the callback
        ud = user_data(udata)
        call hy_setup(st, n, xtol, maxfev, n - 1, n - 1, zero, mode, factor, nprint, &
                      jac=lm_jac_user, diag=diag, ldfjac=ldfjac, lr=lr)
        call hy_work(st, fvec, fjac, r, qtf, xt, ft, wa1, wa3, ipvt, xd)
        lrr = max(min(lr, (n * (n + 1)) / 2), 0)
        do
            call hy_advance(st, n, ldfjac, lrr, x, fvec, fjac, r, diag, qtf, &
                            ipvt, xt, ft, wa1, wa3, xd)
            select case (st%task)
            case (lm_task_fvec)
                call fcn(n, xt, ft, fjac, ldfjac, st%iflag, ud)
            case (lm_task_fjac, lm_task_report)
                call fcn(n, x, fvec, fjac, ldfjac, st%iflag, ud)
            case default
                exit
            end select
        end do
        info = st%info
        nfev = st%nfev
        njev = st%njev
    end subroutine hybrj

    !> Simplified hybrd (MINPACK-1 `hybrd1`): xtol = tol, maxfev = 200 (n + 1),
    !> dense Jacobian, epsfcn = 0, mode = 2 with diag = 1, factor = 100;
    !> info 5 is reported as 4.
    recursive subroutine hybrd1(fcn, n, x, fvec, tol, info, udata)
        procedure(hybrd_fcn) :: fcn
            !! the function callback
        integer, intent(in) :: n
            !! number of equations and unknowns
        real(dp), intent(inout) :: x(n)
            !! in: starting point; out: final estimate
        real(dp), intent(out) :: fvec(n)
            !! the functions at the final x
        real(dp), intent(in) :: tol
            !! tolerance on the relative change of x
        integer, intent(out) :: info
            !! termination code (see hybrd)
        type(c_ptr), intent(in), optional :: udata
            !! passed unchanged to fcn

        real(dp), allocatable :: diag(:), fjac(:, :), r(:), qtf(:)
        integer :: nfev

        info = 0
        if (n <= 0 .or. tol < zero) return
        allocate(diag(n), fjac(n, n), r((n * (n + 1)) / 2), qtf(n))
        diag = one
        call hybrd(fcn, n, x, fvec, tol, 200 * (n + 1), n - 1, n - 1, zero, diag, 2, &
                   100.0_dp, 0, info, nfev, fjac, n, r, size(r), qtf, user_data(udata))
        if (info == 5) info = 4
    end subroutine hybrd1

    !> Simplified hybrj (MINPACK-1 `hybrj1`): xtol = tol, maxfev = 100 (n + 1),
    !> mode = 2 with diag = 1, factor = 100; info 5 is reported as 4.
    recursive subroutine hybrj1(fcn, n, x, fvec, fjac, ldfjac, tol, info, udata)
        procedure(hybrj_fcn) :: fcn
            !! the function and Jacobian callback
        integer, intent(in) :: n
            !! number of equations and unknowns
        real(dp), intent(inout) :: x(n)
            !! in: starting point; out: final estimate
        real(dp), intent(out) :: fvec(n)
            !! the functions at the final x
        integer, intent(in) :: ldfjac
            !! leading dimension of fjac, at least n
        real(dp), intent(out) :: fjac(ldfjac, n)
            !! out: the orthogonal Q of the final QR factorisation
        real(dp), intent(in) :: tol
            !! tolerance on the relative change of x
        integer, intent(out) :: info
            !! termination code (see hybrd)
        type(c_ptr), intent(in), optional :: udata
            !! passed unchanged to fcn

        real(dp), allocatable :: diag(:), r(:), qtf(:)
        integer :: nfev, njev

        info = 0
        if (n <= 0 .or. ldfjac < n .or. tol < zero) return
        allocate(diag(n), r((n * (n + 1)) / 2), qtf(n))
        diag = one
        call hybrj(fcn, n, x, fvec, fjac, ldfjac, tol, 100 * (n + 1), diag, 2, 100.0_dp, &
                   0, info, nfev, njev, r, size(r), qtf, user_data(udata))
        if (info == 5) info = 4
    end subroutine hybrj1

    !> Start a hybrid solve by reverse communication (see "Reverse
    !> communication" in the module header): check the input, copy it into
    !> st and allocate its arrays. Arguments as in hybrd. Nothing is
    !> evaluated here; on improper input the first hy_step returns done with
    !> info = 0 (after a report if nprint > 0).
    pure subroutine hy_init(st, n, x, xtol, maxfev, ml, mu, epsfcn, mode, factor, nprint, &
                            jac, diag, ldfjac, fvec, lr)
        type(hy_state), intent(out) :: st
            !! the state (anything it held is discarded)
        integer, intent(in) :: n
            !! number of equations and unknowns
        real(dp), intent(in) :: x(n)
            !! the starting point
        real(dp), intent(in) :: xtol
            !! tolerance on the relative error between two iterates
        integer, intent(in) :: maxfev
            !! maximum number of function evaluations
        integer, intent(in) :: ml
            !! subdiagonals within the band of the Jacobian (n - 1: dense)
        integer, intent(in) :: mu
            !! superdiagonals within the band (n - 1: dense)
        real(dp), intent(in) :: epsfcn
            !! relative error of the functions (lm_jac_difference)
        integer, intent(in) :: mode
            !! 1: scale from the Jacobian's column norms; 2: use diag
        real(dp), intent(in) :: factor
            !! initial step bound factor
        integer, intent(in) :: nprint
            !! a report every nprint iterations and at the end (0: never)
        integer, intent(in), optional :: jac
            !! lm_jac_difference (default: the state asks for difference
            !! points, as hybrd) or lm_jac_user (it asks for the Jacobian,
            !! as hybrj)
        real(dp), intent(in), optional :: diag(n)
            !! the variable scaling (needed with mode = 2)
        integer, intent(in), optional :: ldfjac
            !! leading dimension of st%fjac (default n)
        real(dp), intent(in), optional :: fvec(n)
            !! the starting content of st%fvec and st%ft
        integer, intent(in), optional :: lr
            !! the length of the caller's r (hybrd, hybrj): less than
            !! n (n + 1) / 2 is improper input

        integer :: nn

        call hy_setup(st, n, xtol, maxfev, ml, mu, epsfcn, mode, factor, nprint, jac, &
                      diag, ldfjac, lr)
        nn = max(n, 0)
        allocate(st%x(nn), st%fvec(nn), st%diag(nn), st%fjac(max(st%ldfjac, 0), nn), &
                 st%r(max((n * (n + 1)) / 2, 0)), st%xt(nn), st%ft(nn), st%wa1(nn), &
                 st%wa3(nn), st%qtf(nn), st%ipvt(nn))
        st%x = x
        st%fvec = zero
        if (present(fvec)) st%fvec = fvec
        st%ft = st%fvec
        st%diag = zero
        if (present(diag)) st%diag = diag
        st%fjac = zero
        st%r = zero
        st%qtf = zero
        if (st%proper .and. st%jac == lm_jac_difference) allocate(st%xd(n, st%msum))
    end subroutine hy_init

    !> The scalars of a solve: hy_init without the arrays, for hybrd and
    !> hybrj, which run hy_advance on their caller's x, fvec, fjac, r, diag
    !> and qtf and on the work arrays of hy_work. Arguments as in hy_init,
    !> without x and fvec; sets st%proper and the stage to start from.
    pure subroutine hy_setup(st, n, xtol, maxfev, ml, mu, epsfcn, mode, factor, nprint, &
                             jac, diag, ldfjac, lr)
        type(hy_state), intent(out) :: st
            !! the state (anything it held is discarded)
        integer, intent(in) :: n
            !! number of equations and unknowns
        real(dp), intent(in) :: xtol
            !! tolerance on the relative error between two iterates
        integer, intent(in) :: maxfev
            !! maximum number of function evaluations
        integer, intent(in) :: ml
            !! subdiagonals within the band of the Jacobian (n - 1: dense)
        integer, intent(in) :: mu
            !! superdiagonals within the band (n - 1: dense)
        real(dp), intent(in) :: epsfcn
            !! relative error of the functions (lm_jac_difference)
        integer, intent(in) :: mode
            !! 1: scale from the Jacobian's column norms; 2: use diag
        real(dp), intent(in) :: factor
            !! initial step bound factor
        integer, intent(in) :: nprint
            !! a report every nprint iterations and at the end (0: never)
        integer, intent(in), optional :: jac
            !! lm_jac_difference (default: the state asks for difference
            !! points, as hybrd) or lm_jac_user (it asks for the Jacobian,
            !! as hybrj)
        real(dp), intent(in), optional :: diag(n)
            !! the variable scaling (needed with mode = 2)
        integer, intent(in), optional :: ldfjac
            !! leading dimension of fjac (default n)
        integer, intent(in), optional :: lr
            !! the length of the caller's r (hybrd, hybrj): less than
            !! n (n + 1) / 2 is improper input

        integer :: j

        st%n = n
        if (present(jac)) st%jac = jac
        st%ldfjac = n
        if (present(ldfjac)) st%ldfjac = ldfjac
        st%xtol = xtol
        st%maxfev = maxfev
        st%ml = ml
        st%mu = mu
        st%epsfcn = epsfcn
        st%mode = mode
        st%factor = factor
        st%nprint = nprint
        st%task = lm_task_done
        st%stage = stage_finish

        ! check the input
        if (n <= 0 .or. xtol < zero .or. maxfev <= 0 .or. ml < 0 .or. mu < 0 &
            .or. factor <= zero .or. st%ldfjac < n) return
        if (present(lr)) then
            if (lr < (n * (n + 1)) / 2) return
        end if
        if (st%jac /= lm_jac_difference .and. st%jac /= lm_jac_user) return
        if (mode == 2) then
            if (.not. present(diag)) return
            do j = 1, n
                if (.not. (diag(j) > zero)) return
            end do
        end if
        st%msum = min(ml + mu + 1, n)
        st%proper = .true.
        st%stage = stage_start
    end subroutine hy_setup

    !> The work arrays of hybrd's and hybrj's solve (after hy_setup), those
    !> MINPACK-1's drivers had: xt, wa1, wa3 (n), ft (n), starting as fvec,
    !> ipvt (qrfac's argument), and xd (n, msum) for difference points. On
    !> proper input the outputs fjac (rows 1..n), r and qtf are cleared, so
    !> that a solve stopped before its first Jacobian returns them as zeros,
    !> as a state does; on improper input they are left as they are.
    pure subroutine hy_work(st, fvec, fjac, r, qtf, xt, ft, wa1, wa3, ipvt, xd)
        type(hy_state), intent(in) :: st
            !! the solve, from hy_setup
        real(dp), intent(in) :: fvec(st%n)
            !! the caller's fvec
        real(dp), intent(inout) :: fjac(st%ldfjac, st%n)
            !! the caller's fjac
        real(dp), intent(inout) :: r(*)
            !! the caller's r (at least n (n + 1) / 2 on proper input)
        real(dp), intent(inout) :: qtf(st%n)
            !! the caller's qtf
        real(dp), allocatable, intent(out) :: xt(:)
            !! MINPACK's wa2 (n)
        real(dp), allocatable, intent(out) :: ft(:)
            !! MINPACK's wa4 (n)
        real(dp), allocatable, intent(out) :: wa1(:)
            !! work array (n)
        real(dp), allocatable, intent(out) :: wa3(:)
            !! work array (n)
        integer, allocatable, intent(out) :: ipvt(:)
            !! qrfac's permutation argument (n)
        real(dp), allocatable, intent(out) :: xd(:, :)
            !! the difference points (n, msum; lm_jac_difference on proper input)

        integer :: j, nn

        nn = max(st%n, 0)
        allocate(xt(nn), ft(nn), wa1(nn), wa3(nn), ipvt(nn))
        ft = fvec
        if (.not. st%proper) return
        if (st%jac == lm_jac_difference) allocate(xd(nn, st%msum))
        do j = 1, st%n
            fjac(1:st%n, j) = zero
        end do
        r(1:(st%n * (st%n + 1)) / 2) = zero
        qtf = zero
    end subroutine hy_work

    !> Advance the solve until it needs something from its caller; st%task
    !> says what (the requests of lm_step). The iteration is MINPACK-1's
    !> hybrd/hybrj (user guide, chapter 1; Powell 1970), with the
    !> non-finite tests described above.
    pure recursive subroutine hy_step(st)
        type(hy_state), intent(inout) :: st
            !! the solve (from hy_init), with the last request answered

        ! the work happens on the state's arrays as explicit-shape dummies
        call hy_advance(st, st%n, st%ldfjac, size(st%r), st%x, st%fvec, st%fjac, st%r, &
                        st%diag, st%qtf, st%ipvt, st%xt, st%ft, st%wa1, st%wa3, st%xd)
    end subroutine hy_step

    !> hy_step's work: the iteration, on the arrays it is given (the state's
    !> from hy_step; hybrd's and hybrj's own, with a state from hy_setup).
    !> While it runs they are reached through these arguments only, never
    !> through st, which gives the scalars.
    pure recursive subroutine hy_advance(st, n, ldfjac, lr, x, fvec, fjac, r, diag, qtf, &
                                         ipvt, xt, ft, wa1, wa3, xd)
        type(hy_state), intent(inout) :: st
            !! the solve: its scalars
        integer, intent(in) :: n
            !! st%n
        integer, intent(in) :: ldfjac
            !! st%ldfjac
        integer, intent(in) :: lr
            !! size of st%r
        real(dp), intent(inout) :: x(n)
            !! st%x
        real(dp), intent(inout) :: fvec(n)
            !! st%fvec
        real(dp), intent(inout) :: fjac(ldfjac, n)
            !! st%fjac: the Jacobian, then Q
        real(dp), intent(inout) :: r(lr)
            !! st%r: R packed by rows
        real(dp), intent(inout) :: diag(n)
            !! st%diag
        real(dp), intent(inout) :: qtf(n)
            !! st%qtf
        integer, intent(inout) :: ipvt(n)
            !! st%ipvt (qrfac's, unused without pivoting)
        real(dp), intent(inout) :: xt(n)
            !! st%xt (MINPACK's wa2)
        real(dp), intent(inout) :: ft(n)
            !! st%ft (MINPACK's wa4)
        real(dp), intent(inout) :: wa1(n)
            !! st%wa1
        real(dp), intent(inout) :: wa3(n)
            !! st%wa3
        real(dp), intent(inout), optional :: xd(n, st%msum)
            !! st%xd (lm_jac_difference)

        integer :: i, j, k, l
        real(dp) :: eps, h, s, temp

        do
            select case (st%stage)
            case (stage_start)
                ! the functions at the starting point
                xt = x
                call hy_request(st, lm_task_fvec, 1, stage_start_done)
                return

            case (stage_start_done)
                fvec = ft
                st%nfev = 1
                if (st%iflag < 0) then
                    st%stage = stage_finish
                    cycle
                end if
                ! no solve can start where they are not finite (not in MINPACK-1)
                if (.not. all_finite(n, fvec)) then
                    st%info = info_nonfinite_start
                    st%stage = stage_finish
                    cycle
                end if
                st%fnorm = enorm(n, fvec)
                st%iter = 1
                st%ncsuc = 0
                st%ncfail = 0
                st%nslow1 = 0
                st%nslow2 = 0
                st%stage = stage_outer

            case (stage_outer)
                st%jeval = .true.
                if (st%jac == lm_jac_user) then
                    call hy_request(st, lm_task_fjac, 2, stage_jac_done)
                    return
                end if
                ! the points of a forward-difference Jacobian (fdjac1's rule:
                ! with a band, the columns of group k, k, k + msum, ..., are
                ! perturbed together)
                eps = sqrt(max(st%epsfcn, epsmch))
                do k = 1, st%msum
                    xd(:, k) = x
                    do j = k, n, st%msum
                        h = eps * abs(x(j))
                        if (h == zero) h = eps
                        xd(j, k) = x(j) + h
                    end do
                end do
                st%ncol = st%msum
                call hy_request(st, lm_task_fdiff, 2, stage_jac_done)
                return

            case (stage_jac_done)
                if (st%jac == lm_jac_difference) then
                    st%nfev = st%nfev + st%msum
                    if (st%iflag < 0) then
                        st%stage = stage_finish
                        cycle
                    end if
                    ! column k of fjac holds f at the point of group k; each
                    ! column j of the group (j >= k) gets its quotients, in the
                    ! band only, from the last column down
                    eps = sqrt(max(st%epsfcn, epsmch))
                    do j = n, 1, -1
                        k = mod(j - 1, st%msum) + 1
                        h = eps * abs(x(j))
                        if (h == zero) h = eps
                        if (st%msum == n) then
                            do i = 1, n
                                fjac(i, j) = (fjac(i, k) - fvec(i)) / h
                            end do
                        else
                            do i = 1, n
                                if (i >= j - st%mu .and. i <= j + st%ml) then
                                    fjac(i, j) = (fjac(i, k) - fvec(i)) / h
                                else
                                    fjac(i, j) = zero
                                end if
                            end do
                        end if
                    end do
                else
                    st%njev = st%njev + 1
                    if (st%iflag < 0) then
                        st%stage = stage_finish
                        cycle
                    end if
                end if
                do j = 1, n
                    if (.not. all_finite(n, fjac(1:n, j))) then
                        st%info = info_nonfinite_jacobian
                        exit
                    end if
                end do
                if (st%info /= 0) then
                    st%stage = stage_finish
                    cycle
                end if

                ! QR factorisation without pivoting
                call qrfac(n, n, fjac, ldfjac, .false., ipvt, wa1, xt, wa3)

                ! on the first iteration, scale and set the initial step bound
                if (st%iter == 1) then
                    if (st%mode /= 2) then
                        do j = 1, n
                            diag(j) = xt(j)
                            if (xt(j) == zero) diag(j) = one
                        end do
                    end if
                    do j = 1, n
                        wa3(j) = diag(j) * x(j)
                    end do
                    st%xnorm = enorm(n, wa3)
                    st%delta = st%factor * st%xnorm
                    if (st%delta == zero) st%delta = st%factor
                end if

                ! Q^T fvec
                qtf = fvec
                do j = 1, n
                    if (fjac(j, j) /= zero) then
                        s = zero
                        do i = j, n
                            s = s + fjac(i, j) * qtf(i)
                        end do
                        temp = -s / fjac(j, j)
                        do i = j, n
                            qtf(i) = qtf(i) + fjac(i, j) * temp
                        end do
                    end if
                end do

                ! R, packed by rows
                st%sing = .false.
                do j = 1, n
                    l = j
                    do i = 1, j - 1
                        r(l) = fjac(i, j)
                        l = l + n - i
                    end do
                    r(l) = wa1(j)
                    if (wa1(j) == zero) st%sing = .true.
                end do

                ! Q itself
                call qform(n, n, fjac, ldfjac, wa1)

                if (st%mode /= 2) then
                    do j = 1, n
                        diag(j) = max(diag(j), xt(j))
                    end do
                end if
                st%stage = stage_inner

            case (stage_inner)
                ! every nprint iterations, a progress report first
                if (st%nprint > 0) then
                    st%iflag = 0
                    if (mod(st%iter - 1, st%nprint) == 0) then
                        call hy_request(st, lm_task_report, 0, stage_dogleg)
                        return
                    end if
                end if
                st%stage = stage_dogleg

            case (stage_dogleg)
                if (st%iflag < 0) then
                    st%stage = stage_finish
                    cycle
                end if
                ! dogleg step
                call dogleg(n, r, lr, diag, qtf, st%delta, wa1, xt, wa3)
                do j = 1, n
                    wa1(j) = -wa1(j)
                    xt(j) = x(j) + wa1(j)
                    wa3(j) = diag(j) * wa1(j)
                end do
                st%pnorm = enorm(n, wa3)
                if (st%iter == 1) st%delta = min(st%delta, st%pnorm)
                call hy_request(st, lm_task_fvec, 1, stage_trial_done)
                return

            case (stage_trial_done)
                st%nfev = st%nfev + 1
                if (st%iflag < 0) then
                    st%stage = stage_finish
                    cycle
                end if
                st%finite1 = all_finite(n, ft)
                if (st%finite1) then
                    st%fnorm1 = enorm(n, ft)
                else
                    ! not in MINPACK-1: functions that are not finite give
                    ! an infinite |fvec|, so the step fails below (actred =
                    ! -1, the step bound halved)
                    st%fnorm1 = ieee_value(one, ieee_positive_inf)
                end if

                ! actual and predicted relative reductions
                st%actred = -one
                if (st%fnorm1 < st%fnorm) st%actred = one - (st%fnorm1 / st%fnorm)**2
                l = 1
                do i = 1, n
                    s = zero
                    do j = i, n
                        s = s + r(l) * wa1(j)
                        l = l + 1
                    end do
                    wa3(i) = qtf(i) + s
                end do
                temp = enorm(n, wa3)
                st%prered = zero
                if (temp < st%fnorm) st%prered = one - (temp / st%fnorm)**2
                st%ratio = zero
                if (st%prered > zero) st%ratio = st%actred / st%prered

                ! update the step bound
                if (st%ratio < p1) then
                    st%ncsuc = 0
                    st%ncfail = st%ncfail + 1
                    st%delta = p5 * st%delta
                else
                    st%ncfail = 0
                    st%ncsuc = st%ncsuc + 1
                    if (st%ratio >= p5 .or. st%ncsuc > 1) &
                        st%delta = max(st%delta, st%pnorm / p5)
                    if (abs(st%ratio - one) <= p1) st%delta = st%pnorm / p5
                end if

                ! accept a successful step
                if (st%ratio >= p0001) then
                    do j = 1, n
                        x(j) = xt(j)
                        xt(j) = diag(j) * x(j)
                        fvec(j) = ft(j)
                    end do
                    st%xnorm = enorm(n, xt)
                    st%fnorm = st%fnorm1
                    st%iter = st%iter + 1
                end if

                ! progress counters
                st%nslow1 = st%nslow1 + 1
                if (st%actred >= p001) st%nslow1 = 0
                if (st%jeval) st%nslow2 = st%nslow2 + 1
                if (st%actred >= p1) st%nslow2 = 0

                ! convergence
                if (st%delta <= st%xtol * st%xnorm .or. st%fnorm == zero) st%info = 1
                if (st%info /= 0) then
                    st%stage = stage_finish
                    cycle
                end if

                ! tolerance too small, out of evaluations, or no progress
                if (st%nfev >= st%maxfev) st%info = 2
                if (p1 * max(p1 * st%delta, st%pnorm) <= epsmch * st%xnorm) st%info = 3
                if (st%nslow2 == 5) st%info = 4
                if (st%nslow1 == 10) st%info = 5
                if (st%info /= 0) then
                    st%stage = stage_finish
                    cycle
                end if

                ! two failures in a row: a fresh Jacobian
                if (st%ncfail == 2) then
                    st%stage = stage_outer
                    cycle
                end if

                ! Broyden rank-one update of R and of Q^T fvec, and of Q
                ! (skipped after a trial point that is not finite: not in
                ! MINPACK-1, whose update would spread the NaN into R and Q)
                if (st%finite1) then
                    do j = 1, n
                        s = zero
                        do i = 1, n
                            s = s + fjac(i, j) * ft(i)
                        end do
                        xt(j) = (s - wa3(j)) / st%pnorm
                        wa1(j) = diag(j) * ((diag(j) * wa1(j)) / st%pnorm)
                        if (st%ratio >= p0001) qtf(j) = s
                    end do
                    call r1updt(n, n, r, lr, wa1, xt, wa3, st%sing)
                    call r1mpyq(n, n, fjac, ldfjac, xt, wa3)
                    call r1mpyq(1, n, qtf, 1, xt, wa3)
                end if
                st%jeval = .false.
                st%stage = stage_inner

            case (stage_finish)
                if (st%iflag < 0) st%info = st%iflag
                st%iflag = 0
                if (st%nprint > 0) then
                    call hy_request(st, lm_task_report, 0, stage_done)
                    return
                end if
                st%stage = stage_done

            case default
                st%task = lm_task_done
                return
            end select
        end do
    end subroutine hy_advance

    !> Return from hy_step with a request: task, MINPACK's iflag for it, and
    !> the stage to resume from.
    pure subroutine hy_request(st, task, iflag, next)
        type(hy_state), intent(inout) :: st
            !! the solve
        integer, intent(in) :: task
            !! the request
        integer, intent(in) :: iflag
            !! MINPACK's iflag for it
        integer, intent(in) :: next
            !! the stage to resume from

        st%task = task
        st%iflag = iflag
        st%stage = next
    end subroutine hy_request

end module minpack_hybrid
