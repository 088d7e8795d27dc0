"""Training ergonomics: fit/evaluate, metrics, early stopping, curves."""

from .loop import EarlyStopping, History, evaluate, fit, train_classifier
from .metrics import accuracy, confusion_matrix, predictions

__all__ = [
    "EarlyStopping",
    "History",
    "accuracy",
    "confusion_matrix",
    "evaluate",
    "fit",
    "predictions",
    "train_classifier",
]
