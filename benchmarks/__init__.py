"""Microbenchmarks of autograd_nn side by side with PyTorch CPU and hand-written NumPy.

Run `python -m benchmarks --help`. This package imports nothing heavy at import time, so the CLI
can set thread counts before NumPy, Numba and PyTorch load, and the cold-start child processes
can time `import autograd_nn` from a clean interpreter.
"""
