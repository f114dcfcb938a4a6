#include "core/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/autograd.h"
#include "core/cuda_backend.h"
#include "core/host_allocator.h"
#include "core/ops/unary_math.h"

namespace onemodel {

std::string Device::ToString() const {
  return is_cpu() ? "cpu" : absl::StrCat("cuda:", index);
}

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kF32: return 4;
    case DType::kI32: return 4;
    case DType::kI64: return 8;
    case DType::kBF16: return 2;
  }
  LOG(FATAL) << "unknown dtype";
}

const char* DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "f32";
    case DType::kI32: return "i32";
    case DType::kI64: return "i64";
    case DType::kBF16: return "bf16";
  }
  return "?";
}

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string ShapeToString(const Shape& shape) { return absl::StrCat("[", absl::StrJoin(shape, ", "), "]"); }

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (device.is_cpu()) {
    data_ = HostAlloc(bytes);
  } else {
    data_ = RequireCudaBackend().Alloc(bytes, device.index);
  }
}

Storage::~Storage() {
  if (device_.is_cpu()) {
    HostFree(data_);
  } else {
    RequireCudaBackend().Free(data_, device_.index);
  }
}

int64_t Tensor::dim(int axis) const {
  int n = ndim();
  int a = axis < 0 ? axis + n : axis;
  CHECK(a >= 0 && a < n) << "axis " << axis << " out of range for shape " << ShapeToString(shape());
  return impl_->shape[a];
}

Tensor Tensor::Empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) CHECK_GE(d, 0) << "negative dim in shape " << ShapeToString(shape);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(NumElements(shape) * DTypeSize(dtype), device);
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::Zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = Empty(shape, dtype, device);
  if (device.is_cpu()) {
    std::memset(t.raw_data(), 0, t.nbytes());
  } else {
    RequireCudaBackend().Zero(t.raw_data(), t.nbytes());
  }
  return t;
}

Tensor Tensor::Full(const Shape& shape, float value) {
  Tensor t = Empty(shape);
  t.Fill(value);
  return t;
}

Tensor Tensor::FromVector(const std::vector<float>& values, const Shape& shape) {
  CHECK_EQ(static_cast<int64_t>(values.size()), NumElements(shape))
      << "FromVector: " << values.size() << " values for shape " << ShapeToString(shape);
  Tensor t = Empty(shape);
  std::memcpy(t.raw_data(), values.data(), t.nbytes());
  return t;
}

Tensor Tensor::FromIndices(const std::vector<int64_t>& values, const Shape& shape) {
  CHECK_EQ(static_cast<int64_t>(values.size()), NumElements(shape))
      << "FromIndices: " << values.size() << " values for shape " << ShapeToString(shape);
  Tensor t = Empty(shape, DType::kI64);
  std::memcpy(t.raw_data(), values.data(), t.nbytes());
  return t;
}

Tensor Tensor::View(const Shape& shape) const {
  Shape resolved = shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < resolved.size(); ++i) {
    if (resolved[i] == -1) {
      CHECK_EQ(infer, -1) << "reshape " << ShapeToString(this->shape()) << " -> " << ShapeToString(shape)
                          << ": more than one -1";
      infer = static_cast<int>(i);
    } else {
      known *= resolved[i];
    }
  }
  if (infer >= 0) {
    CHECK(known > 0 && numel() % known == 0)
        << "reshape " << ShapeToString(this->shape()) << " -> " << ShapeToString(shape) << ": cannot infer -1";
    resolved[infer] = numel() / known;
  }
  CHECK_EQ(NumElements(resolved), numel())
      << "reshape " << ShapeToString(this->shape()) << " -> " << ShapeToString(shape) << ": sizes differ";
  auto impl = std::make_shared<TensorImpl>(*impl_);
  impl->shape = resolved;
  impl->grad_fn.reset();
  impl->grad.reset();
  impl->requires_grad = false;
  return Tensor(std::move(impl));
}

Tensor Tensor::Narrow(int64_t begin, int64_t end) const {
  CHECK_GE(ndim(), 1) << "Narrow of a scalar";
  CHECK(0 <= begin && begin <= end && end <= shape()[0])
      << "rows [" << begin << ", " << end << ") out of range for shape " << ShapeToString(shape());
  auto impl = std::make_shared<TensorImpl>(*impl_);
  impl->shape[0] = end - begin;
  impl->offset += begin * (numel() / std::max<int64_t>(shape()[0], 1)) * DTypeSize(dtype());
  impl->grad_fn.reset();
  impl->grad.reset();
  impl->requires_grad = false;
  return Tensor(std::move(impl));
}

Tensor Tensor::Detach() const {
  auto impl = std::make_shared<TensorImpl>(*impl_);
  impl->grad_fn.reset();
  impl->grad.reset();
  impl->requires_grad = false;
  return Tensor(std::move(impl));
}

