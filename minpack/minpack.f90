!> The whole public Fortran API of the library: `use minpack`.
module minpack
    use minpack_kinds, only: dp, epsmch, dwarf, giant, info_nonfinite_start, &
        info_nonfinite_jacobian
    use minpack_linalg, only: enorm, qrfac, qrsolv, lmpar, covar
    use minpack_lm, only: lmdif_fcn, lmdif_block_fcn, lmder_fcn, fdjac2, lmdif, lmder, lmdif1, lmder1, &
        lm_state, lm_init, lm_step, lm_active, lm_task_done, lm_task_report, lm_task_fvec, &
        lm_task_fjac, lm_task_fdiff, lm_jac_difference, lm_jac_user
    use minpack_lmrows, only: lmstr_fcn, rwupdt, lmstr, lmstr1
    use minpack_derivcheck, only: chkder
    use minpack_hybrid, only: hybrd_fcn, hybrj_fcn, dogleg, fdjac1, qform, r1updt, r1mpyq, &
        hybrd, hybrj, hybrd1, hybrj1, hy_state, hy_init, hy_step
    implicit none
    private

    public :: dp, epsmch, dwarf, giant
    public :: info_nonfinite_start, info_nonfinite_jacobian
    public :: enorm, qrfac, qrsolv, lmpar, covar
    public :: lmdif_fcn, lmdif_block_fcn, lmder_fcn, fdjac2, lmdif, lmder, lmdif1, lmder1
    public :: lm_state, lm_init, lm_step, lm_active
    public :: lm_task_done, lm_task_report, lm_task_fvec, lm_task_fjac, lm_task_fdiff
    public :: lm_jac_difference, lm_jac_user
    public :: lmstr_fcn, rwupdt, lmstr, lmstr1
    public :: chkder
    public :: hybrd_fcn, hybrj_fcn, dogleg, fdjac1, qform, r1updt, r1mpyq
    public :: hybrd, hybrj, hybrd1, hybrj1
    public :: hy_state, hy_init, hy_step
end module minpack
