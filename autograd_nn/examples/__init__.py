"""Runnable examples, one per family of networks in the user's notes (see `registry`)."""

from .registry import Example, all_examples, example, get

__all__ = ["Example", "all_examples", "example", "get"]
