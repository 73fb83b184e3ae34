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
this module does not know, or a dialect holding objects of its own (a custom JSON serializer:
the compiled statement carries its first engine's bind processors), is kept as it is: that
engine compiles for itself, as before. The ORM's flush statements keep their own cache per
mapper and dialect, and are still compiled once per engine.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, MutableMapping
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.util import LRUCache

_SIMPLE = (bool, int, float, str, bytes, tuple, type(None))


# what every dialect holds besides plain values, and what does not change what it compiles;
# a dialect holding anything else (a JSON serializer of its own, say) is not shared
_KNOWN_OBJECTS = frozenset(
    {"_type_memos", "dbapi", "identifier_preparer", "loaded_dbapi", "type_compiler",
     "type_compiler_instance"}
)  # fmt: skip


def dialect_signature(dialect: Dialect) -> tuple[Any, ...] | None:
    """What a dialect compiles with: its class and its plain settings (read after connecting:
    the server's version, the parameter style, what the database supports); None where it holds
    something else, or something that cannot be a key (its engine then keeps its own)."""
    settings = []
    for name, value in vars(dialect).items():
        if isinstance(value, _SIMPLE):
            settings.append((name, value))
        elif name not in _KNOWN_OBJECTS:
            return None
    signature = (type(dialect), type(dialect.identifier_preparer), tuple(sorted(settings)))
    try:
        hash(signature)
    except TypeError:
        return None
    return signature


class SharedCompiledCache(MutableMapping[Any, Any]):
    """SQLAlchemy's LRU cache, keyed by a dialect's signature instead of the dialect object."""

    def __init__(self, capacity: int = 5000) -> None:
        self._entries: LRUCache[Any, Any] = LRUCache(capacity)
        self._signatures: weakref.WeakKeyDictionary[Dialect, tuple[Any, ...] | None] = (
            weakref.WeakKeyDictionary()
        )

    def _key(self, key: Any) -> Any:
        if not (isinstance(key, tuple) and key and isinstance(key[0], Dialect)):
            return key
        dialect = key[0]
        if dialect in self._signatures:
            signature = self._signatures[dialect]
        else:
            signature = self._signatures[dialect] = dialect_signature(dialect)
        return key if signature is None else (signature, *key[1:])

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
