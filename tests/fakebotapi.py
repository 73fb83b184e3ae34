"""The fake Bot API now lives in the package (the sandbox serves it); tests import it from here."""

from bot.sandbox.fakebotapi import *  # noqa: F403
from bot.sandbox.fakebotapi import FakeBot, FakeBotAPI, FakeGroup, FakeUser, SentMessage

__all__ = ["FakeBot", "FakeBotAPI", "FakeGroup", "FakeUser", "SentMessage"]
