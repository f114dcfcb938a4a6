#include "core/ops/matmul.h"

#include <cblas.h>

#include "core/autograd.h"
#include "core/cuda_backend.h"
#include "core/ops/axis.h"
#include "core/ops/gemm_bf16.h"

namespace onemodel::ops {
namespace {

struct GemmDims {
  int64_t batch, m, n, k;
};

// Checks shapes of op(a) op(b) over the last two dims and returns the problem size.
GemmDims ResolveDims(const char* op, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, int batch_dims) {
  CheckF32(op, a);
  CheckF32(op, b);
  CheckSameDevice(op, a, b);
  const int64_t a_rows = a.dim(-2), a_cols = a.dim(-1);
  const int64_t b_rows = b.dim(-2), b_cols = b.dim(-1);
  GemmDims d;
  d.m = trans_a ? a_cols : a_rows;
  d.k = trans_a ? a_rows : a_cols;
  d.n = trans_b ? b_rows : b_cols;
  const int64_t kb = trans_b ? b_cols : b_rows;
  CHECK_EQ(d.k, kb) << op << ": inner dims differ: " << ShapeToString(a.shape()) << (trans_a ? "^T" : "")
                    << " x " << ShapeToString(b.shape()) << (trans_b ? "^T" : "");
  d.batch = batch_dims ? a.dim(0) : 1;
  return d;
}

std::vector<int64_t> FirstRows(const std::vector<int64_t>& group_sizes) {
  std::vector<int64_t> first(group_sizes.size(), 0);
  for (size_t g = 1; g < group_sizes.size(); ++g) first[g] = first[g - 1] + group_sizes[g - 1];
  return first;
}

// Runs fn(g) for every group. With several groups, the groups run in parallel, one thread each: inside the
// parallel region OpenBLAS runs single-threaded, which for expert-sized GEMMs beats threading every GEMM.
// On CUDA the groups go one after another to cuBLAS on one stream.
template <typename Fn>
void ForEachGroup(const Device& device, const std::vector<int64_t>& group_sizes, Fn fn) {
  const int64_t groups = static_cast<int64_t>(group_sizes.size());
#pragma omp parallel for schedule(dynamic, 1) if (groups > 1 && device.is_cpu())
  for (int64_t g = 0; g < groups; ++g) fn(g);
}

}  // namespace

namespace {

thread_local MatmulPrecision current_precision = MatmulPrecision::kF32;

// One operand of a product as the GEMM at its precision reads it: the f32 tensor itself (also in bf16 where the
// CPU's bf16 GEMM rounds while it packs), bf16 bits on CUDA, or on CPUs without AVX512-BF16 an f32 copy holding
// the rounded values for sgemm.
class GemmInput {
 public:
  GemmInput(const Tensor& x, MatmulPrecision precision) : t_(x) {
    if (precision == MatmulPrecision::kF32) return;
    if (!x.device().is_cpu()) {
      t_ = Tensor::Empty(x.shape(), DType::kBF16, x.device());
      RequireCudaBackend().ToBF16(F32(x), static_cast<uint16_t*>(t_.raw_data()), x.numel());
    } else if (CpuBF16GemmAvailable()) {
      cpu_bf16_ = true;
    } else {
      t_ = Tensor::Empty(x.shape(), DType::kF32);
      const float* src = F32(x);
      float* dst = F32(t_);
      const int64_t n = x.numel();
#pragma omp parallel for if (n > (1 << 16))
      for (int64_t i = 0; i < n; ++i) dst[i] = BF16ToFloat(FloatToBF16(src[i]));
    }
  }
  bool bf16() const { return t_.dtype() == DType::kBF16; }
  bool cpu_bf16() const { return cpu_bf16_; }
  const float* F32At(int64_t offset) const { return F32(t_) + offset; }
  const uint16_t* BF16At(int64_t offset) const { return static_cast<const uint16_t*>(t_.raw_data()) + offset; }

