"""Looking inside a trained model: which inputs a prediction depends on, and where attention looks.

from autograd_nn import explain
model.eval()
sal = explain.saliency(model, images, target=labels)            # d score / d input
smooth = explain.smooth_grad(model, images, target=labels)      # averaged over noisy copies
ig, delta = explain.integrated_gradients(model, images, target=labels,
                                         return_convergence_delta=True)
maps = explain.attention_maps(vit, images)                      # per layer, per head
explain.plot_heatmaps(images, {"saliency": sal, "IG": ig}, path="heat.png")
"""

from .attention import AttentionRecorder, attention_maps, attention_rollout
from .attributions import completeness_error, integrated_gradients, integration_points, saliency, smooth_grad
from .plot import plot_heatmaps

__all__ = [
    "AttentionRecorder",
    "attention_maps",
    "attention_rollout",
    "completeness_error",
    "integrated_gradients",
    "integration_points",
    "plot_heatmaps",
    "saliency",
    "smooth_grad",
]
