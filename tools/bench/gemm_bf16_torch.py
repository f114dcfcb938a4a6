"""PyTorch's CPU products for core/gemm_bf16_bench: bf16 (oneDNN, AVX512-BF16 where the CPU has it) and f32.

Prints one line per shape: TORCH gemm ta tb m n k bf16_gflops f32_gflops (best of --repeats).
"""
import argparse
import time

import torch


def best_seconds(fn, repeats):
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("shapes", nargs="+", help="ta,tb,m,n,k")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for shape in args.shapes:
        ta, tb, m, n, k = (int(v) for v in shape.split(","))
        flops = 2.0 * m * n * k
        rates = []
        for dtype in (torch.bfloat16, torch.float32):
            a = torch.randn(k, m) if ta else torch.randn(m, k)
            b = torch.randn(n, k) if tb else torch.randn(k, n)
            a, b = a.to(dtype), b.to(dtype)
            op_a = a.t() if ta else a
            op_b = b.t() if tb else b
            rates.append(flops / best_seconds(lambda: torch.matmul(op_a, op_b), args.repeats) / 1e9)
        print(f"TORCH gemm {ta} {tb} {m} {n} {k} {rates[0]:.1f} {rates[1]:.1f} torch={torch.__version__}", flush=True)


if __name__ == "__main__":
    main()
