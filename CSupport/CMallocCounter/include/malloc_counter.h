// Counts heap allocations of the whole process, for the benchmark executable only: this
// target defines malloc and friends, so linking it anywhere else would interpose them there.
// No logic beyond a counter and a forward to glibc's own allocator.
#ifndef CMALLOC_COUNTER_H
#define CMALLOC_COUNTER_H

#include <stdint.h>

/// Allocation calls (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) so far.
uint64_t cmalloc_counter_allocations(void);

/// Bytes of heap in use (glibc's mallinfo2: chunks handed out, mmapped ones included), the
/// live size of what a benchmark built, which RSS overstates once freed chunks stay mapped.
uint64_t cmalloc_counter_bytes_in_use(void);

#endif
