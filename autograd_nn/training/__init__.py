"""Training ergonomics: fit/evaluate, metrics, early stopping, curves."""
from .loop import EarlyStopping, History, evaluate, fit
from .metrics import accuracy, confusion_matrix, predictions

__all__ = ["EarlyStopping", "History", "accuracy", "confusion_matrix", "evaluate", "fit",
           "predictions"]
