"""The structured empirical NTK of a plain layer list of ntk_tf Dense/Conv2D layers (this
project's Sequential models), walked layer by layer without intercepting calls: a dense layer
contributes (s² A₁A₂ᵀ + β²) ⊙ (G₁G₂ᵀ) from its inputs A and the cotangents G = ∂f/∂z of its
outputs; a convolution contributes the Gram matrix of its per-sample weight gradients, formed
from input patches and cotangents (Pᵀ G), which is small because convolutions have few
weights, unless it is wide (`keeps_patches`): then a block keeps its patches and cotangents
and the contraction forms the gradients a chunk of output channels at a time, in float64
sums, saving the partial sum of a long block pair every few minutes so that it resumes.
"""

import os
import time
from typing import Optional

import numpy as np
import tensorflow as tf
from absl import logging

from ntk_tf.models import layers as ntk_layers
from ntk_tf.utils import io, progress

PARTIAL_SAVE_SECONDS = 120  # A long block pair saves its partial sums this often.


def param_layers(model) -> list:
  """The weight layers (ntk_tf Dense and Conv2D) of a plain layer list, in order."""
  return [l for l in model.layers if isinstance(l, (ntk_layers.Dense, ntk_layers.Conv2D))]


def param_layer_shapes(model):
  """[("dense", d_in, d_out) or ("conv", positions P, taps·channels K, filters C)] for the
  weight layers of a plain layer list, from the layers' static shapes."""
  shape, found = (1,) + tuple(model.input_shape[1:]), []
  for layer in model.layers:
    out = layer.compute_output_shape(shape)
    if isinstance(layer, ntk_layers.Dense):
      found.append(("dense", int(shape[-1]), int(out[-1])))
    elif isinstance(layer, ntk_layers.Conv2D):
      found.append(("conv", int(out[1] * out[2]), layer.kernel_size ** 2 * int(shape[-1]),
                    int(out[-1])))
    shape = out
  return found


def layer_features(engine, x):
  """What `block` contracts, for a block of samples, at engine.params.

  Returns (dense, conv, wide): dense is a list over dense layers of (s²-free input A
  (b, d_in), cotangent G = ∂f/∂z (b, L, d_out)); conv is (b, L, Q): the per-sample weight
  gradients of the narrow convolutions and every convolution's bias gradients, scaled by s and
  β and concatenated; wide is a list over the wide convolutions (`keeps_patches`) of (s·patches
  (b, P, K), cotangents (b, L, C, P)), whose weight gradients the contraction forms chunk by
  chunk.
  """
  w = list(engine.params)
  zs, inputs, index = [], [], 0
  with tf.GradientTape() as tape:
    h = x
    for layer in engine.model.layers:
      if isinstance(layer, (ntk_layers.Dense, ntk_layers.Conv2D)):
        inputs.append(h)
        h = layer.apply_with(w[index], w[index + 1], h)
        index += 2
        tape.watch(h)
        zs.append(h)
      else:
        h = layer(h)
    summed = tf.reduce_sum(h, axis=0)  # Samples are independent: one VJP per output.
  cotangents = tape.jacobian(summed, zs)  # (L, b, ...) per layer.
  dense, conv, wide = [], [], []
  for layer, a, g in zip(param_layers(engine.model), inputs, cotangents):
    g = tf.transpose(g, [1, 0] + list(range(2, len(g.shape))))  # (b, L, ...)
    if isinstance(layer, ntk_layers.Dense):
      dense.append((a, g))  # The Dense layer's input is already flat: (b, d_in).
      continue
    k, st = layer.kernel_size, layer.strides
    patches = tf.image.extract_patches(layer.pad(a), sizes=[1, k, k, 1],
                                       strides=[1, st, st, 1], rates=[1, 1, 1, 1],
                                       padding="VALID")           # (b, oh, ow, k·k·cin)
    b, num_out = tf.shape(g)[0], engine.num_outputs
    positions, taps, filters = patches.shape[1] * patches.shape[2], patches.shape[3], \
        g.shape[-1]
    if keeps_patches(positions, taps, filters, num_out):
      wide.append((layer.kernel_scale * tf.reshape(patches, [b, positions, taps]),
                   tf.reshape(tf.transpose(g, [0, 1, 4, 2, 3]),
                              [b, num_out, filters, positions])))
    else:
      weight_grads = tf.einsum("bhwk,bahwc->bakc", patches, g)      # Pᵀ G per sample
      conv.append(layer.kernel_scale * tf.reshape(weight_grads, [b, num_out, -1]))
    conv.append(layer.bias_scale * tf.reduce_sum(g, axis=[2, 3]))  # (b, L, cout)
  conv = tf.concat(conv, axis=-1) if conv else None
  return dense, conv, wide


