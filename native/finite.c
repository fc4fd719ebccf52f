/* NaN/Inf scan by exponent bits, so no compiler flag (not even -ffinite-math-only) can fold the test away.
 * Leaves out: reporting which kind of non-finite value was found. */
#include "common.h"
#include <string.h>

long rlaif_first_non_finite(const float *x, long n) {
  const long block = 1024;
  for (long i0 = 0; i0 < n; i0 += block) {
    long i1 = i0 + block < n ? i0 + block : n;
    uint32_t any = 0;
    for (long i = i0; i < i1; i++) {
      uint32_t u;
      memcpy(&u, x + i, 4);
      any |= ((u & 0x7f800000u) == 0x7f800000u);
    }
    if (any)
      for (long i = i0; i < i1; i++) {
        uint32_t u;
        memcpy(&u, x + i, 4);
        if ((u & 0x7f800000u) == 0x7f800000u) return i;
      }
  }
  return -1;
}
