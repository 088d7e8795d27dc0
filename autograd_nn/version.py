"""The package version (one place: `autograd_nn.__version__`, the ONNX exporter's producer_version)."""

__version__ = "0.1.0"
