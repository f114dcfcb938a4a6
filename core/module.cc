#include "core/module.h"

namespace onemodel {

Tensor Module::RegisterParameter(const std::string& name, Tensor value) {
  for (const auto& [existing, _] : parameters_) CHECK_NE(existing, name) << "parameter " << name << " registered twice";
  value.set_requires_grad(true);
  parameters_.emplace_back(name, value);
  return value;
}

void Module::RegisterModule(const std::string& name, Module* child) {
  for (const auto& [existing, _] : children_) CHECK_NE(existing, name) << "module " << name << " registered twice";
  children_.emplace_back(name, child);
}

void Module::Collect(const std::string& prefix, NamedTensors* out) const {
  for (const auto& [name, t] : parameters_) out->emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->Collect(prefix + name + ".", out);
}

NamedTensors Module::NamedParameters() const {
  NamedTensors out;
  Collect("", &out);
  return out;
}

std::vector<Tensor> Module::Parameters() const {
  std::vector<Tensor> out;
  for (auto& [_, t] : NamedParameters()) out.push_back(t);
  return out;
}

int64_t Module::NumParameters() const {
  int64_t n = 0;
  for (const auto& [_, t] : NamedParameters()) n += t.numel();
  return n;
}

void Module::To(Device device) {
  for (auto& [_, t] : NamedParameters()) t.MoveTo(device);
}

void Module::ZeroGrad() {
  for (auto& [_, t] : NamedParameters()) t.ZeroGrad();
}

}  // namespace onemodel
