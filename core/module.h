// Modules own named parameters and child modules. Full names are dotted paths
// ("encoder.layer2.moe.experts.w_in"); they key checkpoints, optimizer state and parallelism.
#ifndef ONEMODEL_CORE_MODULE_H_
#define ONEMODEL_CORE_MODULE_H_

#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace onemodel {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Every parameter of this module and its children, depth first, in registration order.
  NamedTensors NamedParameters() const;
  std::vector<Tensor> Parameters() const;
  int64_t NumParameters() const;
  void ZeroGrad();
  // Moves every parameter to `device` (in place: the module's and any optimizer's handles follow).
  void To(Device device);

 protected:
  // Marks `value` as requiring grad and returns it; `name` must be unique within this module.
  Tensor RegisterParameter(const std::string& name, Tensor value);
  // `child` must outlive this module's use of it (usually a member).
  void RegisterModule(const std::string& name, Module* child);

 private:
  void Collect(const std::string& prefix, NamedTensors* out) const;
  NamedTensors parameters_;
  std::vector<std::pair<std::string, Module*>> children_;
};

}  // namespace onemodel

#endif  // ONEMODEL_CORE_MODULE_H_
