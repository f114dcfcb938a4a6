// All core ops. Each family keeps its forward and backward together in one file pair.
#ifndef ONEMODEL_CORE_OPS_OPS_H_
#define ONEMODEL_CORE_OPS_OPS_H_

#include "core/ops/conv.h"
#include "core/ops/cross_entropy.h"
#include "core/ops/ctc.h"
#include "core/ops/distance.h"
#include "core/ops/dropout.h"
#include "core/ops/elementwise.h"
#include "core/ops/indexing.h"
#include "core/ops/layer_norm.h"
#include "core/ops/matmul.h"
#include "core/ops/plane_conv.h"
#include "core/ops/pool.h"
#include "core/ops/reduce.h"
#include "core/ops/shape.h"
#include "core/ops/softmax.h"

#endif  // ONEMODEL_CORE_OPS_OPS_H_
