"""The peers' side of benchmarks/keras_models.py: the same ResNet-18 and ViT-style transformer
in PyTorch, their empirical NTK by torch.func as its tutorial computes it ("Neural Tangent
Kernels", pytorch.org/functorch): the Jacobian contraction (vmap(jacrev) per sample, then
einsum) and NTK-vector products (vmap over the outputs of vjp, then jvp).

Runs in a separate benchmark venv, never with the project's dependencies:
  python3 -m venv /work/bench_venv && /work/bench_venv/bin/pip install torch numpy
  /work/bench_venv/bin/python benchmarks/torch_peers.py resnet jacobian 100 10
  (argv: model resnet|vit, method jacobian|ntvp, images, block size; prints one JSON line)

Blocks: the kernel of n images is computed block pair by block pair (a symmetric kernel's
upper triangle), each block's Jacobian formed for the pair, as the tutorial's functions are
called on (x1, x2); the block size keeps the Jacobians within memory (100 images x 10
outputs x 11.2M weights would be 45 GB at once).
"""

import json
import resource
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, jacrev, jvp, vjp, vmap


class BasicBlock(nn.Module):

  def __init__(self, cin, cout, stride):
    super().__init__()
    self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
    self.bn1 = nn.BatchNorm2d(cout)
    self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
    self.bn2 = nn.BatchNorm2d(cout)
    self.skip = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
        nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

  def forward(self, x):
    h = torch.relu(self.bn1(self.conv1(x)))
    return torch.relu(self.bn2(self.conv2(h)) + self.skip(x))


class ResNet18(nn.Module):
  """The CIFAR layout of ntk_tf.models.stock_keras.resnet18 (11,173,962 weights)."""

  def __init__(self, num_outputs=10):
    super().__init__()
    self.stem = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64),
                              nn.ReLU())
    blocks, cin = [], 64
    for stage, cout in enumerate((64, 128, 256, 512)):
      for index in range(2):
        blocks.append(BasicBlock(cin, cout, 2 if stage > 0 and index == 0 else 1))
        cin = cout
    self.blocks = nn.Sequential(*blocks)
    self.head = nn.Linear(512, num_outputs)

  def forward(self, x):
    return self.head(self.blocks(self.stem(x)).mean(dim=(2, 3)))


class Attention(nn.Module):
  """Multi-head self-attention written out (q, k, v and output projections, as Keras'
  MultiHeadAttention): nn.MultiheadAttention's fused kernel has no forward-mode AD."""

  def __init__(self, dim, heads):
    super().__init__()
    self.heads = heads
    self.query, self.key, self.value, self.out = (nn.Linear(dim, dim) for _ in range(4))

  def forward(self, x):
    b, s, d = x.shape
    split = lambda t: t.view(b, s, self.heads, d // self.heads).transpose(1, 2)
    q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
    weights = torch.softmax(q @ k.transpose(-1, -2) / (d // self.heads) ** 0.5, dim=-1)
    return self.out((weights @ v).transpose(1, 2).reshape(b, s, d))


class ViT(nn.Module):
  """ntk_tf.models.stock_keras.vit's defaults: 4x4 patches of 32x32x3 images, width 64, 4
  heads, one pre-norm encoder block with a GELU MLP of 128, class token and positions."""

  def __init__(self, num_outputs=10, patch=4, dim=64, heads=4, mlp_dim=128, size=32):
    super().__init__()
    self.embed = nn.Conv2d(3, dim, patch, patch)
    tokens = (size // patch) ** 2 + 1
    self.token = nn.Parameter(torch.zeros(1, 1, dim))
    self.positions = nn.Parameter(0.02 * torch.randn(1, tokens, dim))
    self.norm1 = nn.LayerNorm(dim, eps=1e-6)
    self.attention = Attention(dim, heads)
    self.norm2 = nn.LayerNorm(dim, eps=1e-6)
    self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Linear(mlp_dim, dim))
    self.norm = nn.LayerNorm(dim, eps=1e-6)
    self.head = nn.Linear(dim, num_outputs)

  def forward(self, x):
    h = self.embed(x).flatten(2).transpose(1, 2)
    h = torch.cat([self.token.expand(h.shape[0], -1, -1), h], dim=1) + self.positions
    a = self.norm1(h)
    h = h + self.attention(a)
    h = h + self.mlp(self.norm2(h))
    return self.head(self.norm(h)[:, 0])


def ntk_jacobian(fn, params, x1, x2):
  """The tutorial's empirical_ntk_jacobian_contraction: (n1, n2, L, L)."""
  jac1 = [j.flatten(2) for j in vmap(jacrev(fn), (None, 0))(params, x1).values()]
  jac2 = [j.flatten(2) for j in vmap(jacrev(fn), (None, 0))(params, x2).values()]
  return sum(torch.einsum("Naf,Mbf->NMab", a, b) for a, b in zip(jac1, jac2))


def ntk_vps(fn, params, x1, x2):
  """The tutorial's empirical_ntk_ntk_vps (compute='full'): (n1, n2, L, L)."""
  def batched(p, x):
    return vmap(fn, (None, 0))(p, x)

  def product(vector):
    _, vjp_fn = vjp(lambda p: batched(p, x2), params)
    (tangent,) = vjp_fn(vector)
    return jvp(lambda p: batched(p, x1), (params,), (tangent,))[1]

  out = batched(params, x2)
  basis = torch.eye(out.numel(), dtype=out.dtype).view(out.numel(), *out.shape)
  return vmap(product)(basis).view(*out.shape, x1.shape[0], out.shape[-1]).permute(
      2, 0, 3, 1)


def main():
  name, method, n, block = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
  torch.manual_seed(0)
  model = (ResNet18() if name == "resnet" else ViT()).eval()
  params = {k: v.detach() for k, v in model.named_parameters()}
  buffers = {k: v for k, v in model.named_buffers()}

  def fn(p, x):  # One sample -> (L,).
    return functional_call(model, (p, buffers), (x.unsqueeze(0),)).squeeze(0)

  x = torch.from_numpy(np.random.default_rng(0).normal(size=(n, 3, 32, 32)).astype("float32"))
  compute = ntk_jacobian if method == "jacobian" else ntk_vps
  kernel = np.zeros((n, n, 10, 10))
  start = time.time()
  starts = range(0, n, block)
  for i in starts:
    for j in starts:
      if j < i:
        continue
      k = compute(fn, params, x[i:i + block], x[j:j + block]).numpy()
      kernel[i:i + block, j:j + block] = k
      kernel[j:j + block, i:i + block] = k.transpose(1, 0, 3, 2)
  seconds = time.time() - start
  print(json.dumps(dict(model=name, method=f"torch.func {method}", seconds=seconds,
                        block_size=block, threads=torch.get_num_threads(),
                        params=sum(p.numel() for p in params.values()),
                        peak_rss_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                        trace=float(np.einsum("iiaa->", kernel)))))


if __name__ == "__main__":
  main()
