"""Microbenchmarks of autograd_nn side by side with PyTorch CPU and hand-written NumPy.

Run `python -m benchmarks --help`. This package imports nothing heavy at import time: the parent
process only orchestrates worker processes (one per library, see runner.py), and the cold-start
child processes can time `import autograd_nn` from a clean interpreter.
"""
