"""A stack of M independent MLPs stored as batched tensors, so the whole committee trains as one model.

All weights live in one flat 1-D tensor; layer ``l`` is a contiguous view of it with weights ``(M, fan_in, fan_out)``
and biases ``(M, 1, fan_out)``. One tensor means one fused optimiser kernel and one masked copy to keep each member's
best weights. Every layer runs as ``torch.baddbmm`` over the member axis, on a shared input (prediction: ``X.expand``,
no copy) or on each member's own rows (training); no Python loop over members appears in the forward pass or training.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "silu": F.silu,
    "relu": F.relu,
    "tanh": torch.tanh,
    "gelu": F.gelu,
}


def layer_shapes(n_features: int, hidden: Sequence[int]) -> list[tuple[int, int]]:
    """Per layer (weights then bias): the per-member shapes ``(fan_in, fan_out)`` and ``(1, fan_out)``."""
    widths = [n_features, *hidden, 1]
    shapes = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True):
        shapes += [(fan_in, fan_out), (1, fan_out)]
    return shapes


def unflatten(flat: torch.Tensor, shapes: Sequence[tuple[int, int]], n_members: int) -> list[torch.Tensor]:
    """Contiguous views ``[W_1, b_1, ..., W_L, b_L]`` of shape ``(M, rows, cols)`` into the 1-D ``flat`` tensor."""
    views, start = [], 0
    for rows, cols in shapes:
        size = n_members * rows * cols
        views.append(flat[start : start + size].view(n_members, rows, cols))
        start += size
    return views


def flatten(params: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.cat([p.reshape(-1) for p in params])


def member_of_element(shapes: Sequence[tuple[int, int]], n_members: int) -> torch.Tensor:
    """For every element of the flat tensor, the member it belongs to (for per-member masked copies)."""
    members = torch.arange(n_members)
    return torch.cat([members.repeat_interleave(rows * cols) for rows, cols in shapes])


def init_flat(n_features: int, hidden: Sequence[int], member_seeds: Sequence[int]) -> torch.Tensor:
    """Flat float32 parameters, member ``m`` drawn from its own ``torch.Generator(member_seeds[m])``.

    The draw is the ``nn.Linear`` default (uniform in +-1/sqrt(fan_in) for weights and biases); a member's weights
    depend only on its own seed, so the same seed gives the same member whatever the committee size.
    """
    shapes = layer_shapes(n_features, hidden)
    n_members = len(member_seeds)
    flat = torch.empty(n_members * sum(r * c for r, c in shapes), dtype=torch.float32)
    views = unflatten(flat, shapes, n_members)
    for m, seed in enumerate(member_seeds):  # initialisation only: one member's draws must not depend on the others
        gen = torch.Generator().manual_seed(int(seed))
        for layer in range(0, len(shapes), 2):
            bound = 1.0 / np.sqrt(shapes[layer][0])
            views[layer][m].uniform_(-bound, bound, generator=gen)
            views[layer + 1][m].uniform_(-bound, bound, generator=gen)
    return flat


def forward(params: Sequence[torch.Tensor], X: torch.Tensor, activation: str) -> torch.Tensor:
    """Predictions ``(M, n)`` of every member: on the shared input ``X`` ``(n, d)``, or member ``m`` on its own rows
    ``X[m]`` when ``X`` is ``(M, n, d)`` (training gathers each member's bootstrap rows)."""
    act = ACTIVATIONS[activation]
    if X.dim() == 2:
        X = X.expand(params[0].shape[0], *X.shape)
    z = torch.baddbmm(params[1], X, params[0])
    for W, b in zip(params[2::2], params[3::2], strict=True):
        z = torch.baddbmm(b, act(z), W)
    return z.squeeze(-1)


def forward_loop_reference(params: Sequence[torch.Tensor], X: torch.Tensor, activation: str) -> torch.Tensor:
    """The same network evaluated member by member with plain matmuls: the test oracle for ``forward``."""
    act = ACTIVATIONS[activation]
    outputs = []
    for m in range(params[0].shape[0]):
        z = (X if X.dim() == 2 else X[m]) @ params[0][m] + params[1][m]
        for W, b in zip(params[2::2], params[3::2], strict=True):
            z = act(z) @ W[m] + b[m]
        outputs.append(z.squeeze(-1))
    return torch.stack(outputs)