def block(feats1, feats2, dense_layers, num_out: int, trace: bool = False,
          chunk_bytes: int = 2 ** 30, partial: Optional[str] = None,
          log_every_seconds: float = 30.0) -> np.ndarray:
  """Θ for a block pair from the layer features; the products run in NumPy's BLAS, which
  is ~2x faster than TensorFlow's matmul on the CPU here. trace: only Σ_a Θ[i, j, a, a]
  (b1, b2), contracting the outputs inside the matrix products (L times fewer flops).

  Args:
    dense_layers: the model's ntk_tf Dense layers, in order (their scales).
    chunk_bytes: wide convolutions are contracted chunk by chunk of output channels
      (`_wide_gram`) in float64 sums, each chunk's weight gradients within chunk_bytes.
    partial: a file the sum so far is saved to every few minutes and resumed from (the same
      block of the same kernel).
  """
  (dense1, conv1, wide1), (dense2, conv2, wide2) = feats1, feats2

  def gram(f1, f2):  # (b1, L, d), (b2, L, d) -> (b1, L, b2, L), or (b1, b2) with trace.
    if trace:
      return f1.reshape(len(f1), -1) @ f2.reshape(len(f2), -1).T
    return (f1.reshape(-1, f1.shape[-1]) @ f2.reshape(-1, f2.shape[-1]).T).reshape(
        len(f1), num_out, len(f2), num_out)

  total = None
  for layer, (a1, g1), (a2, g2) in zip(dense_layers, dense1, dense2):
    a1, a2, g1, g2 = (np.asarray(t) for t in (a1, a2, g1, g2))
    k_in = layer.kernel_scale ** 2 * (a1 @ a2.T) + layer.bias_scale ** 2
    term = gram(g1, g2) * (k_in if trace else k_in[:, None, :, None])
    total = term if total is None else total + term
  if conv1 is not None:
    term = gram(np.asarray(conv1), np.asarray(conv2))
    total = term if total is None else total + term
  if wide1:
    total = _wide_gram(total, wide1, wide2, same=feats1 is feats2, trace=trace,
                       chunk_bytes=chunk_bytes, partial=partial,
                       log_every_seconds=log_every_seconds)
  return total if trace else total.transpose(0, 2, 1, 3)


def keeps_patches(positions: int, taps: int, filters: int, num_outputs: int) -> bool:
  """Whether a convolution keeps its patches (P·K per sample) and cotangents (L·C·P) for the
  contraction to form its weight gradients (L·K·C) from, a chunk of output channels at a time,
  instead of keeping the gradients: whenever that is less to keep. LeNet x60's conv2 keeps
  1.9M numbers per sample instead of 86M, so all 600 samples of the papers' kernel fit at once
  and each weight gradient is formed once, not once per block pair."""
  return num_outputs * taps * filters > positions * (taps + num_outputs * filters)


def _wide_gram(total, wide1, wide2, *, same: bool, trace: bool, chunk_bytes: int,
               partial: Optional[str], log_every_seconds: float):
  """total + Σ over wide convolutions of the Gram matrix of their weight gradients, formed
  chunk by chunk of output channels c: F[(i, a), (c, k)] = Σ_p g[i, a, c, p] patches[i, p, k].

  A diagonal block (same) takes F Fᵀ, which NumPy hands to BLAS syrk (half the flops of a
  product). Sums are float64: (b1·L, b2·L), or (b1, b2) with trace.
  """
  b1, num_out = wide1[0][1].shape[:2]
  b2 = wide2[0][1].shape[0]
  shape = (b1, b2) if trace else (b1 * num_out, b2 * num_out)
  start = {"total": np.zeros(shape), "layer": 0, "channel": 0, "chunk": 0}
  if total is not None:
    start["total"] += total.reshape(shape)
  if partial and os.path.exists(partial):
    saved = io.load_arrays(partial, shapes={"total": shape, "layer": (), "channel": (),
                                            "chunk": ()})
    if saved is not None:
      start = {k: (v if k == "total" else int(v)) for k, v in saved.items()}
      logging.info("resuming a block of the empirical NTK at convolution %d, channel %d",
                   start["layer"], start["channel"])
  total = start["total"]
  work = [(layer, c) for layer, (_, g) in enumerate(wide1) for c in range(g.shape[2])]
  done = sum(1 for layer, c in work if (layer, c) < (start["layer"], start["channel"]))
  bar = progress.Progress(len(work), "empirical NTK block", unit="channels", done=done,
                          log_every_seconds=log_every_seconds)
  saved_at = time.time()
  for layer, ((p1, g1), (p2, g2)) in enumerate(zip(wide1, wide2)):
    if layer < start["layer"]:
      continue
    filters, taps = g1.shape[2], p1.shape[2]
    rows = b1 if same else b1 + b2
    chunk = start["chunk"] if layer == start["layer"] and start["chunk"] else max(
        1, min(filters, chunk_bytes // (rows * num_out * taps * p1.itemsize)))
    first = start["channel"] if layer == start["layer"] else 0
    # Written in place chunk after chunk: fresh 4 GiB arrays cost as much in page faults.
    buffers = [np.empty(b * num_out * chunk * taps, p1.dtype) for b in ((b1,) if same else
                                                                        (b1, b2))]
    for c in range(first, filters, chunk):
      channels = slice(c, min(c + chunk, filters))
      f1 = _weight_grads(p1, g1, channels, trace, buffers[0])
      f2 = f1 if same else _weight_grads(p2, g2, channels, trace, buffers[1])
      total += f1 @ f2.T
      del f1, f2
      bar.update(channels.stop - channels.start)
      if partial and time.time() - saved_at >= PARTIAL_SAVE_SECONDS and channels.stop < filters:
        io.write_npz(partial, total=total, layer=layer, channel=channels.stop, chunk=chunk)
        saved_at = time.time()
  bar.close()
  if partial and os.path.exists(partial):
    os.remove(partial)
  return total.reshape(b1, num_out, b2, num_out) if not trace else total


def _weight_grads(patches, cotangents, channels: slice, trace: bool,
                  buffer: np.ndarray) -> np.ndarray:
  """Per-sample weight gradients of output channels `channels`, written into the start of
  `buffer`: (b·L, c·K), or (b, L·c·K) with trace."""
  b, num_out = cotangents.shape[:2]
  g = np.ascontiguousarray(cotangents[:, :, channels]).reshape(b, -1, cotangents.shape[3])
  f = buffer[:g.shape[1] * b * patches.shape[2]].reshape(b, g.shape[1], patches.shape[2])
  np.matmul(g, patches, out=f)                                 # (b, L·c, K)
  return f.reshape(b, -1) if trace else f.reshape(b * num_out, -1)
