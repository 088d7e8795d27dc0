"""F.* (indexing: pad, one_hot, embedding lookups)."""
from __future__ import annotations

__all__: list[str] = []