void Tensor::MoveTo(Device device) {
  if (device == this->device()) return;
  const Tensor moved = To(device);
  impl_->storage = moved.impl_->storage;
  impl_->offset = 0;
  impl_->grad.reset();
}

void Tensor::CopyFrom(const Tensor& src) {
  CHECK(shape() == src.shape() && dtype() == src.dtype())
      << "CopyFrom: " << ShapeToString(src.shape()) << " " << DTypeName(src.dtype()) << " into "
      << ShapeToString(shape()) << " " << DTypeName(dtype());
  if (device().is_cpu() && src.device().is_cpu()) {
    std::memcpy(raw_data(), src.raw_data(), nbytes());
  } else {
    RequireCudaBackend().Copy(raw_data(), !device().is_cpu(), src.raw_data(), !src.device().is_cpu(), nbytes());
  }
}

Tensor Tensor::Clone() const { return To(device(), /*force_copy=*/true); }

Tensor Tensor::To(Device device) const { return To(device, /*force_copy=*/false); }

Tensor Tensor::To(Device device, bool force_copy) const {
  if (!force_copy && device == this->device()) return *this;
  Tensor out = Empty(shape(), dtype(), device);
  out.CopyFrom(*this);
  return out;
}

void Tensor::Fill(float value) {
  CHECK(device().is_cpu()) << "Fill on " << device().ToString();
  switch (dtype()) {
    case DType::kF32: std::fill_n(data<float>(), numel(), value); break;
    case DType::kI32: std::fill_n(data<int32_t>(), numel(), static_cast<int32_t>(value)); break;
    case DType::kI64: std::fill_n(data<int64_t>(), numel(), static_cast<int64_t>(value)); break;
    case DType::kBF16: std::fill_n(data<uint16_t>(), numel(), FloatToBF16(value)); break;
  }
}

std::vector<float> Tensor::ToVector() const {
  Tensor host = To(Device::CPU());
  if (dtype() == DType::kBF16) {
    std::vector<float> out(numel());
    for (int64_t i = 0; i < numel(); ++i) out[i] = BF16ToFloat(host.data<uint16_t>()[i]);
    return out;
  }
  const float* p = host.data<float>();
  return std::vector<float>(p, p + numel());
}

std::vector<int64_t> Tensor::ToIndices() const {
  Tensor host = To(Device::CPU());
  if (dtype() == DType::kI32) {
    const int32_t* p = host.data<int32_t>();
    return std::vector<int64_t>(p, p + numel());
  }
  const int64_t* p = host.data<int64_t>();
  return std::vector<int64_t>(p, p + numel());
}

float Tensor::item() const {
  CHECK_EQ(numel(), 1) << "item() of a tensor of shape " << ShapeToString(shape());
  return ToVector()[0];
}

Tensor& Tensor::set_requires_grad(bool value) {
  CHECK(impl_->grad_fn == nullptr) << "set_requires_grad on a non-leaf tensor";
  CHECK(dtype() == DType::kF32) << "only f32 tensors can require grad";
  impl_->requires_grad = value;
  return *this;
}

void Tensor::AccumulateGrad(const Tensor& g) {
  CHECK(g.shape() == shape()) << "gradient of shape " << ShapeToString(g.shape()) << " for a tensor of shape "
                              << ShapeToString(shape());
  if (!impl_->grad) {
    impl_->grad = g.Clone().impl_ptr();
    return;
  }
  Tensor acc(impl_->grad);
  CHECK(g.device() == acc.device()) << "gradient on " << g.device().ToString() << " for a tensor on "
                                    << acc.device().ToString();
  if (!acc.device().is_cpu()) {
    RequireCudaBackend().AddInPlace(static_cast<float*>(acc.raw_data()), static_cast<const float*>(g.raw_data()),
                                    numel());
    return;
  }
  float* a = acc.data<float>();
  const float* b = g.data<float>();
  const int64_t n = numel();
#pragma omp parallel for if (n > 65536)
  for (int64_t i = 0; i < n; ++i) a[i] += b[i];
}

void Tensor::AccumulateGrad(Tensor&& g) {
  const bool sole_owner = g.impl_.use_count() == 1 && g.impl_->storage.use_count() == 1 && !g.impl_->grad_fn;
  if (impl_->grad || !sole_owner || g.shape() != shape()) {
    AccumulateGrad(static_cast<const Tensor&>(g));
    return;
  }
  impl_->grad = std::move(g.impl_);
}

void Tensor::Backward() const { RunBackward(*this); }

uint16_t FloatToBF16(float value) { return RoundToBF16(value); }

float BF16ToFloat(uint16_t value) {
  uint32_t bits = static_cast<uint32_t>(value) << 16;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

}  // namespace onemodel