 private:
  Tensor t_;
  bool cpu_bf16_ = false;
};

// C = op(A) op(B) on the device of the operands: OpenBLAS (or the bf16 GEMM) on the CPU, cuBLAS on CUDA (bf16
// operands through the tensor cores). a and b are element offsets into the prepared operands. On CUDA, `batch`
// runs that many products, strided apart, in one call (the CPU caller loops itself).
void GemmOn(const Device& device, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const GemmInput& a,
            int64_t a_at, const GemmInput& b, int64_t b_at, float* c, const CudaBackend::GemmBatch& batch = {}) {
  if (device.is_cpu()) {
    CHECK_EQ(batch.count, 1) << "GemmOn: batched products on the CPU loop in the caller";
    if (a.cpu_bf16()) {
      GemmBF16(trans_a, trans_b, m, n, k, a.F32At(a_at), b.F32At(b_at), c);
    } else {
      Gemm(trans_a, trans_b, m, n, k, 1.f, a.F32At(a_at), b.F32At(b_at), 0.f, c);
    }
  } else if (a.bf16()) {
    RequireCudaBackend().GemmBF16(trans_a, trans_b, m, n, k, 1.f, a.BF16At(a_at), b.BF16At(b_at), 0.f, c, batch);
  } else {
    RequireCudaBackend().Gemm(trans_a, trans_b, m, n, k, 1.f, a.F32At(a_at), b.F32At(b_at), 0.f, c, batch);
  }
}

}  // namespace

MatmulPrecisionScope::MatmulPrecisionScope(MatmulPrecision precision) : previous_(current_precision) {
  current_precision = precision;
}
MatmulPrecisionScope::~MatmulPrecisionScope() { current_precision = previous_; }
MatmulPrecision CurrentMatmulPrecision() { return current_precision; }

void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          const float* b, float beta, float* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m * n; ++i) c[i] = beta == 0.f ? 0.f : beta * c[i];
    return;
  }
  const int64_t lda = trans_a ? m : k;
  const int64_t ldb = trans_b ? k : n;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k,
              alpha, a, lda, b, ldb, beta, c, n);
}

Tensor MatMul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  CHECK(a.ndim() >= 2 && b.ndim() == 2) << "MatMul: needs a [..., M, K] and b 2-D, got "
                                        << ShapeToString(a.shape()) << " x " << ShapeToString(b.shape());
  CHECK(!trans_a || a.ndim() == 2) << "MatMul: trans_a needs a 2-D a, got " << ShapeToString(a.shape());
  // Fold leading dims of a into M.
  const Tensor a2 = a.View({-1, a.dim(-1)});
  GemmDims d = ResolveDims("MatMul", a2, b, trans_a, trans_b, 0);
  Shape out_shape(a.shape().begin(), a.shape().end() - 1);  // [..., M]
  if (trans_a) out_shape.back() = d.m;
  out_shape.push_back(d.n);
  Tensor out = Tensor::Empty(out_shape, DType::kF32, a.device());
  const MatmulPrecision precision = current_precision;
  GemmOn(a.device(), trans_a, trans_b, d.m, d.n, d.k, GemmInput(a2, precision), 0, GemmInput(b, precision), 0,
         F32(out));
  return Record(out, "MatMul", {a, b}, [a, b, trans_a, trans_b, precision](const Tensor& g, const Tensor&) {
    const MatmulPrecisionScope scope(precision);
    const Tensor a2 = a.View({-1, a.dim(-1)});
    const Tensor g2 = g.View({-1, g.dim(-1)});
    Tensor ga, gb;
    // C = op(A) op(B): dop(A) = dC op(B)^T, dop(B) = op(A)^T dC, then undo the op on each side.
    if (a.requires_grad()) {
      ga = trans_a ? MatMul(b, g2, trans_b, true) : MatMul(g2, b, false, !trans_b);
      ga = ga.View(a.shape());
    }
    if (b.requires_grad()) gb = trans_b ? MatMul(g2, a2, true, trans_a) : MatMul(a2, g2, !trans_a, false);
    return std::vector<Tensor>{ga, gb};
  });
}

Tensor BatchedMatMul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  CHECK(a.ndim() == 3 && b.ndim() == 3 && a.dim(0) == b.dim(0))
      << "BatchedMatMul: needs [B, M, K] x [B, K, N], got " << ShapeToString(a.shape()) << " x "
      << ShapeToString(b.shape());
  GemmDims d = ResolveDims("BatchedMatMul", a, b, trans_a, trans_b, 1);
  Tensor out = Tensor::Empty({d.batch, d.m, d.n}, DType::kF32, a.device());
  const MatmulPrecision precision = current_precision;
  const GemmInput pa(a, precision), pb(b, precision);
  float* po = F32(out);
  // Attention's per-head products are many small GEMMs: on the CPU they run in parallel, one thread each
  // (OpenBLAS runs single-threaded inside a parallel region), instead of threading every tiny GEMM; on CUDA they
  // go in one strided-batched call (a GEMM call per product cost the host more than the products cost the GPU).
  const Device device = a.device();
  if (!device.is_cpu()) {
    GemmOn(device, trans_a, trans_b, d.m, d.n, d.k, pa, 0, pb, 0, po,
           {d.batch, d.m * d.k, d.k * d.n, d.m * d.n});
  } else {
#pragma omp parallel for if (d.batch > 1)
    for (int64_t i = 0; i < d.batch; ++i) {
      GemmOn(device, trans_a, trans_b, d.m, d.n, d.k, pa, i * d.m * d.k, pb, i * d.k * d.n, po + i * d.m * d.n);
    }
  }
  return Record(out, "BatchedMatMul", {a, b}, [a, b, trans_a, trans_b, precision](const Tensor& g, const Tensor&) {
    const MatmulPrecisionScope scope(precision);
    Tensor ga, gb;
    if (a.requires_grad()) {
      ga = trans_a ? BatchedMatMul(b, g, trans_b, true) : BatchedMatMul(g, b, false, !trans_b);
    }
    if (b.requires_grad()) {
      gb = trans_b ? BatchedMatMul(g, a, true, trans_a) : BatchedMatMul(a, g, !trans_a, false);
    }
    return std::vector<Tensor>{ga, gb};
  });
}

