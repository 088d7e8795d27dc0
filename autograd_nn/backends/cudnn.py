"""`backends.cudnn` on a CPU-only build: not available; its flags are settable and change nothing."""

from __future__ import annotations

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version() -> None:
    return None
