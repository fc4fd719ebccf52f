#!/usr/bin/python3
# PyTorch reference for the transformer test fixtures: GPT-2 and Llama-family forward passes written out in plain
# torch (float64), from a safetensors checkpoint read with numpy; writes reference.safetensors (logits).
# Leaves out: transformers (not installed here), KV caches, padding. Not a CI dependency (Debian python3-torch).
# Usage: /usr/bin/python3 scripts/torch-reference.py src/models/fixtures/*/
import json
import math
import os
import struct
import sys

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "F64": np.float64}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        array = np.frombuffer(raw[8 + n + begin : 8 + n + end], dtype=DTYPES[entry["dtype"]])
        if entry["dtype"] == "BF16":  # bfloat16 is the top half of a float32
            array = (array.astype(np.uint32) << 16).view(np.float32)
        out[name] = torch.from_numpy(array.astype(np.float64).reshape(entry["shape"]))
    return out


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, t in tensors.items():
        blob = np.ascontiguousarray(t.detach().numpy().astype("<f4")).tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load_weights(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    if not os.path.exists(index):
        return read_safetensors(os.path.join(folder, "model.safetensors"))
    weights = {}
    for shard in sorted(set(json.load(open(index))["weight_map"].values())):
        weights.update(read_safetensors(os.path.join(folder, shard)))
    return weights


def causal_attention(q, k, v):
    """q (B, H, T, D), k/v (B, H, T, D) -> (B, H, T, D), softmax(q k^T / sqrt(D)) v with a causal mask."""
    T, D = q.shape[-2], q.shape[-1]
    scores = q @ k.transpose(-1, -2) / math.sqrt(D)  # (B, H, T, T)
    mask = torch.ones(T, T, dtype=torch.bool).triu(1)
    return torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1) @ v


def gpt2_forward(cfg, w, ids):
    w = {k.removeprefix("transformer."): v for k, v in w.items()}
    B, T = ids.shape
    C, H = cfg["n_embd"], cfg["n_head"]
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (C,), w[p + ".weight"], w[p + ".bias"], eps)
    heads = lambda x: x.view(B, T, H, C // H).transpose(1, 2)  # (B, H, T, D)
    x = w["wte.weight"][ids] + w["wpe.weight"][torch.arange(T)]  # (B, T, C)
    for i in range(cfg["n_layer"]):
        p = f"h.{i}"
        qkv = ln(x, p + ".ln_1") @ w[p + ".attn.c_attn.weight"] + w[p + ".attn.c_attn.bias"]  # Conv1D: x W + b
        q, k, v = qkv.split(C, dim=-1)
        y = causal_attention(heads(q), heads(k), heads(v)).transpose(1, 2).reshape(B, T, C)
        x = x + y @ w[p + ".attn.c_proj.weight"] + w[p + ".attn.c_proj.bias"]
        h = ln(x, p + ".ln_2") @ w[p + ".mlp.c_fc.weight"] + w[p + ".mlp.c_fc.bias"]
        h = 0.5 * h * (1 + torch.tanh(math.sqrt(2 / math.pi) * (h + 0.044715 * h**3)))  # gelu_new
        x = x + h @ w[p + ".mlp.c_proj.weight"] + w[p + ".mlp.c_proj.bias"]
    x = ln(x, "ln_f")
    head = w["lm_head.weight"] if not cfg.get("tie_word_embeddings", True) else w["wte.weight"]
    return x @ head.T  # (B, T, V)


def llama_inv_freq(cfg, D):
    base = cfg.get("rope_theta", 10000.0)
    inv_freq = 1.0 / (base ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))  # float32, as transformers
    inv_freq = inv_freq.double()
    scaling = cfg.get("rope_scaling") or {}
    if scaling.get("rope_type", scaling.get("type")) == "llama3":
        factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv_freq
        scaled = torch.where(wavelen > old / low, inv_freq / factor, inv_freq)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < old / high) & ~(wavelen > old / low)
        inv_freq = torch.where(medium, smoothed, scaled)
    return inv_freq


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def llama_forward(cfg, w, ids):
    w = {(k if k.startswith(("model.", "lm_head.")) else "model." + k): v for k, v in w.items()}
    B, T = ids.shape
    C, H = cfg["hidden_size"], cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads") or H
    D = cfg.get("head_dim") or C // H
    eps = cfg.get("rms_norm_eps", 1e-6)
    qkv_bias = cfg.get("attention_bias", cfg["model_type"] == "qwen2")
    o_bias = cfg.get("attention_bias", False)
    mlp_bias = cfg.get("mlp_bias", False)

    def rms(x, p):
        return w[p + ".weight"] * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def proj(x, p, bias):
        y = x @ w[p + ".weight"].T  # nn.Linear: (out, in)
        return y + w[p + ".bias"] if bias else y

    angles = torch.arange(T, dtype=torch.float64)[:, None] * llama_inv_freq(cfg, D)[None, :]  # (T, D/2)
    cos = torch.cat((angles, angles), -1).cos()  # (T, D)
    sin = torch.cat((angles, angles), -1).sin()
    x = w["model.embed_tokens.weight"][ids]  # (B, T, C)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}"
        h = rms(x, p + ".input_layernorm")
        q = proj(h, p + ".self_attn.q_proj", qkv_bias).view(B, T, H, D).transpose(1, 2)  # (B, H, T, D)
        k = proj(h, p + ".self_attn.k_proj", qkv_bias).view(B, T, KV, D).transpose(1, 2)  # (B, KV, T, D)
        v = proj(h, p + ".self_attn.v_proj", qkv_bias).view(B, T, KV, D).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = k.repeat_interleave(H // KV, dim=1), v.repeat_interleave(H // KV, dim=1)  # query head j uses kv j // (H/KV)
        y = causal_attention(q, k, v).transpose(1, 2).reshape(B, T, H * D)
        x = x + proj(y, p + ".self_attn.o_proj", o_bias)
        h = rms(x, p + ".post_attention_layernorm")
        gate, up = proj(h, p + ".mlp.gate_proj", mlp_bias), proj(h, p + ".mlp.up_proj", mlp_bias)
        x = x + proj(torch.nn.functional.silu(gate) * up, p + ".mlp.down_proj", mlp_bias)
    x = rms(x, "model.norm")
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else w["lm_head.weight"]
    return x @ head.T  # (B, T, V)


def main(folders):
    torch.set_grad_enabled(False)
    for folder in folders:
        cfg = json.load(open(os.path.join(folder, "config.json")))
        ids = torch.tensor(json.load(open(os.path.join(folder, "inputs.json")))["input_ids"], dtype=torch.long)
        weights = load_weights(folder)
        forward = gpt2_forward if cfg["model_type"] == "gpt2" else llama_forward
        logits = forward(cfg, weights, ids)
        meta = {"torch": torch.__version__, "numpy": np.__version__, "compute": "float64", "script": "scripts/torch-reference.py"}
        write_safetensors(os.path.join(folder, "reference.safetensors"), {"logits": logits}, meta)
        print(f"{folder}: logits {tuple(logits.shape)}, |logits| max {logits.abs().max().item():.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
