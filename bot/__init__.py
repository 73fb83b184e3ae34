"""The messenger layer: aiogram handlers, rendering, delivery, scheduling, composition root."""
