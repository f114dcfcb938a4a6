// Tensor: a contiguous, row-major, reference-counted array with a dtype, a device and a shape.
// Views come only from Reshape and leading-dim slicing; every other op materializes (DESIGN §3).
// Autograd state (grad, grad_fn) lives on the tensor; see autograd.h.
#ifndef ONEMODEL_CORE_TENSOR_H_
#define ONEMODEL_CORE_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "glog/logging.h"

namespace onemodel {

enum class DType { kF32, kI32, kI64, kBF16 };
enum class DeviceType { kCPU, kCUDA };

struct Device {
  DeviceType type = DeviceType::kCPU;
  int index = 0;
  static Device CPU() { return {}; }
  static Device CUDA(int i = 0) { return {DeviceType::kCUDA, i}; }
  bool is_cpu() const { return type == DeviceType::kCPU; }
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string ToString() const;
};

using Shape = std::vector<int64_t>;

size_t DTypeSize(DType dtype);
const char* DTypeName(DType dtype);
int64_t NumElements(const Shape& shape);
std::string ShapeToString(const Shape& shape);

// Raw bytes on one device. CPU memory comes from the caching host allocator (64-byte aligned); CUDA
// memory from the CUDA backend.
class Storage {
 public:
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
};

struct Node;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  size_t offset = 0;  // bytes into storage
  Shape shape;
  DType dtype = DType::kF32;
  bool requires_grad = false;        // set on leaves (parameters); ops propagate it through grad_fn
  std::shared_ptr<Node> grad_fn;     // null for leaves
  std::shared_ptr<TensorImpl> grad;  // accumulated gradient of a leaf
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  static Tensor Empty(const Shape& shape, DType dtype = DType::kF32, Device device = Device::CPU());
  static Tensor Zeros(const Shape& shape, DType dtype = DType::kF32, Device device = Device::CPU());
  static Tensor Full(const Shape& shape, float value);
  static Tensor FromVector(const std::vector<float>& values, const Shape& shape);
  static Tensor FromIndices(const std::vector<int64_t>& values, const Shape& shape);
  static Tensor Scalar(float value) { return FromVector({value}, {}); }

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl_->shape; }
  int ndim() const { return static_cast<int>(impl_->shape.size()); }
  int64_t dim(int axis) const;  // negative axes count from the end
  int64_t numel() const { return NumElements(impl_->shape); }
  DType dtype() const { return impl_->dtype; }
  Device device() const { return impl_->storage->device(); }
  size_t nbytes() const { return numel() * DTypeSize(dtype()); }

  void* raw_data() const {
    return static_cast<char*>(impl_->storage->data()) + impl_->offset;
  }
  template <typename T>
  T* data() const;  // checks the dtype and that the tensor is on the CPU

  // A view sharing storage; one dim may be -1. Not recorded by autograd: use ops::Reshape for that.
  Tensor View(const Shape& shape) const;
  // Rows [begin, end) of the leading dim, sharing storage. Not recorded by autograd: use ops::Slice.
  Tensor Narrow(int64_t begin, int64_t end) const;

  Tensor Clone() const;               // deep copy on the same device, no autograd history
  Tensor To(Device device) const;     // copy to a device (or this tensor if already there)
  Tensor Detach() const;              // shares storage, no autograd history
  // Moves the data to `device` in place: every handle of this tensor sees the move (parameters held by
  // modules and optimizers). Drops the gradient.
  void MoveTo(Device device);
  void CopyFrom(const Tensor& src);   // same shape and dtype, any devices
  void Fill(float value);
  std::vector<float> ToVector() const;        // f32 or bf16, any device
  std::vector<int64_t> ToIndices() const;     // i32 or i64, any device
  float item() const;

  // Autograd.
  bool requires_grad() const { return impl_->requires_grad || impl_->grad_fn != nullptr; }
  Tensor& set_requires_grad(bool value);
  Tensor grad() const { return impl_->grad ? Tensor(impl_->grad) : Tensor(); }
  void ZeroGrad() { impl_->grad.reset(); }
  void AccumulateGrad(const Tensor& g);  // grad += g (parameter gradients accumulate across backward calls)
  // The same, but a first gradient that nothing else references (its tensor and storage) is adopted
  // instead of copied: the backward pass hands over fresh gradients this way.
  void AccumulateGrad(Tensor&& g);
  const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
  void Backward() const;  // this must be a scalar; see autograd.h

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  Tensor To(Device device, bool force_copy) const;
  std::shared_ptr<TensorImpl> impl_;
};

template <typename T>
struct DTypeOf;
template <>
struct DTypeOf<float> { static constexpr DType value = DType::kF32; };
template <>
struct DTypeOf<int32_t> { static constexpr DType value = DType::kI32; };
template <>
struct DTypeOf<int64_t> { static constexpr DType value = DType::kI64; };
template <>
struct DTypeOf<uint16_t> { static constexpr DType value = DType::kBF16; };

template <typename T>
T* Tensor::data() const {
  CHECK(defined()) << "data() of an undefined tensor";
  CHECK(dtype() == DTypeOf<T>::value)
      << "tensor is " << DTypeName(dtype()) << ", asked as " << DTypeName(DTypeOf<T>::value);
  CHECK(device().is_cpu()) << "data() of a tensor on " << device().ToString();
  return static_cast<T*>(raw_data());
}

// bf16 <-> f32 with round-to-nearest-even (the storage format of GPU mixed precision).
uint16_t FloatToBF16(float value);
float BF16ToFloat(uint16_t value);

}  // namespace onemodel

#endif  // ONEMODEL_CORE_TENSOR_H_
