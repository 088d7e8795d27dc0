"""Module scopes of a graph as a tree: which ops ran in which module call, repeats, collapsing.

A scope key is the tuple of scope entries ``(qualified_name, class_name, call)`` from the outermost
module inward (see `scopes`); () is the top level. `ScopeTree` records, for the ops of one graph,
each scope's children in order of first use, a structural signature per scope (two calls of the same
block class doing the same ops in the same order get the same one), and the runs of consecutive
sibling scopes with equal signatures, which `draw_graph` folds into one 'Block x N' box.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..scopes import scope_log

Key = tuple  # a scope key: tuple of (name, kind, call) entries


class ScopeTree:
    """The scopes used by a list of ops, given in topological order as (op name, scope key)."""

    def __init__(self, ops: Sequence[tuple[str, Key]], fold_repeats: bool = True) -> None:
        self.children: dict[Key, list[Key]] = {(): []}
        self.op_count: dict[Key, int] = {(): 0}
        items: dict[Key, list] = {(): []}
        for name, key in ops:
            for k in range(len(key) + 1):
                prefix = key[:k]
                self.op_count[prefix] = self.op_count.get(prefix, 0) + 1
                if prefix in self.children:
                    continue
                self.children[prefix] = []
                items[prefix] = []
                self.children[prefix[:-1]].append(prefix)
                items[prefix[:-1]].append(prefix)
            items[key].append(name)
        self.depth = max(len(k) for k in self.children)
        self.items = items  # per scope: its ops' names and first uses of child scopes, in order
        self.signature = self._signatures(items)
        self.runs: list[list[Key]] = self._runs() if fold_repeats else []
        self.fold_of = {key: r for r, run in enumerate(self.runs) for key in run}

    def _signatures(self, items: dict[Key, list]) -> dict[Key, int]:
        """Equal ints for scopes of the same class doing the same ops in the same nesting.

        A scope's body is what ran in it as recorded (`scopes.scope_log`), when there is a record;
        otherwise the ops reachable in this graph.
        """
        interned: dict[tuple, int] = {}
        sig: dict[Key, int] = {}

        def signature(key: Key) -> int:
            if key not in sig:
                body = scope_log(key) if key else None
                body = items.get(key, []) if body is None else body
                kind = key[-1][1] if key else ""
                parts = tuple(signature(i) if isinstance(i, tuple) else i for i in body)
                sig[key] = interned.setdefault((kind, parts), len(interned))
            return sig[key]

        for key in sorted(self.children, key=len, reverse=True):  # children before parents
            signature(key)
        return sig

    def _runs(self) -> list[list[Key]]:
        """Runs (length >= 2) of sibling scopes with the same signature and no op of the parent
        between them (Linear, relu, Linear is not 'Linear x 2')."""
        runs = []
        for seq in self.items.values():
            i = 0
            while i < len(seq):
                if not isinstance(seq[i], tuple):
                    i += 1
                    continue
                j = i + 1
                while (
                    j < len(seq)
                    and isinstance(seq[j], tuple)
                    and self.signature[seq[j]] == self.signature[seq[i]]
                ):
                    j += 1
                if j - i >= 2:
                    runs.append(seq[i:j])
                i = j
        return runs

    def group_of(self, key: Key, collapse_depth: int | None) -> tuple[Key | None, str]:
        """Where the ops of scope `key` are drawn.

        Returns (group key, kind): the outermost enclosing scope that is folded ('fold', the group
        key is the first scope of the run) or, deeper than `collapse_depth` levels, collapsed
        ('module'); or (None, 'op') when the ops are drawn one by one inside the cluster `key`.
        """
        for k in range(1, len(key) + 1):
            prefix = key[:k]
            run = self.fold_of.get(prefix)
            if run is not None:
                return self.runs[run][0], "fold"
            if collapse_depth is not None and k > collapse_depth:
                return prefix, "module"
        return None, "op"


def scope_label(key: Key) -> str:
    """'encoder.layers.0 (TransformerEncoderLayer)' for the innermost entry of a scope key."""
    name, kind, _ = key[-1]
    return f"{name} ({kind})" if name and name != kind else kind


def common_prefix(keys: Sequence[Key]) -> Key:
    """The deepest scope that contains all of `keys`."""
    first = keys[0]
    n = len(first)
    for key in keys[1:]:
        n = min(n, len(key))
        for i in range(n):
            if key[i] != first[i]:
                n = i
                break
    return first[:n]
