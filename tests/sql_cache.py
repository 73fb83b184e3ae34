"""One compiled-statement cache for every engine the suite makes.

SQLAlchemy compiles a statement to SQL once per engine and keeps it in that engine's cache,
keyed by the engine's dialect object. A bot's process makes one engine and compiles each of its
statements once; the suite makes one (or more) per test, so every test compiled every statement
it ran again: about a tenth of the end-to-end tests' CPU.

`shared_cache()` gives every engine of the suite one cache (SQLAlchemy's documented
`compiled_cache` execution option) that keys a statement by what its dialect compiles with —
the dialect's class and its settings as read from the database (server version, paramstyle,
flags) — instead of by the dialect object. Two engines on SQLite, or two on one PostgreSQL
server, then share their compiled SQL, as two connections of one engine do. A key of a shape
this module does not know is kept as it is (each engine compiles for itself, as before).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, MutableMapping
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.util import LRUCache

_SIMPLE = (bool, int, float, str, bytes, tuple, type(None))


def dialect_signature(dialect: Dialect) -> tuple[Any, ...]:
    """What a dialect compiles with: its class and its plain settings (read after connecting:
    the server's version, the parameter style, what the database supports)."""
    settings = tuple(
        sorted((name, value) for name, value in vars(dialect).items() if isinstance(value, _SIMPLE))
    )
    return (type(dialect), type(dialect.identifier_preparer), settings)


class SharedCompiledCache(MutableMapping[Any, Any]):
    """SQLAlchemy's LRU cache, keyed by a dialect's signature instead of the dialect object."""

    def __init__(self, capacity: int = 5000) -> None:
        self._entries: LRUCache[Any, Any] = LRUCache(capacity)
        self._signatures: weakref.WeakKeyDictionary[Dialect, tuple[Any, ...]] = (
            weakref.WeakKeyDictionary()
        )

    def _key(self, key: Any) -> Any:
        if not (isinstance(key, tuple) and key and isinstance(key[0], Dialect)):
            return key
        dialect = key[0]
        signature = self._signatures.get(dialect)
        if signature is None:
            signature = self._signatures[dialect] = dialect_signature(dialect)
        return (signature, *key[1:])

    def get(self, key: Any, default: Any = None) -> Any:
        return self._entries.get(self._key(key), default)

    def __getitem__(self, key: Any) -> Any:
        return self._entries[self._key(key)]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._entries[self._key(key)] = value

    def __delitem__(self, key: Any) -> None:
        del self._entries[self._key(key)]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


_CACHE = SharedCompiledCache()


def shared_cache() -> dict[str, Any]:
    """Keyword arguments for `make_engine` (or `create_async_engine`): the suite's shared cache."""
    return {"execution_options": {"compiled_cache": _CACHE}}
