!> Callback-free linear-algebra kernels of MINPACK-1.
!>
!> References: J. J. Moré, B. S. Garbow, K. E. Hillstrom, "User Guide for
!> MINPACK-1", Argonne National Laboratory report ANL-80-74 (1980), and
!> J. J. Moré, "The Levenberg-Marquardt algorithm: implementation and
!> theory", Lecture Notes in Mathematics 630 (1978), 105-116.
!>
!> Every routine here is pure: no state, no I/O, safe to call from any thread.
module minpack_linalg
    use, intrinsic :: iso_fortran_env, only: int32, int64
    use minpack_kinds, only: dp, epsmch, dwarf, giant
    implicit none
    private

    public :: enorm, qrfac, qrsolv, lmpar, covar
    public :: all_finite  ! for the solvers (not in MINPACK-1, not re-exported)

    real(dp), parameter :: zero = 0.0_dp, one = 1.0_dp
    real(dp), parameter :: p05 = 0.05_dp, p1 = 0.1_dp, p001 = 0.001_dp
    real(dp), parameter :: p25 = 0.25_dp, p5 = 0.5_dp

contains

    !> Euclidean norm of `x`, without destructive underflow or overflow.
    !>
    !> MINPACK-1 `enorm`: components are split into small, intermediate and
    !> large magnitudes; small and large ones are accumulated scaled by the
    !> largest component of their class. The class limits rdwarf and
    !> rgiant / n are MINPACK-1's own (about 2**(-64.5) and 2**63.5): they are
    !> part of the algorithm, chosen so that squares cannot underflow or
    !> overflow in any arithmetic MINPACK-1 supported, not properties of this
    !> machine; keeping them keeps the rounding, and so the iterates, of
    !> MINPACK-1 (and of SciPy) bit for bit.
    pure function enorm(n, x) result(norm)
        integer, intent(in) :: n
            !! number of components
        real(dp), intent(in) :: x(n)
            !! the vector
        real(dp) :: norm

        real(dp), parameter :: rdwarf = 3.834e-20_dp, rgiant = 1.304e19_dp
        real(dp) :: s1, s2, s3, x1max, x3max, xabs, agiant
        integer :: i

        s1 = zero
        s2 = zero
        s3 = zero
        x1max = zero
        x3max = zero
        agiant = rgiant / real(max(n, 1), dp)
        do i = 1, n
            xabs = abs(x(i))
            if (xabs > rdwarf .and. xabs < agiant) then
                s2 = s2 + xabs**2
            else if (xabs <= rdwarf) then
                if (xabs > x3max) then
                    s3 = one + s3 * (x3max / xabs)**2
                    x3max = xabs
                else if (xabs /= zero) then
                    s3 = s3 + (xabs / x3max)**2
                end if
            else
                ! large components (and NaN, which fails both tests above)
                if (xabs > x1max) then
                    s1 = one + s1 * (x1max / xabs)**2
                    x1max = xabs
                else
                    s1 = s1 + (xabs / x1max)**2
                end if
            end if
        end do

        if (s1 /= zero) then
            norm = x1max * sqrt(s1 + (s2 / x1max) / x1max)
        else if (s2 /= zero) then
            if (s2 >= x3max) then
                norm = sqrt(s2 * (one + (x3max / s2) * (x3max * s3)))
            else
                norm = sqrt(x3max * ((s2 / x3max) + (x3max * s3)))
            end if
        else
            norm = x3max * sqrt(s3)
        end if
    end function enorm

    !> Whether every component of `x` is finite (neither NaN nor infinite).
    !>
    !> Not in MINPACK-1: the solvers test the residuals and the Jacobian with
    !> it (see `info_nonfinite_start` in minpack_kinds). The test is a
    !> classification, not an arithmetic comparison, so it raises no
    !> floating-point flag whatever `x` holds.
    pure function all_finite(n, x) result(ok)
        integer, intent(in) :: n
            !! number of components
        real(dp), intent(in) :: x(n)
            !! the vector
        logical :: ok

        integer(int32), parameter :: expo = int(z'7FF00000', int32)
        integer(int32) :: e, bad
        integer :: i

        ! x(i) is finite unless the exponent field of its IEEE binary64
        ! pattern (bits 52..62, here in the high 32 bits) is all ones: a test
        ! on integers, so no floating-point flag, and without an early exit
        ! the loop vectorises (half the instructions of a test per element)
        bad = 0
        do i = 1, n
            e = int(iand(shiftr(transfer(x(i), 0_int64), 32), int(expo, int64)), int32)
            bad = ior(bad, merge(1_int32, 0_int32, e == expo))
        end do
        ok = bad == 0
    end function all_finite

    !> Householder QR factorisation of the m by n matrix `a`, with optional
    !> column pivoting: A P = Q R.
    !>
    !> MINPACK-1 `qrfac`. On exit the lower trapezoid of `a` holds the
    !> Householder vectors (Q = I - u u^T / u_1 for each column) and the strict
    !> upper triangle holds R without its diagonal, which is in `rdiag`.
    !> Column norms are downdated, and recomputed when cancellation makes the
    !> downdate unreliable.
    pure subroutine qrfac(m, n, a, lda, pivot, ipvt, rdiag, acnorm, wa)
        integer, intent(in) :: m
            !! number of rows
        integer, intent(in) :: n
            !! number of columns
        integer, intent(in) :: lda
            !! leading dimension of `a`, at least m
        real(dp), intent(inout) :: a(lda, n)
            !! in: the matrix; out: R (strict upper part) and Householder vectors
        logical, intent(in) :: pivot
            !! use column pivoting
        integer, intent(out) :: ipvt(n)
            !! column j of P is column ipvt(j) of the identity (set only if pivot)
        real(dp), intent(out) :: rdiag(n)
            !! diagonal of R
        real(dp), intent(out) :: acnorm(n)
            !! norms of the columns of the input matrix
        real(dp), intent(out) :: wa(n)
            !! work array

        integer :: i, j, k, kmax, jp1, itmp
        real(dp) :: ajnorm, s, temp

        do j = 1, n
            acnorm(j) = enorm(m, a(1:m, j))
            rdiag(j) = acnorm(j)
            wa(j) = rdiag(j)
            if (pivot) ipvt(j) = j
        end do

        do j = 1, min(m, n)
            if (pivot) then
                ! bring the column of largest remaining norm into the pivot position
                kmax = j
                do k = j, n
                    if (rdiag(k) > rdiag(kmax)) kmax = k
                end do
                if (kmax /= j) then
                    do i = 1, m
                        temp = a(i, j)
                        a(i, j) = a(i, kmax)
                        a(i, kmax) = temp
                    end do
                    rdiag(kmax) = rdiag(j)
                    wa(kmax) = wa(j)
                    itmp = ipvt(j)
                    ipvt(j) = ipvt(kmax)
                    ipvt(kmax) = itmp
                end if
            end if

            ! Householder transformation reducing column j to a multiple of e_j
            ajnorm = enorm(m - j + 1, a(j:m, j))
            if (ajnorm /= zero) then
                if (a(j, j) < zero) ajnorm = -ajnorm
                do i = j, m
                    a(i, j) = a(i, j) / ajnorm
                end do
                a(j, j) = a(j, j) + one

                ! apply it to the remaining columns and downdate their norms
                jp1 = j + 1
                do k = jp1, n
                    s = zero
                    do i = j, m
                        s = s + a(i, j) * a(i, k)
                    end do
                    temp = s / a(j, j)
                    do i = j, m
                        a(i, k) = a(i, k) - temp * a(i, j)
                    end do
                    if (pivot .and. rdiag(k) /= zero) then
                        temp = a(j, k) / rdiag(k)
                        rdiag(k) = rdiag(k) * sqrt(max(zero, one - temp**2))
                        if (p05 * (rdiag(k) / wa(k))**2 <= epsmch) then
                            rdiag(k) = enorm(m - j, a(jp1:m, k))
                            wa(k) = rdiag(k)
                        end if
                    end if
                end do
            end if
            rdiag(j) = -ajnorm
        end do
    end subroutine qrfac

    !> Solve the least-squares problem  [A; D] x ~ [b; 0]  given the QR
    !> factorisation A P = Q R with  qtb = first n components of Q^T b.
    !>
    !> MINPACK-1 `qrsolv`. Givens rotations eliminate the diagonal matrix D,
    !> giving the triangular S with P^T (A^T A + D D) P = S^T S. S is returned
    !> in the strict lower triangle of `r` and in `sdiag`; the upper triangle
    !> and diagonal of `r` are unchanged. A singular S gives the least-squares
    !> solution with the trailing components set to zero.
    pure subroutine qrsolv(n, r, ldr, ipvt, diag, qtb, x, sdiag, wa)
        integer, intent(in) :: n
            !! order of r
        integer, intent(in) :: ldr
            !! leading dimension of r
        real(dp), intent(inout) :: r(ldr, n)
            !! upper triangle: R (kept); strict lower triangle: S^T on exit
        integer, intent(in) :: ipvt(n)
            !! the permutation P
        real(dp), intent(in) :: diag(n)
            !! the diagonal of D
        real(dp), intent(in) :: qtb(n)
            !! first n components of Q^T b
        real(dp), intent(out) :: x(n)
            !! the solution
        real(dp), intent(out) :: sdiag(n)
            !! diagonal of S
        real(dp), intent(out) :: wa(n)
            !! work array

        integer :: i, j, k, l, nsing
        real(dp) :: cs, sn, ct, tn, qtbpj, s, temp

        ! copy R and Q^T b, saving the diagonal of R in x
        do j = 1, n
            do i = j, n
                r(i, j) = r(j, i)
            end do
            x(j) = r(j, j)
            wa(j) = qtb(j)
        end do

        ! eliminate D with Givens rotations
        do j = 1, n
            l = ipvt(j)
            if (diag(l) /= zero) then
                do k = j, n
                    sdiag(k) = zero
                end do
                sdiag(j) = diag(l)
                ! the rotations modify only one element of Q^T b beyond the first n
                qtbpj = zero
                do k = j, n
                    if (sdiag(k) == zero) cycle
                    if (abs(r(k, k)) < abs(sdiag(k))) then
                        ct = r(k, k) / sdiag(k)
                        sn = p5 / sqrt(p25 + p25 * ct**2)
                        cs = sn * ct
                    else
                        tn = sdiag(k) / r(k, k)
                        cs = p5 / sqrt(p25 + p25 * tn**2)
                        sn = cs * tn
                    end if
                    r(k, k) = cs * r(k, k) + sn * sdiag(k)
                    temp = cs * wa(k) + sn * qtbpj
                    qtbpj = -sn * wa(k) + cs * qtbpj
                    wa(k) = temp
                    do i = k + 1, n
                        temp = cs * r(i, k) + sn * sdiag(i)
                        sdiag(i) = -sn * r(i, k) + cs * sdiag(i)
                        r(i, k) = temp
                    end do
                end do
            end if
            ! store the diagonal of S and restore the diagonal of R
            sdiag(j) = r(j, j)
            r(j, j) = x(j)
        end do

        ! back-substitution; a singular S gives a least-squares solution
        nsing = n
        do j = 1, n
            if (sdiag(j) == zero .and. nsing == n) nsing = j - 1
            if (nsing < n) wa(j) = zero
        end do
        do j = nsing, 1, -1
            s = zero
            do i = j + 1, nsing
                s = s + r(i, j) * wa(i)
            end do
            wa(j) = (wa(j) - s) / sdiag(j)
        end do

        do j = 1, n
            x(ipvt(j)) = wa(j)
        end do
    end subroutine qrsolv

    !> Levenberg-Marquardt parameter: find par >= 0 such that the solution x
    !> of  [A; sqrt(par) D] x ~ [b; 0]  satisfies  |D x| ~ delta  (within 10%),
    !> or par = 0 if the Gauss-Newton step is already inside the trust region.
    !>
    !> MINPACK-1 `lmpar` (Moré 1978, section 5): safeguarded Newton iteration
    !> on phi(par) = |D x(par)| - delta, at most 10 iterations, from the
    !> bounds parl (exact when A has full rank) and paru.
    pure subroutine lmpar(n, r, ldr, ipvt, diag, qtb, delta, par, x, sdiag, wa1, wa2)
        integer, intent(in) :: n
            !! order of r
        integer, intent(in) :: ldr
            !! leading dimension of r
        real(dp), intent(inout) :: r(ldr, n)
            !! upper triangle: R (kept); strict lower triangle: overwritten
        integer, intent(in) :: ipvt(n)
            !! the permutation P of A P = Q R
        real(dp), intent(in) :: diag(n)
            !! the diagonal scaling D (nonzero)
        real(dp), intent(in) :: qtb(n)
            !! first n components of Q^T b
        real(dp), intent(in) :: delta
            !! trust-region radius (positive)
        real(dp), intent(inout) :: par
            !! in: initial estimate; out: the parameter
        real(dp), intent(out) :: x(n)
            !! the step
        real(dp), intent(out) :: sdiag(n)
            !! diagonal of S (see qrsolv)
        real(dp), intent(out) :: wa1(n)
            !! work array
        real(dp), intent(out) :: wa2(n)
            !! work array

        integer :: i, iter, j, l, nsing
        real(dp) :: dxnorm, fp, gnorm, parc, parl, paru, s, temp

        ! Gauss-Newton direction (least-squares solution if R is singular)
        nsing = n
        do j = 1, n
            wa1(j) = qtb(j)
            if (r(j, j) == zero .and. nsing == n) nsing = j - 1
            if (nsing < n) wa1(j) = zero
        end do
        do j = nsing, 1, -1
            wa1(j) = wa1(j) / r(j, j)
            temp = wa1(j)
            do i = 1, j - 1
                wa1(i) = wa1(i) - r(i, j) * temp
            end do
        end do
        do j = 1, n
            x(ipvt(j)) = wa1(j)
        end do

        iter = 0
        do j = 1, n
            wa2(j) = diag(j) * x(j)
        end do
        dxnorm = enorm(n, wa2)
        fp = dxnorm - delta
        if (fp <= p1 * delta) then
            par = zero
            return
        end if

        ! lower bound parl: a Newton step from par = 0 (only if R has full rank)
        parl = zero
        if (nsing >= n) then
            do j = 1, n
                l = ipvt(j)
                wa1(j) = diag(l) * (wa2(l) / dxnorm)
            end do
            do j = 1, n
                s = zero
                do i = 1, j - 1
                    s = s + r(i, j) * wa1(i)
                end do
                wa1(j) = (wa1(j) - s) / r(j, j)
            end do
            temp = enorm(n, wa1)
            parl = ((fp / delta) / temp) / temp
        end if

        ! upper bound paru
        do j = 1, n
            s = zero
            do i = 1, j
                s = s + r(i, j) * qtb(i)
            end do
            l = ipvt(j)
            wa1(j) = s / diag(l)
        end do
        gnorm = enorm(n, wa1)
        paru = gnorm / delta
        if (paru == zero) paru = dwarf / min(delta, p1)

        ! start inside [parl, paru]
        par = max(par, parl)
        par = min(par, paru)
        if (par == zero) par = gnorm / dxnorm

        do
            iter = iter + 1
            if (par == zero) par = max(dwarf, p001 * paru)
            temp = sqrt(par)
            do j = 1, n
                wa1(j) = temp * diag(j)
            end do
            call qrsolv(n, r, ldr, ipvt, wa1, qtb, x, sdiag, wa2)
            do j = 1, n
                wa2(j) = diag(j) * x(j)
            end do
            dxnorm = enorm(n, wa2)
            temp = fp
            fp = dxnorm - delta

            ! accept par if phi is small enough, or if the lower bound is zero
            ! and phi has increased while negative, or after 10 iterations
            if (abs(fp) <= p1 * delta .or. &
                (parl == zero .and. fp <= temp .and. temp < zero) .or. &
                iter == 10) exit

            ! Newton correction
            do j = 1, n
                l = ipvt(j)
                wa1(j) = diag(l) * (wa2(l) / dxnorm)
            end do
            do j = 1, n
                wa1(j) = wa1(j) / sdiag(j)
                temp = wa1(j)
                do i = j + 1, n
                    wa1(i) = wa1(i) - r(i, j) * temp
                end do
            end do
            temp = enorm(n, wa1)
            parc = ((fp / delta) / temp) / temp

            if (fp > zero) parl = max(parl, par)
            if (fp < zero) paru = min(paru, par)
            par = max(parl, par + parc)
        end do
    end subroutine lmpar

    !> Unscaled covariance (J^T J)^(-1) = P R^(-1) R^(-T) P^T from the QR
    !> factorisation J P = Q R left by lmdif/lmder.
    !>
    !> Not in MINPACK-1 (whose later `covar` truncates rank with a
    !> tolerance): this follows SciPy's `leastsq`, which inverts the triangle
    !> R and fails only when R is exactly singular. `info` = 0 on success,
    !> otherwise the index of the first zero diagonal element of R, and `cov`
    !> is then left undefined.
    pure subroutine covar(n, r, ldr, ipvt, cov, ldcov, info)
        integer, intent(in) :: n
            !! number of parameters
        integer, intent(in) :: ldr
            !! leading dimension of r
        real(dp), intent(in) :: r(ldr, n)
            !! upper triangle holds R (its diagonal included)
        integer, intent(in) :: ipvt(n)
            !! the permutation P (1-based)
        integer, intent(in) :: ldcov
            !! leading dimension of cov, at least n
        real(dp), intent(out) :: cov(ldcov, n)
            !! the n by n covariance matrix
        integer, intent(out) :: info
            !! 0, or the index of a zero diagonal element of R

        real(dp), allocatable :: rinv(:, :)
        integer :: i, j, k
        real(dp) :: s

        info = 0
        do j = 1, n
            if (r(j, j) == zero) then
                info = j
                return
            end if
        end do

        ! T = R^(-1), column by column: T(1:j-1, j) = -T(1:j-1, 1:j-1) R(1:j-1, j) / r(j, j)
        allocate(rinv(n, n), source=zero)
        do j = 1, n
            rinv(j, j) = one / r(j, j)
            do i = 1, j - 1
                s = zero
                do k = i, j - 1
                    s = s + rinv(i, k) * r(k, j)
                end do
                rinv(i, j) = -s * rinv(j, j)
            end do
        end do

        ! (P T)(P T)^T: row i of T is row ipvt(i) of P T
        do j = 1, n
            do i = 1, n
                s = zero
                do k = max(i, j), n
                    s = s + rinv(i, k) * rinv(j, k)
                end do
                cov(ipvt(i), ipvt(j)) = s
            end do
        end do
    end subroutine covar

end module minpack_linalg
