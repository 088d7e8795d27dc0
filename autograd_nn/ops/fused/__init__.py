"""Fused ops for hot loops: one Numba pass (or a few) in place of a chain of primitive ops.

Each op is a `Function` with a first-order backward on arrays (`differentiable_backward = False`)
and a `composite` form in Tensor ops, so higher-order gradients still flow through the engine. The
plain functions below each class are what `functional` calls where a benchmark shows they pay:

    cross_entropy_indices                         (ops/fused/softmax_ce.py, kernels/softmax.py)
    layer_norm, batch_norm_train                  (ops/fused/norm.py, kernels/norm.py)
    lstm_cell, gru_cell                           (ops/fused/recurrent.py, kernels/recurrent.py)
    lstm_layer, gru_layer, rnn_layer              (ops/fused/rnn_layer.py, kernels/rnn_layer.py):
                                                  a whole layer and direction over a sequence
"""

from .norm import BatchNormTrainFused, LayerNormFused, batch_norm_train, layer_norm
from .recurrent import GRUCellFused, LSTMCellFused, gru_cell, lstm_cell
from .softmax_ce import CrossEntropyIndices, cross_entropy_indices

__all__ = [
    "BatchNormTrainFused",
    "CrossEntropyIndices",
    "GRUCellFused",
    "LSTMCellFused",
    "LayerNormFused",
    "batch_norm_train",
    "cross_entropy_indices",
    "gru_cell",
    "layer_norm",
    "lstm_cell",
]
