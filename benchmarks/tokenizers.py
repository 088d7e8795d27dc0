"""Time byte-level BPE training on the standard-library docstring corpus.

Two trainers learn the same merges (`tests/test_tokenizers.py` checks it on random inputs):
`BPETokenizer.train` (incremental pair counts, an index from pair to words and a heap) and
`naive_merges` below, which recounts every pair of the corpus before each merge. The naive one is
timed only at the smallest vocabulary: it grows with merges x corpus.

    python -m benchmarks.tokenizers [--vocab 512,1024,4096] [--repeats 3] [--naive]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections import Counter
from collections.abc import Sequence

from autograd_nn.data.text import stdlib_docstrings
from autograd_nn.data.tokenizers import BPETokenizer


def naive_merges(
    words: Sequence[tuple[Sequence[int], int]], num_merges: int, min_frequency: int = 2
) -> list[tuple[int, int]]:
    """Reference trainer: before each merge, count every adjacent pair of every word (weighted by
    the word's count); merge the most frequent (ties: the smallest pair) left to right."""
    current = [(list(w), c) for w, c in words]
    merges: list[tuple[int, int]] = []
    for k in range(num_merges):
        counts: Counter = Counter()
        for w, c in current:
            for pair in itertools.pairwise(w):
                counts[pair] += c
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        if counts[best] < min_frequency:
            break
        merges.append(best)
        for j, (w, c) in enumerate(current):
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(256 + k)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            current[j] = (out, c)
    return merges


def word_counts(tok: BPETokenizer, text: str) -> list[tuple[bytes, int]]:
    """The pre-tokens of `text` as UTF-8 bytes with their counts (what both trainers start from)."""
    return [(w.encode("utf-8", "surrogatepass"), c) for w, c in Counter(tok._pieces(text)).items()]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.tokenizers", description=__doc__)
    p.add_argument("--vocab", default="512,1024,4096", help="vocabulary sizes to train")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats (the median is shown)")
    p.add_argument("--naive", action="store_true", help="also time the naive trainer (slow)")
    args = p.parse_args(argv)
    start = time.perf_counter()
    text = stdlib_docstrings(10**9)
    print(
        f"corpus: {len(text):,} characters of stdlib docstrings "
        f"(built in {time.perf_counter() - start:.1f} s)"
    )
    for vocab in (int(v) for v in args.vocab.split(",")):
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            tok = BPETokenizer.train(text, vocab)
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        ids = tok.encode(text)
        encode_s = time.perf_counter() - start
        assert tok.decode(ids) == text
        print(
            f"vocab {vocab:6d}: train {statistics.median(times):6.2f} s (median of "
            f"{args.repeats}; min {min(times):.2f}), {len(tok.merges)} merges, encode "
            f"{encode_s:.2f} s, {len(text) / len(ids):.2f} characters per token"
        )
    if args.naive:
        vocab = int(args.vocab.split(",")[0])
        words = word_counts(BPETokenizer(), text)
        start = time.perf_counter()
        merges = naive_merges(words, vocab - 256)
        naive_s = time.perf_counter() - start
        same = merges == BPETokenizer.train(text, vocab).merges
        print(f"naive trainer, vocab {vocab}: {naive_s:.1f} s; same merges: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
