!> Glue between the f2py extension (see _minpack.pyf) and the Fortran library.
!>
!> One solver call = one `fit_callbacks` value on the stack, whose address the
!> library hands back to the adapters below as user data. Nothing is stored in
!> module variables, so calls are reentrant and thread-safe.
!>
!> The callbacks of a fit are either Python functions, reached through the C
!> trampoline (_trampoline.c) with the address of a context tuple built in
!> Python, or compiled C functions (see minpack/minpack_capi.f90). An optional
!> Python `progress` function is called once per iteration (MINPACK's nprint
!> hook), through the trampoline too.
!>
!> For Python residuals, `fvec` normally holds the residuals at x0 on entry
!> (have_f0 = 1: Python evaluated them once to learn m), so the solver's own
!> first evaluation is answered from that buffer instead of calling Python
!> again.
module minpack_pyglue
    use, intrinsic :: iso_c_binding, only: c_ptr, c_loc, c_f_pointer, c_intptr_t, &
        c_funptr, c_null_ptr, c_null_funptr, c_int, c_double, c_associated
    use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan
    use minpack_kinds, only: dp
    use minpack_linalg, only: enorm, covar
    use minpack_lm, only: lmdif, lmder
    use minpack_hybrid, only: hybrd, hybrj
    use minpack_capi, only: c_callbacks, call_func, call_func_jac
    implicit none
    private

    public :: fit_callbacks, python_callbacks, compiled_callbacks, run_lm, run_hybrid, lm_batch

    interface
        !> The residual callback of the Python path, in C (_trampoline.c):
        !> calls the Python function described by the tuple at ctx.
        function minpack_py_residual(m, n, x, fvec, ctx) result(status) bind(c)
            import :: c_int, c_double, c_ptr
            implicit none
            integer(c_int), intent(in), value :: m, n
            real(c_double), intent(in) :: x(n)
            real(c_double), intent(inout) :: fvec(m)
            type(c_ptr), intent(in), value :: ctx
            integer(c_int) :: status
        end function minpack_py_residual

        !> The block callback of a vectorized Python fit, in C (_trampoline.c).
        function minpack_py_block(m, n, k, x, fvec, ctx) result(status) bind(c)
            import :: c_int, c_double, c_ptr
            implicit none
            integer(c_int), intent(in), value :: m, n, k
            real(c_double), intent(in) :: x(n, k)
            real(c_double), intent(inout) :: fvec(m, k)
            type(c_ptr), intent(in), value :: ctx
            integer(c_int) :: status
        end function minpack_py_block

        !> The Jacobian callback of the Python path, in C (_trampoline.c).
        function minpack_py_jacobian(m, n, x, fjac, ldfjac, ctx) result(status) bind(c)
            import :: c_int, c_double, c_ptr
            implicit none
            integer(c_int), intent(in), value :: m, n
            real(c_double), intent(in) :: x(n)
            real(c_double), intent(inout) :: fjac(ldfjac, n)
            integer(c_int), intent(in), value :: ldfjac
            type(c_ptr), intent(in), value :: ctx
            integer(c_int) :: status
        end function minpack_py_jacobian

        !> The progress report of a fit, in C (_trampoline.c): calls the
        !> Python function at ctx with (nfev, x, fvec).
        function minpack_py_progress(nfev, m, n, x, fvec, ctx) result(status) bind(c)
            import :: c_int, c_double, c_ptr
            implicit none
            integer(c_int), intent(in), value :: nfev, m, n
            real(c_double), intent(in) :: x(n)
            real(c_double), intent(in) :: fvec(m)
            type(c_ptr), intent(in), value :: ctx
            integer(c_int) :: status
        end function minpack_py_progress
    end interface

    !> The callbacks of one solver call.
    type :: fit_callbacks
        type(c_callbacks) :: c
            !! the compiled functions, used when `compiled` is true
        logical :: compiled = .false.
        type(c_ptr) :: pyctx = c_null_ptr
            !! otherwise: the residuals through minpack_py_residual with this context
        type(c_ptr) :: pyjctx = c_null_ptr
            !! and the Jacobian through minpack_py_jacobian with this one
        logical :: blocks = .false.
            !! lmdif evaluates the points of a difference Jacobian in one call
            !! (minpack_py_block, with pyctx)
        type(c_ptr) :: progctx = c_null_ptr
            !! when not NULL: a Python progress report every iteration
        logical :: have_f0 = .false.
            !! fvec holds the residuals at x0: skip the first evaluation
        integer :: nfev = 0
            !! residual evaluations so far (reported to progress)
        integer :: last_iflag = 0
            !! iflag of the previous request (2 before each iteration's report)
    end type fit_callbacks

contains

    !> Callbacks for Python functions: the addresses of their context tuples
    !> (pyjctx 0: no Jacobian; progctx 0: no progress report).
    pure function python_callbacks(pyctx, pyjctx, progctx, blocks, have_f0) result(cb)
        integer(c_intptr_t), intent(in) :: pyctx, pyjctx, progctx
        logical, intent(in) :: blocks, have_f0
        type(fit_callbacks) :: cb

        cb%pyctx = transfer(pyctx, c_null_ptr)
        cb%pyjctx = transfer(pyjctx, c_null_ptr)
        cb%progctx = transfer(progctx, c_null_ptr)
        cb%blocks = blocks
        cb%have_f0 = have_f0
    end function python_callbacks

    !> Callbacks for compiled functions given by address (0: no Jacobian).
    pure function compiled_callbacks(faddr, jaddr, uaddr) result(cb)
        integer(c_intptr_t), intent(in) :: faddr, jaddr, uaddr
        type(fit_callbacks) :: cb

        cb%compiled = .true.
        cb%c = c_callbacks(transfer(faddr, c_null_funptr), transfer(jaddr, c_null_funptr), &
                           transfer(uaddr, c_null_ptr))
    end function compiled_callbacks

    !> lmdif/hybrd callback: residuals (iflag 1 or 2) or the progress report.
    recursive subroutine fcn_adapter(m, n, x, fvec, iflag, udata)
        integer, intent(in) :: m, n
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(m)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        type(fit_callbacks), pointer :: cb

        call c_f_pointer(udata, cb)
        if (iflag == 0) then
            call report(cb, m, n, x, fvec, iflag)
        else
            call residuals(cb, m, n, x, fvec, iflag)
        end if
    end subroutine fcn_adapter

    !> lmder/hybrj callback: residuals (iflag 1), Jacobian (2), or the report (0).
    recursive subroutine fcn_jac_adapter(m, n, x, fvec, fjac, ldfjac, iflag, udata)
        integer, intent(in) :: m, n, ldfjac
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(m), fjac(ldfjac, n)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        type(fit_callbacks), pointer :: cb

        call c_f_pointer(udata, cb)
        select case (iflag)
        case (0)
            call report(cb, m, n, x, fvec, iflag)
        case (1)
            call residuals(cb, m, n, x, fvec, iflag)
        case (2)
            cb%last_iflag = 2
            if (cb%compiled) then
                call call_func_jac(m, n, x, fvec, fjac, ldfjac, iflag, c_loc(cb%c))
            else
                call stop_on(int(minpack_py_jacobian(m, n, x, fjac, ldfjac, cb%pyjctx)), iflag)
            end if
        end select
    end subroutine fcn_jac_adapter

    recursive subroutine fcn_adapter_square(n, x, fvec, iflag, udata)
        integer, intent(in) :: n
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(n)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        call fcn_adapter(n, n, x, fvec, iflag, udata)
    end subroutine fcn_adapter_square

    recursive subroutine fcn_jac_adapter_square(n, x, fvec, fjac, ldfjac, iflag, udata)
        integer, intent(in) :: n, ldfjac
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(n), fjac(ldfjac, n)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        call fcn_jac_adapter(n, n, x, fvec, fjac, ldfjac, iflag, udata)
    end subroutine fcn_jac_adapter_square

    !> lmdif block callback: the n points of a difference Jacobian in one call.
    recursive subroutine block_adapter(m, n, k, x, fvec, iflag, udata)
        integer, intent(in) :: m, n, k
        real(dp), intent(in) :: x(n, k)
        real(dp), intent(inout) :: fvec(m, k)
        integer, intent(inout) :: iflag
        type(c_ptr), intent(in), value :: udata

        type(fit_callbacks), pointer :: cb

        call c_f_pointer(udata, cb)
        cb%nfev = cb%nfev + k
        cb%last_iflag = iflag
        call stop_on(int(minpack_py_block(m, n, k, x, fvec, cb%pyctx)), iflag)
    end subroutine block_adapter

    !> One residual evaluation; the first is answered from the buffer when it
    !> already holds the residuals at x0.
    recursive subroutine residuals(cb, m, n, x, fvec, iflag)
        type(fit_callbacks), intent(inout), target :: cb
        integer, intent(in) :: m, n
        real(dp), intent(in) :: x(n)
        real(dp), intent(inout) :: fvec(m)
        integer, intent(inout) :: iflag

        cb%nfev = cb%nfev + 1
        cb%last_iflag = iflag
        if (cb%have_f0) then
            cb%have_f0 = .false.
        else if (cb%compiled) then
            call call_func(m, n, x, fvec, iflag, c_loc(cb%c))
        else
            call stop_on(int(minpack_py_residual(m, n, x, fvec, cb%pyctx)), iflag)
        end if
    end subroutine residuals

    !> MINPACK's iflag = 0 call. The library makes it at the start of each
    !> iteration, right after the Jacobian, and once more when it stops; only
    !> the former reach Python.
    recursive subroutine report(cb, m, n, x, fvec, iflag)
        type(fit_callbacks), intent(inout) :: cb
        integer, intent(in) :: m, n
        real(dp), intent(in) :: x(n)
        real(dp), intent(in) :: fvec(m)
        integer, intent(inout) :: iflag

        if (cb%last_iflag /= 2 .or. .not. c_associated(cb%progctx)) return
        cb%last_iflag = 0
        call stop_on(int(minpack_py_progress(cb%nfev, m, n, x, fvec, cb%progctx)), iflag)
    end subroutine report

    !> A non-zero status from Python becomes a negative iflag.
    pure subroutine stop_on(status, iflag)
        integer, intent(in) :: status
        integer, intent(inout) :: iflag

        if (status /= 0) iflag = -abs(status)
    end subroutine stop_on

    !> lmdif (use_jac false) or lmder (true) through the adapters; with
    !> cb%blocks, lmdif evaluates difference Jacobians in one call.
    recursive subroutine run_lm(cb, use_jac, nprint, m, n, x, fvec, ftol, xtol, gtol, &
                                maxfev, epsfcn, diag, mode, factor, fjac, ipvt, qtf, &
                                info, nfev, njev)
        type(fit_callbacks), intent(inout), target :: cb
        logical, intent(in) :: use_jac
        integer, intent(in) :: nprint, m, n, maxfev, mode
        real(dp), intent(inout) :: x(n), fvec(m), diag(n)
        real(dp), intent(in) :: ftol, xtol, gtol, epsfcn, factor
        real(dp), intent(out) :: fjac(m, n), qtf(n)
        integer, intent(out) :: ipvt(n), info, nfev, njev

        if (use_jac) then
            call lmder(fcn_jac_adapter, m, n, x, fvec, fjac, m, ftol, xtol, gtol, maxfev, &
                       diag, mode, factor, nprint, info, nfev, njev, ipvt, qtf, c_loc(cb))
        else if (cb%blocks) then
            njev = 0
            call lmdif(fcn_adapter, m, n, x, fvec, ftol, xtol, gtol, maxfev, epsfcn, diag, &
                       mode, factor, nprint, info, nfev, fjac, m, ipvt, qtf, c_loc(cb), &
                       block_adapter)
        else
            njev = 0
            call lmdif(fcn_adapter, m, n, x, fvec, ftol, xtol, gtol, maxfev, epsfcn, diag, &
                       mode, factor, nprint, info, nfev, fjac, m, ipvt, qtf, c_loc(cb))
        end if
    end subroutine run_lm

    !> hybrd (use_jac false) or hybrj (true) through the adapters.
    recursive subroutine run_hybrid(cb, use_jac, n, x, fvec, xtol, maxfev, ml, mu, epsfcn, &
                                    diag, mode, factor, fjac, r, qtf, info, nfev, njev)
        type(fit_callbacks), intent(inout), target :: cb
        logical, intent(in) :: use_jac
        integer, intent(in) :: n, maxfev, ml, mu, mode
        real(dp), intent(inout) :: x(n), fvec(n), diag(n)
        real(dp), intent(in) :: xtol, epsfcn, factor
        real(dp), intent(out) :: fjac(n, n), r((n * (n + 1)) / 2), qtf(n)
        integer, intent(out) :: info, nfev, njev

        if (use_jac) then
            call hybrj(fcn_jac_adapter_square, n, x, fvec, fjac, n, xtol, maxfev, diag, mode, &
                       factor, 0, info, nfev, njev, r, size(r), qtf, c_loc(cb))
        else
            njev = 0
            call hybrd(fcn_adapter_square, n, x, fvec, xtol, maxfev, ml, mu, epsfcn, diag, &
                       mode, factor, 0, info, nfev, fjac, n, r, size(r), qtf, c_loc(cb))
        end if
    end subroutine run_hybrid

    !> k independent fits with compiled callbacks; problem p gets the user data
    !> ubase + (p - 1) * ustride and starts from x(:, p). Per problem: the final
    !> x, ier, nfev, njev, |fvec|, and on request fvec and the unscaled
    !> covariance (NaN where it is undefined: singular R or ier not 1-4).
    recursive subroutine lm_batch(faddr, jaddr, ubase, ustride, m, n, k, x, ftol, xtol, &
                                  gtol, maxfev, epsfcn, diag0, mode, factor, want_fvec, &
                                  fvec, want_cov, cov, fnorm, ier, nfev, njev)
        integer(c_intptr_t), intent(in) :: faddr, jaddr, ubase, ustride
        integer, intent(in) :: m, n, k, maxfev, mode
        real(dp), intent(inout) :: x(n, k)
        real(dp), intent(in) :: ftol, xtol, gtol, epsfcn, factor, diag0(n)
        logical, intent(in) :: want_fvec, want_cov
        real(dp), intent(inout) :: fvec(m, *), cov(n, n, *)
        real(dp), intent(out) :: fnorm(k)
        integer, intent(out) :: ier(k), nfev(k), njev(k)

        type(fit_callbacks), target :: cb
        real(dp), allocatable :: fv(:), fjac(:, :), qtf(:), diag(:)
        integer, allocatable :: ipvt(:)
        integer :: p, cinfo

        allocate(fv(m), fjac(m, n), qtf(n), diag(n), ipvt(n))
        do p = 1, k
            cb = compiled_callbacks(faddr, jaddr, ubase + (p - 1) * ustride)
            diag = diag0
            call run_lm(cb, jaddr /= 0, 0, m, n, x(:, p), fv, ftol, xtol, gtol, maxfev, &
                        epsfcn, diag, mode, factor, fjac, ipvt, qtf, ier(p), nfev(p), njev(p))
            fnorm(p) = enorm(m, fv)
            if (want_fvec) fvec(:, p) = fv
            if (want_cov) then
                cinfo = 1
                if (ier(p) >= 1 .and. ier(p) <= 4) call covar(n, fjac, m, ipvt, cov(:, :, p), &
                                                              n, cinfo)
                if (cinfo /= 0) cov(:, :, p) = ieee_value(1.0_dp, ieee_quiet_nan)
            end if
        end do
    end subroutine lm_batch

end module minpack_pyglue


!> Least squares with Python residuals (and Jacobian, and progress report):
!> Least squares with Python functions: wrapped by f2py as _minpack.lm (holds
!> the GIL). pyctx, pyjctx, progctx: addresses of the context tuples of the
!> residuals, the Jacobian (0: lmdif) and the progress report (0: none).
subroutine minpack_py_lm(pyctx, pyjctx, progctx, use_block, have_f0, m, n, x, fvec, ftol, &
                         xtol, gtol, maxfev, epsfcn, diag, mode, factor, fjac, ipvt, qtf, &
                         info, nfev, njev)
    use, intrinsic :: iso_c_binding, only: c_intptr_t
    use minpack_kinds, only: dp
    use minpack_pyglue, only: fit_callbacks, python_callbacks, run_lm
    implicit none
    integer(c_intptr_t), intent(in) :: pyctx, pyjctx, progctx
    integer, intent(in) :: use_block, have_f0, m, n, maxfev, mode
    real(dp), intent(inout) :: x(n), fvec(m), diag(n)
    real(dp), intent(in) :: ftol, xtol, gtol, epsfcn, factor
    real(dp), intent(out) :: fjac(m, n), qtf(n)
    integer, intent(out) :: ipvt(n), info, nfev, njev

    type(fit_callbacks), target :: cb

    cb = python_callbacks(pyctx, pyjctx, progctx, use_block /= 0, have_f0 /= 0)
    call run_lm(cb, pyjctx /= 0, merge(1, 0, progctx /= 0), m, n, x, fvec, ftol, xtol, &
                gtol, maxfev, epsfcn, diag, mode, factor, fjac, ipvt, qtf, info, nfev, njev)
end subroutine minpack_py_lm


!> Least squares with compiled residuals (and Jacobian when jaddr /= 0),
!> without Python: called by _fastpath.c (_minpack.lm_compiled), which
!> releases the GIL.
subroutine minpack_glue_lm_compiled(faddr, jaddr, uaddr, m, n, x, fvec, ftol, xtol, gtol, &
                                    maxfev, epsfcn, diag, mode, factor, fjac, ipvt, qtf, &
                                    info, nfev, njev) bind(c)
    use, intrinsic :: iso_c_binding, only: c_intptr_t, c_int, c_double
    use minpack_pyglue, only: fit_callbacks, compiled_callbacks, run_lm
    implicit none
    integer(c_intptr_t), value :: faddr, jaddr, uaddr
    integer(c_int), value :: m, n, maxfev, mode
    real(c_double), intent(inout) :: x(n), fvec(m), diag(n)
    real(c_double), value :: ftol, xtol, gtol, epsfcn, factor
    real(c_double), intent(out) :: fjac(m, n), qtf(n)
    integer(c_int), intent(out) :: ipvt(n), info, nfev, njev

    type(fit_callbacks), target :: cb

    cb = compiled_callbacks(faddr, jaddr, uaddr)
    call run_lm(cb, jaddr /= 0, 0, m, n, x, fvec, ftol, xtol, gtol, maxfev, epsfcn, diag, &
                mode, factor, fjac, ipvt, qtf, info, nfev, njev)
end subroutine minpack_glue_lm_compiled


!> Least squares with compiled residuals and a Python progress report:
!> Least squares with compiled residuals and a Python progress report (the
!> context tuple at progctx): wrapped by f2py as _minpack.lm_c_progress
!> (holds the GIL).
subroutine minpack_c_lm_progress(progctx, faddr, jaddr, uaddr, m, n, x, fvec, ftol, xtol, &
                                 gtol, maxfev, epsfcn, diag, mode, factor, fjac, ipvt, qtf, &
                                 info, nfev, njev)
    use, intrinsic :: iso_c_binding, only: c_intptr_t, c_null_ptr
    use minpack_kinds, only: dp
    use minpack_pyglue, only: fit_callbacks, compiled_callbacks, run_lm
    implicit none
    integer(c_intptr_t), intent(in) :: progctx, faddr, jaddr, uaddr
    integer, intent(in) :: m, n, maxfev, mode
    real(dp), intent(inout) :: x(n), fvec(m), diag(n)
    real(dp), intent(in) :: ftol, xtol, gtol, epsfcn, factor
    real(dp), intent(out) :: fjac(m, n), qtf(n)
    integer, intent(out) :: ipvt(n), info, nfev, njev

    type(fit_callbacks), target :: cb

    cb = compiled_callbacks(faddr, jaddr, uaddr)
    cb%progctx = transfer(progctx, c_null_ptr)
    call run_lm(cb, jaddr /= 0, 1, m, n, x, fvec, ftol, xtol, gtol, maxfev, epsfcn, diag, &
                mode, factor, fjac, ipvt, qtf, info, nfev, njev)
end subroutine minpack_c_lm_progress


!> Many compiled fits: wrapped by f2py as _minpack.lm_c_batch (releases the GIL).
subroutine minpack_c_lm_batch(faddr, jaddr, ubase, ustride, m, n, k, x, ftol, xtol, gtol, &
                              maxfev, epsfcn, diag, mode, factor, want_fvec, fvec, &
                              want_cov, cov, fnorm, ier, nfev, njev)
    use, intrinsic :: iso_c_binding, only: c_intptr_t
    use minpack_kinds, only: dp
    use minpack_pyglue, only: lm_batch
    implicit none
    integer(c_intptr_t), intent(in) :: faddr, jaddr, ubase, ustride
    integer, intent(in) :: m, n, k, maxfev, mode, want_fvec, want_cov
    real(dp), intent(inout) :: x(n, k)
    real(dp), intent(in) :: ftol, xtol, gtol, epsfcn, factor, diag(n)
    real(dp), intent(inout) :: fvec(*), cov(*)
    real(dp), intent(out) :: fnorm(k)
    integer, intent(out) :: ier(k), nfev(k), njev(k)

    call lm_batch(faddr, jaddr, ubase, ustride, m, n, k, x, ftol, xtol, gtol, maxfev, &
                  epsfcn, diag, mode, factor, want_fvec /= 0, fvec, want_cov /= 0, cov, &
                  fnorm, ier, nfev, njev)
end subroutine minpack_c_lm_batch


!> Roots with Python functions: wrapped by f2py as _minpack.hybrid (holds the
!> GIL). pyctx, pyjctx: addresses of the context tuples of the functions and
!> of the Jacobian (0: hybrd).
subroutine minpack_py_hybrid(pyctx, pyjctx, have_f0, n, x, fvec, xtol, maxfev, ml, mu, &
                             epsfcn, diag, mode, factor, fjac, r, qtf, info, nfev, njev)
    use, intrinsic :: iso_c_binding, only: c_intptr_t
    use minpack_kinds, only: dp
    use minpack_pyglue, only: fit_callbacks, python_callbacks, run_hybrid
    implicit none
    integer(c_intptr_t), intent(in) :: pyctx, pyjctx
    integer, intent(in) :: have_f0, n, maxfev, ml, mu, mode
    real(dp), intent(inout) :: x(n), fvec(n), diag(n)
    real(dp), intent(in) :: xtol, epsfcn, factor
    real(dp), intent(out) :: fjac(n, n), r((n * (n + 1)) / 2), qtf(n)
    integer, intent(out) :: info, nfev, njev

    type(fit_callbacks), target :: cb

    cb = python_callbacks(pyctx, pyjctx, 0_c_intptr_t, .false., have_f0 /= 0)
    call run_hybrid(cb, pyjctx /= 0, n, x, fvec, xtol, maxfev, ml, mu, epsfcn, diag, mode, &
                    factor, fjac, r, qtf, info, nfev, njev)
end subroutine minpack_py_hybrid


!> Roots with compiled functions: wrapped by f2py as _minpack.hybrid_c
!> (releases the GIL).
subroutine minpack_c_hybrid(faddr, jaddr, uaddr, n, x, fvec, xtol, maxfev, ml, mu, epsfcn, &
                            diag, mode, factor, fjac, r, qtf, info, nfev, njev)
    use, intrinsic :: iso_c_binding, only: c_intptr_t
    use minpack_kinds, only: dp
    use minpack_pyglue, only: fit_callbacks, compiled_callbacks, run_hybrid
    implicit none
    integer(c_intptr_t), intent(in) :: faddr, jaddr, uaddr
    integer, intent(in) :: n, maxfev, ml, mu, mode
    real(dp), intent(inout) :: x(n), fvec(n), diag(n)
    real(dp), intent(in) :: xtol, epsfcn, factor
    real(dp), intent(out) :: fjac(n, n), r((n * (n + 1)) / 2), qtf(n)
    integer, intent(out) :: info, nfev, njev

    type(fit_callbacks), target :: cb

    cb = compiled_callbacks(faddr, jaddr, uaddr)
    call run_hybrid(cb, jaddr /= 0, n, x, fvec, xtol, maxfev, ml, mu, epsfcn, diag, mode, &
                    factor, fjac, r, qtf, info, nfev, njev)
end subroutine minpack_c_hybrid


!> MINPACK's derivative check (wrapped by f2py as _minpack.chkder): mode 1
!> gives the nearby point xp, mode 2 the per-function measures err.
subroutine minpack_py_chkder(m, n, x, fvec, fjac, xp, fvecp, mode, err)
    use minpack_kinds, only: dp
    use minpack_derivcheck, only: chkder
    implicit none
    integer, intent(in) :: m, n, mode
    real(dp), intent(in) :: x(n), fvec(m), fjac(m, n), fvecp(m)
    real(dp), intent(inout) :: xp(n), err(m)

    call chkder(m, n, x, fvec, fjac, m, xp, fvecp, mode, err)
end subroutine minpack_py_chkder


!> Covariance from R and ipvt (wrapped by f2py as _minpack.covar).
subroutine minpack_py_covar(m, n, r, ipvt, cov, info)
    use minpack_kinds, only: dp
    use minpack_linalg, only: covar
    implicit none
    integer, intent(in) :: m, n
    real(dp), intent(in) :: r(m, n)
    integer, intent(in) :: ipvt(n)
    real(dp), intent(out) :: cov(n, n)
    integer, intent(out) :: info

    call covar(n, r, m, ipvt, cov, n, info)
end subroutine minpack_py_covar
