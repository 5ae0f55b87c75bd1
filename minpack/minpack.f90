!> The whole public Fortran API of the library: `use minpack`.
module minpack
    use minpack_kinds, only: dp, epsmch, dwarf, giant, info_nonfinite_start, &
        info_nonfinite_jacobian
    use minpack_linalg, only: enorm, qrfac, qrsolv, lmpar, covar
    use minpack_lm, only: lmdif_fcn, lmdif_block_fcn, lmder_fcn, fdjac2, lmdif, lmder, lmdif1, lmder1
    use minpack_lmrows, only: lmstr_fcn, rwupdt, lmstr, lmstr1
    use minpack_derivcheck, only: chkder
    use minpack_hybrid, only: hybrd_fcn, hybrj_fcn, dogleg, fdjac1, qform, r1updt, r1mpyq, &
        hybrd, hybrj, hybrd1, hybrj1
    implicit none
    private

    public :: dp, epsmch, dwarf, giant
    public :: info_nonfinite_start, info_nonfinite_jacobian
    public :: enorm, qrfac, qrsolv, lmpar, covar
    public :: lmdif_fcn, lmdif_block_fcn, lmder_fcn, fdjac2, lmdif, lmder, lmdif1, lmder1
    public :: lmstr_fcn, rwupdt, lmstr, lmstr1
    public :: chkder
    public :: hybrd_fcn, hybrj_fcn, dogleg, fdjac1, qform, r1updt, r1mpyq
    public :: hybrd, hybrj, hybrd1, hybrj1
end module minpack
