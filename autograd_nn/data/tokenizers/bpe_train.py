"""Learning byte-pair-encoding merges from word counts, with incremental pair counts.

Recounting every adjacent pair of the corpus for each merge costs O(merges x corpus). Instead, as in
Hugging Face's `tokenizers` and SentencePiece:

1. the corpus is pre-tokenized into words; each distinct word is kept once, with its count;
2. the count of every adjacent pair (weighted by word counts) lives in a dict, next to an index
   from each pair to the words that contain it;
3. the next merge comes from a max-heap of (count, pair); an entry whose count is no longer the
   pair's current count is stale and skipped (every change pushes a fresh entry);
4. a merge rewrites only the words listed under its pair and updates the counts by the difference
   between each rewritten word's pairs before and after.

A merge then costs time in proportion to the occurrences of the pair it merges, not to the corpus.
Pairs are counted with overlaps ("aaa" holds the pair (a, a) twice), merges replace occurrences left
to right without overlap, and ties in count go to the smallest pair (ids compared as tuples), so
training is deterministic.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Iterable, Sequence

Pair = tuple[int, int]


def merge_pair(ids: Sequence[int], pair: Pair, new_id: int) -> list[int]:
    """`ids` with every non-overlapping occurrence of `pair`, left to right, replaced by `new_id`."""
    out: list[int] = []
    i, n = 0, len(ids)
    a, b = pair
    while i < n:
        if i + 1 < n and ids[i] == a and ids[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def learn_merges(
    word_counts: Iterable[tuple[Sequence[int], int]],
    num_merges: int,
    first_id: int = 256,
    min_frequency: int = 2,
) -> list[Pair]:
    """Up to `num_merges` merges, most frequent pair first; merge k makes id `first_id + k`.

    `word_counts` gives each distinct word as a sequence of ids with its count. Training stops early
    when no pair occurs `min_frequency` times.
    """
    words: list[list[int]] = []
    counts: list[int] = []
    for word, count in word_counts:
        words.append(list(word))
        counts.append(count)
    pair_counts: dict[Pair, int] = {}
    where: dict[Pair, set[int]] = {}
    for i, word in enumerate(words):
        for pair in itertools.pairwise(word):
            pair_counts[pair] = pair_counts.get(pair, 0) + counts[i]
            where.setdefault(pair, set()).add(i)
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)

    merges: list[Pair] = []
    while len(merges) < num_merges and heap:
        neg_count, pair = heapq.heappop(heap)
        count = pair_counts.get(pair, 0)
        if count != -neg_count:
            continue  # stale: the pair's count changed after this entry was pushed
        if count < min_frequency:
            break
        new_id = first_id + len(merges)
        merges.append(pair)
        changed: set[Pair] = set()
        for i in where.pop(pair):
            word = words[i]
            merged = merge_pair(word, pair, new_id)
            before, after = Counter(itertools.pairwise(word)), Counter(itertools.pairwise(merged))
            words[i] = merged
            for p in before.keys() | after.keys():
                delta = after[p] - before[p]
                if delta:
                    pair_counts[p] = pair_counts.get(p, 0) + delta * counts[i]
                    changed.add(p)
                if p != pair and not after[p]:
                    where[p].discard(i)
                elif after[p] and not before[p]:
                    where.setdefault(p, set()).add(i)
        for p in changed:
            if pair_counts[p] > 0:
                heapq.heappush(heap, (-pair_counts[p], p))
            else:
                del pair_counts[p]
                where.pop(p, None)
    return merges
