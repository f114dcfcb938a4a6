// Host memory for tensors: glibc's heap, configured so that freed memory stays mapped and is handed out again.
// Speech and text batches change length every step, so a training step's blocks rarely repeat their sizes; a
// block fresh from the kernel costs a page fault and the zeroing of every 4 KiB page on first touch.
#ifndef ONEMODEL_CORE_HOST_ALLOCATOR_H_
#define ONEMODEL_CORE_HOST_ALLOCATOR_H_

#include <cstddef>

namespace onemodel {

// 64-byte aligned (2 MiB from 2 MiB on); never null (a fatal error on exhaustion).
void* HostAlloc(size_t bytes);
void HostFree(void* ptr);

}  // namespace onemodel

#endif  // ONEMODEL_CORE_HOST_ALLOCATOR_H_
