"""The corpus argument both tokenizers' `train` accept: one str, or an iterable of str."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def iter_texts(texts: str | Iterable[str], where: str) -> Iterator[str]:
    """Each text of `texts` (a bare str is one text), checked to be a str; `where` names the
    caller in errors."""
    if isinstance(texts, str):
        yield texts
        return
    try:
        items = iter(texts)
    except TypeError:
        raise TypeError(
            f"{where}: texts must be a str or an iterable of str, got {type(texts).__name__}"
        ) from None
    for i, text in enumerate(items):
        if not isinstance(text, str):
            raise TypeError(f"{where}: texts[{i}] is {type(text).__name__}, not str")
        yield text
