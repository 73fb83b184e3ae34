"""Import aiogram without building all of its ~450 pydantic models up front.

`aiogram.types` ends by calling `model_rebuild()` on every Telegram type, which builds a full
validator for each of them at import: about 100 MB of resident memory and 1.5 s, for types this
bot mostly never sees (upstream: aiogram/aiogram#1513). The models themselves are declared with
`defer_build=True`, so pydantic can build each one on its first use instead, if it knows the
namespace in which the forward references resolve. `import_aiogram_lazily` therefore imports
aiogram once with that eager rebuild turned into "remember the namespace", then gives every
aiogram model that is not built yet the same namespace (and the modules of aiogram's types and
methods the names they import only for type checkers). Validation and serialisation are
pydantic's own, unchanged; a model is built the first time an update or a call needs it.

Called first by `python -m bot` (`bot/__main__.py:main`) and by the test suite
(`tests/conftest.py`), not on `import bot`. Measured with `bench/memory.py` (README, Benchmarks,
2026-12-01, aiogram 3.31, pydantic 2.13): `import bot.app` 223 → 130 MB and 3.1 → 1.2 s; the
running bot after citizen and staff traffic 244 → 161 MB. It relies on pydantic internals: both
are pinned in pyproject.toml, and tests/unit/test_lean_aiogram.py builds every deferred model.
If aiogram was imported before this runs, nothing changes (aiogram then built its models itself).
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel


def import_aiogram_lazily() -> int:
    """Import aiogram with its models' builds deferred; returns how many were deferred."""
    if "aiogram" in sys.modules:
        return 0
    eager = BaseModel.__dict__["model_rebuild"]
    namespaces: list[dict[str, Any]] = []

    def remember(
        cls: type[BaseModel], /, *, _types_namespace: dict[str, Any] | None = None, **kwargs: Any
    ) -> bool | None:
        if _types_namespace is None or not cls.__module__.startswith("aiogram."):
            return eager.__func__(cls, _types_namespace=_types_namespace, **kwargs)  # type: ignore[no-any-return]
        namespaces.append(_types_namespace)  # given to every unbuilt model below
        return None

    BaseModel.model_rebuild = classmethod(remember)  # type: ignore[method-assign,assignment]
    try:
        import aiogram  # noqa: F401
    finally:
        BaseModel.model_rebuild = eager  # type: ignore[method-assign]
    if not namespaces:  # a future aiogram that no longer rebuilds eagerly
        return 0
    deferred = 0
    for model in _subclasses(BaseModel):
        if model.__module__.startswith("aiogram.") and not model.__pydantic_complete__:
            _add_namespace(model, namespaces[0])
            deferred += 1
    # Models built later from inside another model (`Response[Message]` builds `Message`'s
    # schema inline) resolve forward references in the defining module's globals, where
    # aiogram imports the other types only for type checkers: give those modules the names.
    for name, module in list(sys.modules.items()):
        if name.startswith(("aiogram.types.", "aiogram.methods.")) and module is not None:
            for key, value in namespaces[0].items():
                module.__dict__.setdefault(key, value)
    return deferred


def _add_namespace(model: type[BaseModel], namespace: dict[str, Any]) -> None:
    model.__pydantic_parent_namespace__ = {
        **(model.__pydantic_parent_namespace__ or {}),
        **namespace,
    }


def _subclasses(root: type[BaseModel]) -> set[type[BaseModel]]:
    found: set[type[BaseModel]] = set()
    stack = [root]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                stack.append(sub)
    return found
