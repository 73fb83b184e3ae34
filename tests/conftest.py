"""The whole suite runs aiogram the way `python -m bot` does: its models built on first use
(`bot/runtime/lean_aiogram.py`), not all at import. `tests/unit/test_lean_aiogram.py` checks
both ways
in fresh interpreters."""

from bot.runtime.lean_aiogram import import_aiogram_lazily

import_aiogram_lazily()
