/* Floating-point traps for the C test programs of the checked build.
 *
 * ci/_hardening.sh compiles this into a small shared library and preloads it
 * (LD_PRELOAD) into the test programs of build/fcheck. gfortran's
 * -ffpe-trap=invalid,zero,overflow only arms the traps in a Fortran main
 * program; this constructor arms the same ones in the C programs, so an
 * invalid operation, a division by zero or an overflow inside the library
 * stops them with SIGFPE too. (Harmless in the Fortran programs: the traps
 * are already on there.)
 */
#define _GNU_SOURCE
#include <fenv.h>

__attribute__((constructor)) static void minpack_test_enable_fpe_traps(void)
{
    feenableexcept(FE_INVALID | FE_DIVBYZERO | FE_OVERFLOW);
}
