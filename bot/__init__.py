"""The messenger layer: aiogram handlers, rendering, delivery, scheduling, composition root."""

from bot.lean_aiogram import import_aiogram_lazily

import_aiogram_lazily()
