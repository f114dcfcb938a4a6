"""PyTorch reference for moe_bench: the same MoE FFN training step, written the efficient eager way.

T tokens, model dim D, expert width F, E experts, top-k noisy gating (Shazeer), capacity factor CF with
token dropping, Switch load-balancing loss; sort-based dispatch (argsort by expert, index_select, one
matmul pair per expert, index_add back), forward, backward and an SGD update. Prints one line:
TORCH moe ms_per_step=... dense_ms=... torch=VERSION threads=N  (--device cuda runs it on the GPU)
--amp bf16 runs the expert (and dense) products under torch.autocast(bfloat16) with f32 weights; the router
stays in f32, as in onemodel's mixed precision.
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tokens", type=int, default=4096)
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--hidden", type=int, default=1024)
    p.add_argument("--experts", type=int, default=8)
    p.add_argument("--top_k", type=int, default=2)
    p.add_argument("--capacity_factor", type=float, default=1.25)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--activation", default="relu", choices=["relu", "gelu"])
    p.add_argument("--amp", default="none", choices=["none", "bf16"])
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = torch.device(a.device)
    act = F.relu if a.activation == "relu" else F.gelu
    T, D, H, E, K = a.tokens, a.dim, a.hidden, a.experts, a.top_k
    x = torch.randn(T, D, device=dev)
    target = torch.randn(T, D, device=dev) * 0.01
    w_gate = torch.zeros(D, E, device=dev, requires_grad=True)
    w_noise = torch.zeros(D, E, device=dev, requires_grad=True)
    w_in = (torch.rand(E, D, H, device=dev) * 2 - 1).mul_(math.sqrt(3 / D)).requires_grad_()
    w_out = (torch.rand(E, H, D, device=dev) * 2 - 1).mul_(math.sqrt(3 / H)).requires_grad_()
    params = [w_gate, w_noise, w_in, w_out]
    capacity = math.ceil(a.capacity_factor * K * T / E)

    def autocast():
        return torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=a.amp == "bf16")

    def moe_step():
        for q in params:
            q.grad = None
        clean = x @ w_gate
        noisy = clean + torch.randn_like(clean) * (F.softplus(x @ w_noise) + 1e-2)
        top_v, top_i = noisy.topk(K, dim=1)
        gates = top_v.softmax(dim=1)
        expert = top_i.t().reshape(-1)  # slot-major priority
        token = torch.arange(T, device=dev).repeat(K)
        gate = gates.t().reshape(-1)
        order = torch.argsort(expert, stable=True)
        expert_sorted = expert[order]
        counts = torch.bincount(expert, minlength=E)
        starts = torch.cumsum(counts, 0) - counts
        rank = torch.arange(order.numel(), device=dev) - starts[expert_sorted]
        keep = order[rank < capacity]  # within each expert, the first `capacity` by priority
        keep = keep[torch.argsort(expert[keep], stable=True)]
        kept_counts = torch.bincount(expert[keep], minlength=E).tolist()
        rows = x.index_select(0, token[keep])
        outs = []
        with autocast():
            for e, chunk in enumerate(rows.split(kept_counts)):
                outs.append(act(chunk @ w_in[e]) @ w_out[e])
        y = torch.zeros(T, D, device=dev).index_add(0, token[keep], torch.cat(outs).float() * gate[keep].unsqueeze(1))
        probs = clean.softmax(dim=1)
        fraction = torch.bincount(expert, minlength=E).float() / expert.numel()
        aux = E * (fraction * probs.mean(0)).sum()
        loss = (y * target).sum() + 0.01 * aux
        loss.backward()
        with torch.no_grad():
            for q in params:
                q -= 1e-3 * q.grad

    w1 = (torch.rand(D, K * H, device=dev) * 2 - 1).mul_(math.sqrt(3 / D)).requires_grad_()
    w2 = (torch.rand(K * H, D, device=dev) * 2 - 1).mul_(math.sqrt(3 / (K * H))).requires_grad_()

    def dense_step():
        for q in (w1, w2):
            q.grad = None
        with autocast():
            out = act(x @ w1) @ w2
        (out.float() * target).sum().backward()
        with torch.no_grad():
            for q in (w1, w2):
                q -= 1e-3 * q.grad

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    def median_ms(fn):
        for _ in range(2):
            fn()
        sync()
        times = []
        for _ in range(9):
            t0 = time.perf_counter()
            fn()
            sync()
            times.append(time.perf_counter() - t0)
        return sorted(times)[len(times) // 2] * 1e3

    moe_ms = median_ms(moe_step)
    dense_ms = median_ms(dense_step)
    print(f"TORCH moe ms_per_step={moe_ms:.1f} dense_ms={dense_ms:.1f} torch={torch.__version__} "
          f"threads={torch.get_num_threads()}")


if __name__ == "__main__":
    main()
