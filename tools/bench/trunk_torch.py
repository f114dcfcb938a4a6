"""PyTorch reference for the MultiModel trunk's training step (model/multimodel.cc), written the efficient eager way.

The same model as the C++ one (same shapes, ops and parameter counts; default sizes from configs/default.pbtxt):
image modality (9-channel pixel copy, 4 separable 3x3 conv blocks 28->28->14->7->4) or symbol modality (tied
embedding x sqrt(d)), timing signal, encoder (conv block, self-attention, MoE, conv block, LN), I/O mixer
(attention over the encoder, causal conv block), decoder (causal self-attention, encoder attention, MoE, causal
conv block, LN), class-label head or tied softmax. MoE = noisy top-k router (Shazeer), capacity with token
dropping, per-expert FFNs (no biases), Switch load-balance (0.01) and router z-loss (0.001). Adam (lr 2e-3,
betas (0.9, 0.98)), global gradient clipping to norm 1. fp32, CPU.

Times (median of 7 after 2 warm-ups) one step pair: an image-classification step on `batch` random 28x28
images with random labels, plus a translation step on random ids [batch, src_len] -> [batch, tgt_len]; each
step = zero grads, forward, loss + aux losses, backward, clip, Adam step. Prints one line:
TORCH trunk tokens_per_second=... ms_per_step_pair=... image_ms=... translation_ms=... params=N torch=VERSION threads=N
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

LN_EPS = 1e-5  # ops::LayerNorm's default
NOISE_EPSILON = 1e-2  # router.cc kNoiseEpsilon


def uniform(shape, bound):
    return nn.Parameter((torch.rand(*shape) * 2 - 1) * bound)


def ones(n):
    return nn.Parameter(torch.ones(n))


def zeros(*shape):
    return nn.Parameter(torch.zeros(*shape))


def timing_signal(length, dim):
    """model/attention.cc TimingSignal: sin in the first half of the channels, cos in the second."""
    half = dim // 2
    log_increment = math.log(1e4) / (half - 1) if half > 1 else 0.0
    t = torch.arange(length, dtype=torch.float64).unsqueeze(1)
    angle = t * torch.exp(-torch.arange(half, dtype=torch.float64) * log_increment)
    s = torch.zeros(length, dim, dtype=torch.float64)
    s[:, :half] = torch.sin(angle)
    s[:, half:2 * half] = torch.cos(angle)
    return s.float()


def apply_mask(x, mask):
    return x if mask is None else x * mask.unsqueeze(-1)


class ImageBlock(nn.Module):
    """Separable 3x3 conv (depthwise [C_in,1,3,3] + pointwise [C_in, C_out] + bias), padding 1, then relu(LN(.))."""

    def __init__(self, cin, cout, stride, norm):
        super().__init__()
        self.stride, self.norm, self.cout = stride, norm, cout
        self.depthwise = uniform((cin, 1, 3, 3), math.sqrt(3 / 9))
        self.pointwise = uniform((cin, cout), math.sqrt(6 / cin))
        self.bias = zeros(cout)
        if norm:
            self.gamma, self.beta = ones(cout), zeros(cout)

    def forward(self, x):  # [B, H, W, C] -> [B, H', W', C']
        y = F.conv2d(x.permute(0, 3, 1, 2), self.depthwise, None, self.stride, 1, 1, x.shape[3])
        y = y.permute(0, 2, 3, 1)  # channels last again (the conv keeps the channels-last memory format)
        b, h, w, c = y.shape
        y = torch.addmm(self.bias, y.reshape(b * h * w, c), self.pointwise)
        if self.norm:
            y = F.layer_norm(y, (self.cout,), self.gamma, self.beta, LN_EPS)
        return F.relu(y).view(b, h, w, self.cout)


class ImageModality(nn.Module):
    def __init__(self, channels, dim):
        super().__init__()
        self.stem = ImageBlock(9, channels, 1, False)
        self.down1 = ImageBlock(channels, 2 * channels, 2, True)
        self.down2 = ImageBlock(2 * channels, dim, 2, True)
        self.down3 = ImageBlock(dim, dim, 2, True)
        self.register_buffer("replicate", torch.ones(1, 9))  # not a parameter, as in the C++ model

    def forward(self, images):  # [B, H, W] in [0, 1] -> [B, ceil(H/8) * ceil(W/8), d]
        b = images.shape[0]
        x = ((images - 0.286) * (1 / 0.353)).unsqueeze(-1) @ self.replicate  # [B, H, W, 9]
        x = self.down3(self.down2(self.down1(self.stem(x))))
        return x.reshape(b, x.shape[1] * x.shape[2], x.shape[3])


class ConvBlock(nn.Module):
    """x + steps(x); step i: relu -> depthwise conv1d (kernel 3, dilation 2^i) -> pointwise + bias -> LN.

    The depthwise conv is written as a sum of shifted slices in the [B, T, d] layout (weights [3, d], as in
    the C++ model): on the CPU that is several times faster, forward and backward, than F.conv1d with groups=d.
    """

    def __init__(self, dim, steps, causal):
        super().__init__()
        self.dim, self.causal = dim, causal
        self.dilations = [1 << i for i in range(steps)]
        self.depthwise = nn.ParameterList([uniform((3, dim), math.sqrt(3 / 3)) for _ in range(steps)])
        self.pointwise = nn.ParameterList([uniform((dim, dim), math.sqrt(6 / dim)) for _ in range(steps)])
        self.bias = nn.ParameterList([zeros(dim) for _ in range(steps)])
        self.gamma = nn.ParameterList([ones(dim) for _ in range(steps)])
        self.beta = nn.ParameterList([zeros(dim) for _ in range(steps)])

    def forward(self, x):  # [B, T, d]
        b, t, d = x.shape
        y = x
        for i, dil in enumerate(self.dilations):
            # "Same" length: 2 * dil of zero padding, all on the left (causal) or split evenly.
            h = F.pad(F.relu(y), (0, 0, 2 * dil, 0) if self.causal else (0, 0, dil, dil))
            w = self.depthwise[i]
            h = h[:, :t] * w[0] + h[:, dil:dil + t] * w[1] + h[:, 2 * dil:2 * dil + t] * w[2]
            h = torch.addmm(self.bias[i], h.reshape(b * t, d), self.pointwise[i])
            y = F.layer_norm(h, (d,), self.gamma[i], self.beta[i], LN_EPS).view(b, t, d)
        return x + y


class AttentionBlock(nn.Module):
    """x + MHA(LN(x), memory): wq, wk, wv, wo [d, d] (wq|wk|wv kept as one [d, 3d] tensor), no biases."""

    def __init__(self, dim, heads):
        super().__init__()
        self.dim, self.heads = dim, heads
        self.gamma, self.beta = ones(dim), zeros(dim)
        self.w_qkv = uniform((dim, 3 * dim), math.sqrt(3 / dim))
        self.wo = uniform((dim, dim), math.sqrt(3 / dim))

    def split_heads(self, x):  # [B, T, d] -> [B, h, T, d/h]
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.dim // self.heads).transpose(1, 2)

    def forward(self, x, memory=None, causal=False, key_mask=None):
        """memory None: self-attention over LN(x). key_mask: [B, Tk] bool (True keep) or None."""
        d = self.dim
        normed = F.layer_norm(x, (d,), self.gamma, self.beta, LN_EPS)
        if memory is None:
            q, k, v = (normed @ self.w_qkv).split(d, dim=2)
        else:
            q = normed @ self.w_qkv[:, :d]
            k, v = (memory @ self.w_qkv[:, d:]).split(d, dim=2)
        mask = None if key_mask is None else key_mask[:, None, None, :]
        o = F.scaled_dot_product_attention(self.split_heads(q), self.split_heads(k), self.split_heads(v),
                                           attn_mask=mask, is_causal=causal)
        b, _, t, _ = o.shape
        return x + o.transpose(1, 2).reshape(b, t, d) @ self.wo


class MoeBlock(nn.Module):
    """x + MoE(LN(x)); returns (y, aux_loss)."""

    def __init__(self, dim, experts, hidden, top_k, capacity_factor, load_balance_coef=0.01, z_loss_coef=0.001):
        super().__init__()
        self.dim, self.experts, self.top_k, self.cf = dim, experts, top_k, capacity_factor
        self.lb_coef, self.z_coef = load_balance_coef, z_loss_coef
        self.gamma, self.beta = ones(dim), zeros(dim)
        self.router = zeros(dim, 2 * experts)  # [W_gate | W_noise], zero-initialized (Shazeer)
        self.w_in = uniform((experts, dim, hidden), math.sqrt(3 / dim))
        self.w_out = uniform((experts, hidden, dim), math.sqrt(3 / hidden))

    def forward(self, x):
        d, e, k = self.dim, self.experts, self.top_k
        tokens = F.layer_norm(x, (d,), self.gamma, self.beta, LN_EPS).reshape(-1, d)
        t = tokens.shape[0]
        with torch.autocast("cpu", enabled=False):  # routers stay f32 under bf16 autocast, as ours do
            clean, raw_noise = (tokens.float() @ self.router).split(e, dim=1)
        noisy = clean + torch.randn_like(clean) * (F.softplus(raw_noise) + NOISE_EPSILON)
        top_v, top_i = noisy.topk(k, dim=1)
        gates = top_v.softmax(dim=1)
        # Slot-major assignments (all first choices, then all second ones): the capacity priority order.
        expert = top_i.t().reshape(-1)
        gate = gates.t().reshape(-1)
        capacity = math.ceil(self.cf * k * t / e)
        order = torch.argsort(expert, stable=True)
        counts = torch.bincount(expert, minlength=e)
        starts = torch.cumsum(counts, 0) - counts
        rank = torch.arange(order.numel()) - starts[expert[order]]
        keep = order[rank < capacity]  # grouped by expert, each expert's first `capacity` assignments
        kept_counts = counts.clamp(max=capacity).tolist()
        token_of_row = keep % t
        rows = tokens.index_select(0, token_of_row)
        outs = [F.relu(chunk @ self.w_in[i]) @ self.w_out[i] for i, chunk in enumerate(rows.split(kept_counts))]
        expert_out = (torch.cat(outs) * gate[keep].unsqueeze(1)).to(tokens.dtype)
        y = torch.zeros_like(tokens).index_add(0, token_of_row, expert_out)
        # Switch load balancing over every routed assignment (before capacity), and the router z-loss.
        fraction = counts.float() / expert.numel()
        load_balance = e * (fraction * clean.softmax(dim=1).mean(0)).sum()
        z_loss = torch.logsumexp(clean, dim=1).square().mean()
        return x + y.view_as(x), self.lb_coef * load_balance + self.z_coef * z_loss


class Encoder(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.conv_in = ConvBlock(a.dim, a.conv_steps, False)
        self.attention = AttentionBlock(a.dim, a.heads)
        self.moe = MoeBlock(a.dim, a.experts, a.hidden, a.top_k, a.capacity_factor)
        self.conv_out = ConvBlock(a.dim, a.conv_steps, False)
        self.gamma, self.beta = ones(a.dim), zeros(a.dim)

    def forward(self, x, mask, key_mask):
        h = apply_mask(self.conv_in(apply_mask(x, mask)), mask)
        h = self.attention(h, key_mask=key_mask)
        h, aux = self.moe(h)
        h = self.conv_out(apply_mask(h, mask))
        return apply_mask(F.layer_norm(h, (h.shape[2],), self.gamma, self.beta, LN_EPS), mask), aux


class Mixer(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.attention = AttentionBlock(a.dim, a.heads)
        self.conv = ConvBlock(a.dim, a.conv_steps, True)

    def forward(self, targets, encoded, key_mask):
        return self.conv(self.attention(targets, encoded, key_mask=key_mask))


class Decoder(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.self_attention = AttentionBlock(a.dim, a.heads)
        self.encoder_attention = AttentionBlock(a.dim, a.heads)
        self.moe = MoeBlock(a.dim, a.experts, a.hidden, a.top_k, a.capacity_factor)
        self.conv = ConvBlock(a.dim, a.conv_steps, True)
        self.gamma, self.beta = ones(a.dim), zeros(a.dim)

    def forward(self, mixed, encoded, key_mask):
        h = self.self_attention(mixed, causal=True)
        h = self.encoder_attention(h, encoded, key_mask=key_mask)
        h, aux = self.moe(h)
        h = self.conv(h)
        return F.layer_norm(h, (h.shape[2],), self.gamma, self.beta, LN_EPS), aux


class MultiModel(nn.Module):
    """Two tasks: 0 = image -> class label, 1 = symbols -> symbols (one shared vocabulary)."""

    def __init__(self, a, classes=10):
        super().__init__()
        d = a.dim
        self.dim = d
        self.image = ImageModality(a.image_channels, d)
        self.embedding = nn.Parameter(torch.randn(a.vocab, d) / math.sqrt(d))
        self.class_weight = uniform((d, classes), math.sqrt(3 / d))
        self.class_bias = zeros(classes)
        self.task_tokens = nn.Parameter(torch.randn(2, d))
        self.encoder, self.mixer, self.decoder = Encoder(a), Mixer(a), Decoder(a)
        self.register_buffer("timing", timing_signal(max(64, a.src_len, a.tgt_len, 16), d))

    def embed(self, ids):
        return F.embedding(ids, self.embedding) * math.sqrt(self.dim)

    def add_timing(self, x):
        return x + self.timing[:x.shape[1]]

    def decode_states(self, task, encoded, key_mask, prefix=None):
        b = encoded.shape[0]
        y = self.task_tokens[task].view(1, 1, self.dim).expand(b, 1, self.dim)
        if prefix is not None and prefix.numel() > 0:
            y = torch.cat([y, self.embed(prefix)], dim=1)
        y = self.add_timing(y)
        return self.decoder(self.mixer(y, encoded, key_mask), encoded, key_mask)

    def image_loss(self, images, labels):
        encoded, aux_e = self.encoder(self.add_timing(self.image(images)), None, None)
        states, aux_d = self.decode_states(0, encoded, None)
        logits = torch.addmm(self.class_bias, states.mean(1), self.class_weight)
        return F.cross_entropy(logits, labels) + aux_e + aux_d

    def translation_loss(self, inputs, targets):
        real = inputs != 0
        mask = real.float()
        encoded, aux_e = self.encoder(self.add_timing(self.embed(inputs)), mask, real)
        states, aux_d = self.decode_states(1, encoded, real, targets[:, :-1])
        logits = states @ self.embedding.t()  # tied softmax
        labels = targets.masked_fill(targets == 0, -100)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
        return loss + aux_e + aux_d


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--conv_steps", type=int, default=2)
    p.add_argument("--image_channels", type=int, default=32)
    p.add_argument("--experts", type=int, default=8)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--top_k", type=int, default=2)
    p.add_argument("--capacity_factor", type=float, default=1.25)
    p.add_argument("--vocab", type=int, default=4000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--src_len", type=int, default=16)
    p.add_argument("--tgt_len", type=int, default=16)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--bf16", action="store_true", help="autocast to bf16 (ours: model.matmul_precision BF16)")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    model = MultiModel(a)
    params = list(model.parameters())
    n_params = sum(q.numel() for q in params)
    try:
        opt = torch.optim.Adam(params, lr=2e-3, betas=(0.9, 0.98), eps=1e-8, fused=True)
    except (RuntimeError, TypeError):
        opt = torch.optim.Adam(params, lr=2e-3, betas=(0.9, 0.98), eps=1e-8, foreach=True)

    b = a.batch
    images = torch.rand(b, 28, 28)
    classes = torch.randint(0, 10, (b,))
    src = torch.randint(3, a.vocab, (b, a.src_len))
    tgt = torch.randint(3, a.vocab, (b, a.tgt_len))

    def train_step(loss_fn, *batch):
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
            loss = loss_fn(*batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0, foreach=True)
        opt.step()
        return loss

    def image_step():
        train_step(model.image_loss, images, classes)

    def translation_step():
        train_step(model.translation_loss, src, tgt)

    for _ in range(a.warmup):
        image_step()
        translation_step()
    image_times, translation_times, pair_times = [], [], []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        image_step()
        t1 = time.perf_counter()
        translation_step()
        t2 = time.perf_counter()
        image_times.append(t1 - t0)
        translation_times.append(t2 - t1)
        pair_times.append(t2 - t0)

    def median_ms(times):
        return sorted(times)[len(times) // 2] * 1e3

    image_ms, translation_ms, pair_ms = median_ms(image_times), median_ms(translation_times), median_ms(pair_times)
    # Positions the trunk processes, as ForwardResult.positions counts them: 16 image tokens + 1 decoder position
    # per image, src_len encoder + tgt_len decoder positions per sentence pair.
    tokens = b * (16 + 1) + b * (a.src_len + a.tgt_len)
    print(f"TORCH trunk tokens_per_second={tokens / (pair_ms / 1e3):.1f} ms_per_step_pair={pair_ms:.2f} "
          f"image_ms={image_ms:.2f} translation_ms={translation_ms:.2f} params={n_params} torch={torch.__version__} "
          f"threads={torch.get_num_threads()}")


if __name__ == "__main__":
    main()
