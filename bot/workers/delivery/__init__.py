"""The outbox worker: sends what the desk queued, at each platform's pace, and never drops it.

- `loop.py`: `DeliveryWorker`, which reads each chat's oldest unsent row through the
  `OutboxStore` port, schedules it within the limits and acts on what the platform answered
  (retry, hold a group, park, block a chat).
- `pacing.py`: `Limits` and `RateLimiter` (per platform, per chat, per group), the back-off.
- `senders.py`: `NoticeSender`, the `Sender` port: one sender per notice kind, from a table.
- `files.py`: attachments copied across chats and platforms; `StoredDraftFiles`, the
  `DraftFiles` port (a draft's file id per platform).
- `errors.py`: what a sender raises besides the platform's errors.

The composition root (`bot/app.py`) fills the ports with storage; nothing here imports it.
"""

from bot.workers.delivery.errors import Permanent, SourceFailed
from bot.workers.delivery.files import FileCopies, StoredDraftFiles
from bot.workers.delivery.loop import (
    ALERT_EVERY,
    HELD_RETRY,
    PARK_AFTER,
    PARK_AFTER_MINUTES,
    TOKEN_RETRY,
    DeliveryWorker,
)
from bot.workers.delivery.pacing import (
    COLD,
    MAX_BACKOFF,
    Limits,
    RateLimiter,
    backoff,
    default_limits,
    limiters_for,
)
from bot.workers.delivery.senders import NoticeSender

__all__ = [
    "ALERT_EVERY",
    "COLD",
    "HELD_RETRY",
    "MAX_BACKOFF",
    "PARK_AFTER",
    "PARK_AFTER_MINUTES",
    "TOKEN_RETRY",
    "DeliveryWorker",
    "FileCopies",
    "Limits",
    "NoticeSender",
    "Permanent",
    "RateLimiter",
    "SourceFailed",
    "StoredDraftFiles",
    "backoff",
    "default_limits",
    "limiters_for",
]
