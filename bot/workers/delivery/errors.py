"""What a sender raises besides the platform's own errors; the loop acts on both."""

from __future__ import annotations

from desk.model import Platform


class Permanent(Exception):
    """A send that no retry can make succeed."""


class SourceFailed(Exception):
    """Fetching a file from the platform it lives on failed: that platform's trouble, not the
    target's (a refused Bale token must not pause Telegram)."""

    def __init__(self, platform: Platform, error: Exception) -> None:
        super().__init__(f"fetching from {platform.value}: {type(error).__name__}: {error}")
        self.platform = platform
        self.error = error
