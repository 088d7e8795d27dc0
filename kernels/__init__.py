"""Numba kernels (see kernels/ at the repository root)."""
