"""From tensors to a drawable graph (`VizGraph`): walk, cluster by module, collapse, fold, cap.

The walk is iterative (explicit stack), so a graph of any depth is drawn without RecursionError; the
work is linear in the graph size, and node labels are computed only for the nodes finally shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..function import TensorBase
from ..scopes import has_tags, scope_tag
from . import labels as lab
from .tree import Key, ScopeTree, common_prefix, scope_label


@dataclass
class VizNode:
    """One node of the picture. `kind` is one of: param, input, constant, tensor, output (tensors);
    op, freed (ops); module (a collapsed module), fold (repeated blocks), more (what max_nodes cut)."""

    id: str
    kind: str
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)  # (key, value); key '' = one cell
    cluster: Key = ()  # the scope whose cluster holds this node; () = top level
    order: str = ""  # backward visit number(s) when show_backward
    time: tuple[float, float] | None = None  # (forward, backward) seconds when profiled
    alert: bool = False  # holds NaN or Inf


@dataclass
class VizEdge:
    src: str
    dst: str
    label: str = ""  # input slot of a multi-input op


@dataclass
class VizGraph:
    """Nodes and edges in drawing order, module clusters, and notes on what was folded or cut."""

    nodes: list[VizNode]
    edges: list[VizEdge]
    clusters: dict[Key, str]  # scope key -> label, for clusters holding at least one node
    notes: list[str]

    def find(self, title: str, kind: str | None = None) -> list[VizNode]:
        """Nodes with this title (and kind)."""
        return [n for n in self.nodes if n.title == title and (kind is None or n.kind == kind)]


@dataclass
class _Skeleton:
    """Unlabelled nodes (id, kind, cluster, tensor index) and edges (src, dst, label) in drawing
    order; `groups` maps a box id to [kind ('module' or 'fold'), scope key, op indices, absorbed
    leaf indices]; `roots` are the node ids the roots are drawn in."""

    nodes: list[tuple[str, str, Key, int]]
    edges: list[tuple[str, str, str]]
    groups: dict[str, list]
    roots: list[str]
    rep_op: dict[int, str]  # op (index of its output) -> id of the node drawing it
    rep_t: dict[int, str]  # tensor index -> id of the node drawing it


class _Walk:
    """The tensors reachable from the roots, parents before children, with their producing ops."""

    def __init__(self, roots: list) -> None:
        tensors: list = []
        index: dict[int, int] = {}
        seen: set[int] = set()
        stack = [(t, False) for t in reversed(roots)]
        pop, push = stack.pop, stack.append
        while stack:
            t, expanded = pop()
            key = id(t)
            if expanded:
                index[key] = len(tensors)
                tensors.append(t)
                continue
            if key in seen:
                continue
            seen.add(key)
            push((t, True))
            ctx = t._ctx
            if ctx is not None and ctx.parents:
                for p in reversed(ctx.parents):
                    if id(p) not in seen:
                        push((p, False))
        self.tensors = tensors
        self.index = index
        self.inputs: dict[int, tuple[int, ...]] = {}  # op (index of its output) -> input indices
        self.consumers: dict[int, list[int]] = {}  # leaf index -> ops using it
        for i, t in enumerate(tensors):
            ctx = t._ctx
            if ctx is None:
                continue
            ins = self.inputs[i] = tuple([index[id(p)] for p in ctx.parents or ()])
            for j in ins:
                if tensors[j]._ctx is None:
                    self.consumers.setdefault(j, []).append(i)
        tagged = has_tags()
        self.scope: dict[int, Key] = {
            i: (scope_tag(tensors[i]._ctx) or ()) if tagged else () for i in self.inputs
        }


def build_graph(
    root: Any,
    params: Any = None,
    *,
    show_values: bool = True,
    show_intermediates: bool = True,
    show_backward: bool = False,
    collapse_depth: int | None = None,
    fold_repeats: bool = True,
    max_nodes: int | None = 500,
    profile: Any = None,
) -> VizGraph:
    """The graph behind `root` as nodes and edges, ready to render (see `viz.draw_graph`)."""
    roots = _as_roots(root)
    names = _param_names(params)
    walk = _Walk(roots)
    tree = ScopeTree([(walk.tensors[i]._ctx.name, k) for i, k in walk.scope.items()], fold_repeats)
    root_ids = [id(t) for t in roots]
    sk = _skeleton(walk, tree, collapse_depth, root_ids, names, show_intermediates)
    notes = [
        f"folded {len(run)} repeated calls of {run[0][-1][1]} ({run[0][-1][0]} ... {run[-1][-1][0]})"
        for run in tree.runs
    ]
    if collapse_depth is not None and tree.depth > collapse_depth:
        notes.append(f"modules nested deeper than {collapse_depth} level(s) drawn as single boxes")
    if max_nodes is not None and len(sk.nodes) > max_nodes and tree.depth > 0:
        start = tree.depth - 1 if collapse_depth is None else collapse_depth - 1
        for depth in range(start, -1, -1):
            sk = _skeleton(walk, tree, depth, root_ids, names, show_intermediates)
            if len(sk.nodes) <= max_nodes:
                break
        notes.append(
            f"modules nested deeper than {depth} level(s) drawn as single boxes to fit max_nodes={max_nodes}"
        )
    skeleton_nodes, skeleton_edges = sk.nodes, sk.edges
    if max_nodes is not None and len(skeleton_nodes) > max_nodes:
        skeleton_nodes, skeleton_edges, more = _cap(sk, walk, max_nodes)
        notes.append(
            f"{len(sk.nodes) - len(skeleton_nodes)} of {len(sk.nodes)} nodes not shown "
            f"({more.rows[0][1]}): max_nodes={max_nodes}; raise max_nodes or collapse "
            "modules (collapse_depth)"
        )
    nodes = _label(skeleton_nodes, walk, tree, sk.groups, names, show_values, profile)
    if len(skeleton_nodes) < len(sk.nodes):
        nodes.insert(0, more)
    edges = [VizEdge(*e) for e in skeleton_edges]
    if show_backward:
        _number_backward(nodes, sk.groups, walk, roots)
    clusters: dict[Key, str] = {}
    for node in nodes:
        for k in range(1, len(node.cluster) + 1):
            clusters.setdefault(node.cluster[:k], scope_label(node.cluster[:k]))
    return VizGraph(nodes, edges, clusters, notes)


def _as_roots(root: Any) -> list:
    if not isinstance(root, (TensorBase, list, tuple)):
        raise TypeError(f"draw_graph: root must be a Tensor or a list of Tensors, got {type(root).__name__}")
    roots = [root] if isinstance(root, TensorBase) else list(root)
    for i, t in enumerate(roots):
        if not isinstance(t, TensorBase):
            raise TypeError(f"draw_graph: root {i} is a {type(t).__name__}, not a Tensor")
    return roots


def _param_names(params: Any) -> dict[int, str]:
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = params.named_parameters()
    items = params.items() if hasattr(params, "items") else params
    return {id(t): str(name) for name, t in items}


def _skeleton(
    walk: _Walk,
    tree: ScopeTree,
    depth: int | None,
    root_ids: list[int],
    names: dict,
    show_intermediates: bool,
) -> _Skeleton:
    """Unlabelled nodes and edges for one collapse depth."""
    tensors = walk.tensors
    groups: dict[str, list] = {}
    is_root = set(root_ids)
    rep_op: dict[int, str] = {}  # op -> id of the node drawing it
    where: dict[str, Key] = {}  # node id -> cluster
    resolved: dict[Key, tuple[str | None, Key]] = {}  # scope -> (box id or None, cluster)
    box_ids: dict[Key, str] = {}
    for i, key in walk.scope.items():
        if key not in resolved:
            group, kind = tree.group_of(key, depth)
            if group is None:
                resolved[key] = (None, key)
            else:
                gid = box_ids.setdefault(group, f"{kind[0]}{len(box_ids)}")
                groups.setdefault(gid, [kind, group, [], []])
                resolved[key] = (gid, group[:-1])
        box, cluster = resolved[key]
        if box is None:
            gid = f"op{i}"
        else:
            gid = box
            groups[gid][2].append(i)
        rep_op[i] = gid
        where[gid] = cluster
    nodes: list[tuple[str, str, Key, int]] = []
    rep_t: dict[int, str] = {}
    for i, t in enumerate(tensors):  # in topological order; inputs and constants at top level
        op = rep_op.get(i)
        if op is None:  # a leaf: in the deepest cluster holding all its consumers
            users = {rep_op[c] for c in walk.consumers.get(i, ())}
            if len(users) == 1 and id(t) not in is_root:
                (gid,) = users
                if gid in groups:
                    rep_t[i] = gid
                    groups[gid][3].append(i)
                    continue
            rep_t[i] = f"t{i}"
            kind = _tensor_kind(t, is_root, names)  # parameters go with the module using them
            cluster = common_prefix([where[u] for u in users]) if users and kind == "param" else ()
            nodes.append((f"t{i}", kind, cluster, i))
            continue
        cluster = where[op]
        if op in groups:
            if groups[op][2][0] == i:
                nodes.append((op, groups[op][0], cluster, i))
            rep_t[i] = op
            continue
        nodes.append((op, "freed" if t._ctx.parents is None else "op", cluster, i))
        if show_intermediates or id(t) in is_root:
            rep_t[i] = f"t{i}"
            nodes.append((f"t{i}", _tensor_kind(t, is_root, names), cluster, i))
        else:
            rep_t[i] = op
    edges: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for i, ins in walk.inputs.items():
        dst = rep_op[i]
        slots = len(ins) > 1 and dst[0] == "o"
        for j, p in enumerate(ins):
            edge = (rep_t[p], dst, str(j) if slots else "")
            if edge[0] != dst and edge not in seen:
                seen.add(edge)
                edges.append(edge)
        if rep_t[i] != dst:
            edges.append((dst, rep_t[i], ""))
    roots = [rep_t[walk.index[r]] for r in root_ids]
    return _Skeleton(nodes, edges, groups, list(dict.fromkeys(roots)), rep_op, rep_t)


def _tensor_kind(t: Any, root_ids: set, names: dict) -> str:
    if id(t) in names:
        return "param"
    if id(t) in root_ids:
        return "output"
    if t._ctx is not None:
        return "tensor"
    return "input" if t.requires_grad else "constant"


def _cap(sk: _Skeleton, walk: _Walk, max_nodes: int) -> tuple[list, list, VizNode]:
    """Keep the `max_nodes - 1` nodes nearest the roots, plus one node standing for the rest."""
    members: dict[str, list[int]] = {gid: g[2] for gid, g in sk.groups.items()}

    def preds(nid: str) -> list[str]:
        """The nodes with an edge into `nid` (found from the walk: no index of all edges)."""
        if nid[0] == "t":
            i = int(nid[1:])
            return [sk.rep_op[i]] if i in sk.rep_op else []
        ops = members.get(nid) or [int(nid[2:])]
        found = dict.fromkeys(sk.rep_t[p] for i in ops for p in walk.inputs[i])
        found.pop(nid, None)
        return list(found)

    limit = max(max_nodes - 1, 1)
    queue = sk.roots[:limit]
    keep = set(queue)
    head = 0
    while head < len(queue) and len(keep) < limit:
        for src in preds(queue[head]):
            if src not in keep and len(keep) < limit:
                keep.add(src)
                queue.append(src)
        head += 1
    kinds = [n[1] for n in sk.nodes if n[0] not in keep]
    n_ops = sum(k in ("op", "freed") for k in kinds)
    n_boxes = sum(k in ("module", "fold") for k in kinds)
    what = f"{n_ops} ops, {len(kinds) - n_ops - n_boxes} tensors"
    what += f", {n_boxes} module boxes" if n_boxes else ""
    more = VizNode("more", "more", f"... {len(kinds)} more nodes", rows=[("", what)])
    edges = [e for e in sk.edges if e[0] in keep and e[1] in keep]
    cut = dict.fromkeys(e[1] for e in sk.edges if e[1] in keep and e[0] not in keep)
    edges += [("more", dst, "") for dst in cut]
    return [n for n in sk.nodes if n[0] in keep], edges, more


def _label(
    skeleton: list, walk: _Walk, tree: ScopeTree, groups: dict, names: dict, show_values: bool, profile: Any
) -> list[VizNode]:
    """The shown nodes with their titles, rows, times and alerts."""
    tensors = walk.tensors
    shown = {n[0] for n in skeleton}
    nodes = []
    for nid, kind, cluster, i in skeleton:
        node = VizNode(nid, kind, "", cluster=cluster)
        nodes.append(node)
        t = tensors[i]
        if kind in ("op", "freed"):
            node.title = t._ctx.name
            if kind == "freed":
                node.rows.append(("", "freed by backward"))
            elif f"t{i}" not in shown:  # its output is not drawn: say what it makes
                node.rows.append(("", lab.shape_text(t._data)))
            node.time = profile.node_time(t._ctx) if profile is not None else None
        elif nid in groups:
            _label_group(node, groups[nid], tree, tensors, names, profile)
        else:
            node.title = names.get(id(t)) or (t.name or "")
            node.rows = lab.tensor_rows(t, show_values)
            grad = None if t.grad is None else t.grad._data
            node.alert = lab.has_nonfinite(t._data) or lab.has_nonfinite(grad)
    return nodes


def _label_group(
    node: VizNode, group: list, tree: ScopeTree, tensors: list, names: dict, profile: Any
) -> None:
    kind, key, ops, leaves = group
    name, cls, _ = key[-1]
    if kind == "fold":
        run = tree.runs[tree.fold_of[key]]
        node.title = f"{cls} x {len(run)}"
        n = tree.op_count[key]
        node.rows = [("", f"{name} ... {run[-1][-1][0]}"), ("", f"{n} op{'s' if n != 1 else ''} each")]
    else:
        node.title = cls
        n = len(ops)
        node.rows = ([("", name)] if name and name != cls else []) + [("", f"{n} op{'s' if n != 1 else ''}")]
    n_params = sum(id(tensors[i]) in names for i in leaves)
    if n_params:
        node.rows.append(("", f"{n_params} parameter{'s' if n_params > 1 else ''}"))
    if profile is not None:
        times = [profile.node_time(tensors[i]._ctx) for i in ops]
        times = [x for x in times if x is not None]
        if times:
            node.time = (sum(x[0] for x in times), sum(x[1] for x in times))


def _number_backward(nodes: list[VizNode], groups: dict, walk: _Walk, roots: list) -> None:
    """Number op nodes in the order backward visits them: newest op first, as the engine does."""
    ops = [t for t in walk.tensors if t.requires_grad and t._ctx is not None]
    ops.sort(key=lambda t: -getattr(t._ctx, "created", 0))
    visit: dict[int, int] = {}
    for t in ops:
        if id(t) in walk.index:
            visit[walk.index[id(t)]] = len(visit) + 1
    for node in nodes:
        if node.kind in ("op", "freed"):
            n = visit.get(int(node.id[2:]))
            node.order = f"#{n}" if n is not None else ""
        elif node.id in groups:
            seen = [visit[i] for i in groups[node.id][2] if i in visit]
            node.order = f"#{min(seen)}-#{max(seen)}" if seen else ""