Tensor GroupedMatMul(const Tensor& x, const Tensor& w, const std::vector<int64_t>& group_sizes, bool trans_w) {
  CheckF32("GroupedMatMul", x);
  CheckF32("GroupedMatMul", w);
  CheckSameDevice("GroupedMatMul", x, w);
  CHECK(x.ndim() == 2 && w.ndim() == 3 && static_cast<int64_t>(group_sizes.size()) == w.dim(0))
      << "GroupedMatMul: x " << ShapeToString(x.shape()) << ", w " << ShapeToString(w.shape()) << ", "
      << group_sizes.size() << " groups (needs x [A, K], w [G, K, N], G group sizes)";
  const int64_t k = x.dim(1);
  const int64_t n = trans_w ? w.dim(1) : w.dim(2);
  CHECK_EQ(trans_w ? w.dim(2) : w.dim(1), k) << "GroupedMatMul: inner dims differ: x " << ShapeToString(x.shape())
                                             << ", w " << ShapeToString(w.shape()) << (trans_w ? "^T" : "");
  int64_t total = 0;
  for (int64_t rows : group_sizes) {
    CHECK_GE(rows, 0) << "GroupedMatMul: negative group size";
    total += rows;
  }
  CHECK_EQ(total, x.dim(0)) << "GroupedMatMul: group sizes add up to " << total << ", x has " << x.dim(0) << " rows";
  Tensor out = Tensor::Empty({x.dim(0), n}, DType::kF32, x.device());
  float* po = F32(out);
  const std::vector<int64_t> first = FirstRows(group_sizes);
  const Device device = x.device();
  // The backward reuses the operands as prepared here (in emulated bf16, each rounded copy is made once per step;
  // the native bf16 GEMM rounds while it packs).
  const MatmulPrecision precision = current_precision;
  const GemmInput px(x, precision), pw(w, precision);
  ForEachGroup(device, group_sizes, [&](int64_t g) {
    GemmOn(device, false, trans_w, group_sizes[g], n, k, px, first[g] * k, pw, g * k * n, po + first[g] * n);
  });
  const bool x_grad = x.requires_grad(), w_grad = w.requires_grad();
  const Shape x_shape = x.shape(), w_shape = w.shape();
  return Record(out, "GroupedMatMul", {x, w}, [=](const Tensor& g, const Tensor&) {
    Tensor gx, gw;
    const GemmInput pg(g, precision);
    if (x_grad) {
      gx = Tensor::Empty(x_shape, DType::kF32, device);
      float* pgx = F32(gx);
      ForEachGroup(device, group_sizes, [&](int64_t e) {  // dx_e = g_e w_e^T
        GemmOn(device, false, !trans_w, group_sizes[e], k, n, pg, first[e] * n, pw, e * k * n, pgx + first[e] * k);
      });
    }
    if (w_grad) {
      // Zeroed: an expert with no rows gets a zero gradient (a GEMM with k = 0 writes nothing on cuBLAS).
      gw = Tensor::Zeros(w_shape, DType::kF32, device);
      float* pgw = F32(gw);
      ForEachGroup(device, group_sizes, [&](int64_t e) {  // dw_e = x_e^T g_e (or its transpose)
        float* dst = pgw + e * k * n;
        if (group_sizes[e] == 0) return;
        if (trans_w) {
          GemmOn(device, true, false, n, k, group_sizes[e], pg, first[e] * n, px, first[e] * k, dst);
        } else {
          GemmOn(device, true, false, k, n, group_sizes[e], px, first[e] * k, pg, first[e] * n, dst);
        }
      });
    }
    return std::vector<Tensor>{gx, gw};
  });
}

}  // namespace onemodel::ops
