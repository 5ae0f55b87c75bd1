!> Kind and machine constants shared by the whole library, the `info`
!> values the solvers add to MINPACK-1's, and `user_data`, which every driver
!> uses to pass on its optional user-data argument.
!>
!> MINPACK-1 obtained the machine constants from `dpmpar`; we take them from
!> the Fortran intrinsics, so they are exact for whatever `real(dp)` is.
module minpack_kinds
    use, intrinsic :: iso_c_binding, only: c_double, c_ptr, c_null_ptr
    implicit none
    private

    public :: dp, epsmch, dwarf, giant
    public :: info_nonfinite_start, info_nonfinite_jacobian
    public :: user_data

    integer, parameter :: dp = c_double
        !! working precision: IEEE double, interoperable with C `double`

    real(dp), parameter :: epsmch = epsilon(1.0_dp)
        !! machine precision (MINPACK's dpmpar(1))
    real(dp), parameter :: dwarf = tiny(1.0_dp)
        !! smallest positive normalised magnitude (dpmpar(2))
    real(dp), parameter :: giant = huge(1.0_dp)
        !! largest finite magnitude (dpmpar(3))

    ! Not in MINPACK-1, which has no test for NaN or infinity: it then runs to
    ! maxfev or reports a convergence that did not happen. Numbered past 9 so
    ! that no value of any driver is reused (lmdif's go up to 8, and the Python
    ! package's leastsq reports 9 for a fit stopped by its callback).
    integer, parameter :: info_nonfinite_start = 10
        !! the residuals at the starting point are not all finite: the solver
        !! stops after that one evaluation (x and fvec are x0 and f(x0))
    integer, parameter :: info_nonfinite_jacobian = 11
        !! the Jacobian at the current x is not all finite (a user Jacobian
        !! with NaN or inf, or a difference quotient from a perturbed point
        !! where the residuals are not finite): the solver stops at that x
        !! (the last accepted iterate, whose residuals are finite)

contains

    !> The user data to hand to callbacks: the argument if present, else NULL.
    pure function user_data(udata) result(p)
        type(c_ptr), intent(in), optional :: udata
            !! the caller's user data, if it gave any
        type(c_ptr) :: p

        p = c_null_ptr
        if (present(udata)) p = udata
    end function user_data
end module minpack_kinds
