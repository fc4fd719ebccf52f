# PyTorch side of the learning comparison: trains the reference tiny GPT (the anchor's architecture) on the shipped
# corpus with the same batches, optimizer and steps as `rlaif demo`, and prints its loss curve as RESULT lines.
# Not a dependency: a yardstick. Run: OPENBLAS_NUM_THREADS=2 /usr/bin/python3 scripts/torch-train-compare.py --steps 300
import math, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

steps = int(sys.argv[sys.argv.index("--steps") + 1]) if "--steps" in sys.argv else 300
seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 0
torch.set_num_threads(1)
torch.manual_seed(seed)
V, D, L, H, T, B = 96, 128, 4, 4, 64, 16

def encode(text):  # newline -> 0, printable ASCII 32..126 -> 1..95 (the project's CharTokenizer)
    return [0 if ch == "\n" else ord(ch) - 31 for ch in text]

def mix32(i):  # the integer hash `rlaif demo` uses to pick batch offsets, so both sides see the same batches
    x = ((i + 1) * 0x9E3779B1) & 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & 0xFFFFFFFF
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & 0xFFFFFFFF
    x ^= x >> 16
    return x

data = torch.tensor(encode(open("data/tiny-world.txt").read()), dtype=torch.long)
split = int(len(data) * 0.9)
train, held = data[:split], data[split:]

def batch(source, step, salt):
    idx = [mix32(salt * 1_000_003 + step * B + b) % (len(source) - T - 1) for b in range(B)]
    x = torch.stack([source[i : i + T + 1] for i in idx])
    return x[:, :-1], x[:, 1:]

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.qkv, self.proj = nn.Linear(D, 3 * D), nn.Linear(D, D)
        self.fc1, self.fc2 = nn.Linear(D, 4 * D), nn.Linear(4 * D, D)
        self.register_buffer("mask", torch.triu(torch.full((T, T), float("-inf")), 1))

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)
        q, k, v = [z.view(b, t, H, D // H).transpose(1, 2) for z in (q, k, v)]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(D // H) + self.mask[:t, :t]
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, D)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh"))

class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, D), nn.Embedding(T, D)
        self.blocks = nn.ModuleList([Block() for _ in range(L)])
        self.lnf = nn.LayerNorm(D)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.normal_(p, 0, 0.02)
            elif p is not None:
                pass

    def forward(self, idx):
        x = self.wte(idx) + self.wpe.weight[: idx.shape[1]]
        for blk in self.blocks:
            x = blk(x)
        return self.lnf(x) @ self.wte.weight.t()

model = GPT()
for m in model.modules():
    if isinstance(m, nn.Linear):
        nn.init.zeros_(m.bias)


def load_init(directory):  # start from the same weights as `rlaif demo --save-init DIR` (safetensors, F32)
    import json, struct
    import numpy as np
    raw = open(f"{directory}/model.safetensors", "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    def get(name):
        meta = header[name]
        a, b = meta["data_offsets"]
        return torch.from_numpy(np.frombuffer(raw[8 + n + a : 8 + n + b], dtype=np.float32).reshape(meta["shape"]).copy())
    with torch.no_grad():
        model.wte.weight.copy_(get("wte.weight"))
        model.wpe.weight.copy_(get("wpe.weight")[:T])
        model.lnf.weight.copy_(get("ln_f.weight")); model.lnf.bias.copy_(get("ln_f.bias"))
        for i, blk in enumerate(model.blocks):
            p = f"h.{i}."
            for ln, name in ((blk.ln1, "ln_1"), (blk.ln2, "ln_2")):
                ln.weight.copy_(get(p + name + ".weight")); ln.bias.copy_(get(p + name + ".bias"))
            for lin, name in ((blk.qkv, "attn.c_attn"), (blk.proj, "attn.c_proj"), (blk.fc1, "mlp.c_fc"), (blk.fc2, "mlp.c_proj")):
                lin.weight.copy_(get(p + name + ".weight").t()); lin.bias.copy_(get(p + name + ".bias"))  # Conv1D (in, out)


if "--init" in sys.argv:
    load_init(sys.argv[sys.argv.index("--init") + 1])
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
t0 = time.perf_counter()
for step in range(steps):
    x, y = batch(train, step, 0)
    loss = F.cross_entropy(model(x).reshape(-1, V), y.reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    if step % 25 == 0 or step == steps - 1:
        print(f"RESULT torch_train_loss_step_{step} {loss.item():.4f}")
with torch.no_grad():
    losses = []
    for k in range(8):
        x, y = batch(held, k, 1)
        losses.append(F.cross_entropy(model(x).reshape(-1, V), y.reshape(-1)).item())
print(f"RESULT torch_heldout_loss {sum(losses) / len(losses):.4f}")
print(f"RESULT torch_train_seconds {time.perf_counter() - t0:.1f}")
