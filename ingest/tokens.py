"""Token counting with tiktoken's cl100k_base, offline."""

import os
from functools import lru_cache
from pathlib import Path

import llama_index.core
import tiktoken

# llama-index-core bundles the cl100k_base file; tiktoken would otherwise download it.
_BUNDLED_TIKTOKEN_CACHE = Path(llama_index.core.__file__).parent / "_static" / "tiktoken_cache"


@lru_cache(maxsize=1)
def cl100k() -> tiktoken.Encoding:
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(_BUNDLED_TIKTOKEN_CACHE))
    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    return len(cl100k().encode(text, disallowed_special=()))
