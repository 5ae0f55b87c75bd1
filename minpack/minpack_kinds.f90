!> Kind and machine constants shared by the whole library.
!>
!> MINPACK-1 obtained these from `dpmpar`; we take them from the Fortran
!> intrinsics, so they are exact for whatever `real(dp)` is.
module minpack_kinds
    use, intrinsic :: iso_c_binding, only: c_double
    implicit none
    private

    public :: dp, epsmch, dwarf, giant

    integer, parameter :: dp = c_double
        !! working precision: IEEE double, interoperable with C `double`

    real(dp), parameter :: epsmch = epsilon(1.0_dp)
        !! machine precision (MINPACK's dpmpar(1))
    real(dp), parameter :: dwarf = tiny(1.0_dp)
        !! smallest positive normalised magnitude (dpmpar(2))
    real(dp), parameter :: giant = huge(1.0_dp)
        !! largest finite magnitude (dpmpar(3))
end module minpack_kinds
