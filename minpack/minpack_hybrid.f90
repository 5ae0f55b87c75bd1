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
module minpack_hybrid
    use, intrinsic :: iso_c_binding, only: c_ptr
    use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_positive_inf
    use minpack_kinds, only: dp, epsmch, giant, info_nonfinite_start, &
        info_nonfinite_jacobian, user_data
    use minpack_linalg, only: enorm, qrfac, all_finite
    implicit none
    private

    public :: hybrd_fcn, hybrj_fcn
    public :: dogleg, fdjac1, qform, r1updt, r1mpyq
    public :: hybrd, hybrj, hybrd1, hybrj1

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

        integer :: njev

        call hybrid_core(n, x, fvec, fjac, ldfjac, xtol, maxfev, ml, mu, epsfcn, diag, &
                         mode, factor, nprint, info, nfev, njev, r, lr, qtf, &
                         user_data(udata), fdif=fcn)
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

        call hybrid_core(n, x, fvec, fjac, ldfjac, xtol, maxfev, n - 1, n - 1, zero, diag, &
                         mode, factor, nprint, info, nfev, njev, r, lr, qtf, &
                         user_data(udata), fder=fcn)
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

    !> The hybrid iteration shared by hybrd and hybrj; exactly one of fdif
    !> (difference Jacobian) and fder (user Jacobian) is present.
    recursive subroutine hybrid_core(n, x, fvec, fjac, ldfjac, xtol, maxfev, ml, mu, &
                                     epsfcn, diag, mode, factor, nprint, info, nfev, njev, &
                                     r, lr, qtf, udata, fdif, fder)
        integer, intent(in) :: n, ldfjac, maxfev, ml, mu, mode, nprint, lr
        real(dp), intent(inout) :: x(n), fvec(n), diag(n)
        real(dp), intent(out) :: fjac(ldfjac, n), r(lr), qtf(n)
        real(dp), intent(in) :: xtol, epsfcn, factor
        integer, intent(out) :: info, nfev, njev
        type(c_ptr), intent(in), value :: udata
        procedure(hybrd_fcn), optional :: fdif
        procedure(hybrj_fcn), optional :: fder

        real(dp), allocatable :: wa1(:), wa2(:), wa3(:), wa4(:)
        integer :: i, iflag, iter, j, l, msum, ncfail, ncsuc, nslow1, nslow2
        integer, allocatable :: ipvt(:)
        logical :: finite1, jeval, sing
        real(dp) :: actred, delta, fnorm, fnorm1, pnorm, prered, ratio, s, temp, xnorm

        info = 0
        iflag = 0
        nfev = 0
        njev = 0
        delta = zero
        xnorm = zero

        main: block
            ! check the input
            if (n <= 0 .or. xtol < zero .or. maxfev <= 0 .or. ml < 0 .or. mu < 0 &
                .or. factor <= zero .or. ldfjac < n .or. lr < (n * (n + 1)) / 2) exit main
            if (mode == 2) then
                do j = 1, n
                    if (.not. (diag(j) > zero)) exit main
                end do
            end if
            allocate(wa1(n), wa2(n), wa3(n), wa4(n), ipvt(n))

            ! the functions at the starting point; no solve can start where
            ! they are not finite (not in MINPACK-1)
            iflag = 1
            call evaluate(x, fvec)
            nfev = 1
            if (iflag < 0) exit main
            if (.not. all_finite(n, fvec)) then
                info = info_nonfinite_start
                exit main
            end if
            fnorm = enorm(n, fvec)

            msum = min(ml + mu + 1, n)
            iter = 1
            ncsuc = 0
            ncfail = 0
            nslow1 = 0
            nslow2 = 0

            outer: do
                jeval = .true.

                ! Jacobian
                iflag = 2
                if (present(fdif)) then
                    call fdjac1(fdif, n, x, fvec, fjac, ldfjac, iflag, ml, mu, epsfcn, &
                                wa1, wa2, udata)
                    nfev = nfev + msum
                else
                    call fder(n, x, fvec, fjac, ldfjac, iflag, udata)
                    njev = njev + 1
                end if
                if (iflag < 0) exit main
                do j = 1, n
                    if (.not. all_finite(n, fjac(1:n, j))) then
                        info = info_nonfinite_jacobian
                        exit main
                    end if
                end do

                ! QR factorisation without pivoting
                call qrfac(n, n, fjac, ldfjac, .false., ipvt, wa1, wa2, wa3)

                ! on the first iteration, scale and set the initial step bound
                if (iter == 1) then
                    if (mode /= 2) then
                        do j = 1, n
                            diag(j) = wa2(j)
                            if (wa2(j) == zero) diag(j) = one
                        end do
                    end if
                    do j = 1, n
                        wa3(j) = diag(j) * x(j)
                    end do
                    xnorm = enorm(n, wa3)
                    delta = factor * xnorm
                    if (delta == zero) delta = factor
                end if

                ! Q^T fvec
                do i = 1, n
                    qtf(i) = fvec(i)
                end do
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
                sing = .false.
                do j = 1, n
                    l = j
                    do i = 1, j - 1
                        r(l) = fjac(i, j)
                        l = l + n - i
                    end do
                    r(l) = wa1(j)
                    if (wa1(j) == zero) sing = .true.
                end do

                ! Q itself
                call qform(n, n, fjac, ldfjac, wa1)

                if (mode /= 2) then
                    do j = 1, n
                        diag(j) = max(diag(j), wa2(j))
                    end do
                end if

                inner: do
                    if (nprint > 0) then
                        iflag = 0
                        if (mod(iter - 1, nprint) == 0) call report()
                        if (iflag < 0) exit main
                    end if

                    ! dogleg step
                    call dogleg(n, r, lr, diag, qtf, delta, wa1, wa2, wa3)
                    do j = 1, n
                        wa1(j) = -wa1(j)
                        wa2(j) = x(j) + wa1(j)
                        wa3(j) = diag(j) * wa1(j)
                    end do
                    pnorm = enorm(n, wa3)
                    if (iter == 1) delta = min(delta, pnorm)

                    iflag = 1
                    call evaluate(wa2, wa4)
                    nfev = nfev + 1
                    if (iflag < 0) exit main
                    finite1 = all_finite(n, wa4)
                    if (finite1) then
                        fnorm1 = enorm(n, wa4)
                    else
                        ! not in MINPACK-1: functions that are not finite
                        ! give an infinite |fvec|, so the step fails below
                        ! (actred = -1, the step bound halved)
                        fnorm1 = ieee_value(one, ieee_positive_inf)
                    end if

                    ! actual and predicted relative reductions
                    actred = -one
                    if (fnorm1 < fnorm) actred = one - (fnorm1 / fnorm)**2
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
                    prered = zero
                    if (temp < fnorm) prered = one - (temp / fnorm)**2
                    ratio = zero
                    if (prered > zero) ratio = actred / prered

                    ! update the step bound
                    if (ratio < p1) then
                        ncsuc = 0
                        ncfail = ncfail + 1
                        delta = p5 * delta
                    else
                        ncfail = 0
                        ncsuc = ncsuc + 1
                        if (ratio >= p5 .or. ncsuc > 1) delta = max(delta, pnorm / p5)
                        if (abs(ratio - one) <= p1) delta = pnorm / p5
                    end if

                    ! accept a successful step
                    if (ratio >= p0001) then
                        do j = 1, n
                            x(j) = wa2(j)
                            wa2(j) = diag(j) * x(j)
                            fvec(j) = wa4(j)
                        end do
                        xnorm = enorm(n, wa2)
                        fnorm = fnorm1
                        iter = iter + 1
                    end if

                    ! progress counters
                    nslow1 = nslow1 + 1
                    if (actred >= p001) nslow1 = 0
                    if (jeval) nslow2 = nslow2 + 1
                    if (actred >= p1) nslow2 = 0

                    ! convergence
                    if (delta <= xtol * xnorm .or. fnorm == zero) info = 1
                    if (info /= 0) exit main

                    ! tolerance too small, out of evaluations, or no progress
                    if (nfev >= maxfev) info = 2
                    if (p1 * max(p1 * delta, pnorm) <= epsmch * xnorm) info = 3
                    if (nslow2 == 5) info = 4
                    if (nslow1 == 10) info = 5
                    if (info /= 0) exit main

                    ! two failures in a row: a fresh Jacobian
                    if (ncfail == 2) exit inner

                    ! Broyden rank-one update of R and of Q^T fvec, and of Q
                    ! (skipped after a trial point that is not finite: not in
                    ! MINPACK-1, whose update would spread the NaN into R and Q)
                    if (finite1) then
                        do j = 1, n
                            s = zero
                            do i = 1, n
                                s = s + fjac(i, j) * wa4(i)
                            end do
                            wa2(j) = (s - wa3(j)) / pnorm
                            wa1(j) = diag(j) * ((diag(j) * wa1(j)) / pnorm)
                            if (ratio >= p0001) qtf(j) = s
                        end do
                        call r1updt(n, n, r, lr, wa1, wa2, wa3, sing)
                        call r1mpyq(n, n, fjac, ldfjac, wa2, wa3)
                        call r1mpyq(1, n, qtf, 1, wa2, wa3)
                    end if
                    jeval = .false.
                end do inner
            end do outer
        end block main

        if (iflag < 0) info = iflag
        iflag = 0
        if (nprint > 0) call report()

    contains

        !> The functions at xx into f (iflag = 1), through whichever callback we have.
        subroutine evaluate(xx, f)
            real(dp), intent(in) :: xx(n)
            real(dp), intent(inout) :: f(n)

            if (present(fdif)) then
                call fdif(n, xx, f, iflag, udata)
            else
                call fder(n, xx, f, fjac, ldfjac, iflag, udata)
            end if
        end subroutine evaluate

        !> Progress hook: the callback with iflag = 0.
        subroutine report()
            if (present(fdif)) then
                call fdif(n, x, fvec, iflag, udata)
            else
                call fder(n, x, fvec, fjac, ldfjac, iflag, udata)
            end if
        end subroutine report
    end subroutine hybrid_core

end module minpack_hybrid
