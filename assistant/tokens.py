"""The embedding model's word-piece tokenizer, shared by chunking (ingest) and embedding.

It lives in ``assistant`` so that the query side never imports ``ingest``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

TokenCounter = Callable[[str], int]


@lru_cache(maxsize=4)
def model_tokenizer(model_path: str):
    """The embedding model's own word-piece tokenizer, without padding or truncation."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def token_counter(model_path: str) -> TokenCounter:
    """Word pieces in a text, as the model counts them (the splitter asks about the same
    pieces again and again while merging, hence the cache)."""
    tokenizer = model_tokenizer(model_path)

    @lru_cache(maxsize=8192)
    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    count.token_spans = lambda text: tokenizer.encode(text, add_special_tokens=False).offsets  # type: ignore[attr-defined]
    return count
