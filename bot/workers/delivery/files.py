"""Files the outbox sends: a citizen's attachments copied to a staff chat (or back to a citizen),
and a draft's stored files, uploaded once per platform and sent by file id after that."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
)

from bot.ports import MessageLinks, OutboxStore, UploadedFiles
from bot.runtime.boundary import Outcome, classify
from bot.runtime.platforms import PlatformBot, max_file_size
from bot.workers.delivery.errors import Permanent, SourceFailed
from bot.workers.delivery.pacing import RateLimiter
from desk.model import Attachment, AttachmentKind, NoticeKind, Platform
from desk.outbox import Pending
from desk.ports import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)

_MEDIA = {
    AttachmentKind.PHOTO: InputMediaPhoto,
    AttachmentKind.VIDEO: InputMediaVideo,
    AttachmentKind.DOCUMENT: InputMediaDocument,
    AttachmentKind.AUDIO: InputMediaAudio,
}


class StoredDraftFiles:
    """The `DraftFiles` port: a draft's file for one bot, by the file id its platform gave the
    first upload (`UploadedFiles`), else the bytes from the draft's store."""

    def __init__(self, uploads: UploadedFiles, uow: UnitOfWorkFactory) -> None:
        self.uploads = uploads
        self.uow = uow

    async def remember(
        self, bot: PlatformBot, draft_id: int, role: str, given: Any, sent: Message
    ) -> None:
        """After a first upload, keep the platform's file id for everyone after."""
        if isinstance(given, BufferedInputFile) and sent.document is not None:
            key = f"draft:{draft_id}:{role}"
            await self.uploads.remember_upload(key, bot.platform, sent.document.file_id)

    async def document(self, bot: PlatformBot, draft_id: int, role: str) -> Any:
        """A draft's file for this bot: its file id when uploaded before, else the bytes."""
        key = f"draft:{draft_id}:{role}"
        cached = await self.uploads.uploaded(key, bot.platform)
        if cached is not None:
            return cached
        async with self.uow() as tx:
            stored = await tx.drafts.file(draft_id, role)
        if stored is None:
            return None
        return BufferedInputFile(stored.content, filename=stored.name)


async def reply_to(links: MessageLinks, item: Pending) -> int | None:
    """The message id of the request's newest card in the row's chat, to thread a reply."""
    if item.code is None:
        return None
    return await links.card(item.platform, item.chat_id, item.code)


def reply_kwargs(card: int | None) -> dict[str, Any]:
    """The arguments that make a message a reply to `card` (none without a card)."""
    if card is None:
        return {}
    return {"reply_to_message_id": card, "allow_sending_without_reply": True}


class FileCopies:
    """An attachment (or an album of them) by file id on the same platform, re-uploaded across
    platforms, as a reply to the card in a staff chat."""

    def __init__(
        self,
        *,
        bots: Mapping[Platform, PlatformBot],
        outbox: OutboxStore,
        links: MessageLinks,
        limiters: Mapping[Platform, RateLimiter],
        wall: Clock,
    ) -> None:
        self.bots = bots
        self.outbox = outbox
        self.links = links
        self.limiters = limiters
        self.wall = wall

    async def send(self, bot: PlatformBot, item: Pending) -> Message | None:
        """Send the row's file(s); the first message is the one linked with the row."""
        source = Platform(str(item.data.get("source") or item.platform.value))
        card = await reply_to(self.links, item) if item.kind is NoticeKind.STAFF_COPY else None
        extra = reply_kwargs(card)
        files = item.data.get("files")
        if isinstance(files, list):
            group = [Attachment.from_dict(raw) for raw in files if isinstance(raw, dict)]
            sent = await self._album(bot, item, group, source, extra)
            if item.kind is NoticeKind.STAFF_COPY and item.code is not None:
                for message in sent[1:]:  # the first is linked with the row (mark_sent)
                    if message.message_id:
                        await self.links.link(item.platform, item.chat_id, message.message_id,
                                              item.code, "attachment", self.wall.now())  # fmt: skip
            return sent[0] if sent else None  # empty: all sent before a crash
        raw = item.data["file"]
        assert isinstance(raw, dict)
        return await self._one(bot, item, Attachment.from_dict(raw), source, extra)

    async def _file(self, source: Platform, attachment: Attachment, target: Platform) -> Any:
        assert attachment.file_id is not None
        if source is not target:
            return await self._transfer(source, attachment, target)
        return attachment.file_id

    async def _one(
        self,
        bot: PlatformBot,
        item: Pending,
        attachment: Attachment,
        source: Platform,
        extra: dict[str, Any],
    ) -> Message:
        if attachment.kind is AttachmentKind.LOCATION:
            assert attachment.latitude is not None and attachment.longitude is not None
            return await bot.send_location(
                item.chat_id, attachment.latitude, attachment.longitude, **extra
            )
        file = await self._file(source, attachment, item.platform)
        senders = {
            AttachmentKind.PHOTO: bot.send_photo,
            AttachmentKind.VOICE: bot.send_voice,
            AttachmentKind.VIDEO: bot.send_video,
            AttachmentKind.AUDIO: bot.send_audio,
            AttachmentKind.DOCUMENT: bot.send_document,
        }
        send: Any = senders[attachment.kind]
        sent: Message = await send(item.chat_id, file, **extra)
        return sent

    async def _album(
        self,
        bot: PlatformBot,
        item: Pending,
        group: list[Attachment],
        source: Platform,
        extra: dict[str, Any],
    ) -> list[Message]:
        """One sendMediaGroup where the platform groups these kinds (Telegram: photos with
        videos, documents, audio; Bale: photos with videos, as Balethon documents), else the
        files one by one. An album the platform refuses as such is sent one by one too."""
        visual = all(a.kind in (AttachmentKind.PHOTO, AttachmentKind.VIDEO) for a in group)
        if len(group) >= 2 and (visual or item.platform is Platform.TELEGRAM):
            media: list[Any] = []
            for attachment in group:
                file = await self._file(source, attachment, item.platform)
                media.append(_MEDIA[attachment.kind](media=file))
            try:
                return list(await bot.send_media_group(item.chat_id, media, **extra))
            except TelegramBadRequest as exc:
                if classify(exc, group=True).outcome is not Outcome.PERMANENT:
                    raise
                log.warning("outbox %d: %s refused the album (%s); sending its files one by one",
                            item.id, item.platform.value, exc.message)  # fmt: skip
        return await self._one_by_one(bot, item, group, source, extra)

    async def _one_by_one(
        self,
        bot: PlatformBot,
        item: Pending,
        group: list[Attachment],
        source: Platform,
        extra: dict[str, Any],
    ) -> list[Message]:
        """An album's files one at a time, a second apart (the chat's own pace), each one's
        sending recorded on the row (`done`), so a retry after a failure half-way sends only
        the rest (the retry's snapshot of the row shares this data)."""
        done = int(str(item.data.get("done") or 0))
        interval = self.limiters[item.platform].limits.per_chat_interval
        sent: list[Message] = []
        for index, attachment in enumerate(group):
            if index < done:
                continue
            if sent:
                await asyncio.sleep(interval)
            sent.append(await self._one(bot, item, attachment, source, extra))
            item.data["done"] = index + 1
            await self.outbox.set_data(item.id, item.data)
        return sent

    async def _transfer(self, source: Platform, attachment: Attachment, target: Platform) -> Any:
        """Download from the platform the file lives on, to upload on the other one."""
        source_bot = self.bots.get(source)
        if source_bot is None:
            raise Permanent(f"no {source.value} bot to fetch the file from")
        if (attachment.file_size or 0) > max_file_size(target, attachment.kind):
            raise Permanent("file too large for the other platform")
        assert attachment.file_id is not None
        try:
            data = await source_bot.download(attachment.file_id)
        except Exception as exc:
            raise SourceFailed(source, exc) from exc
        if data is None:  # pragma: no cover - download() without destination returns BytesIO
            raise Permanent("download returned nothing")
        name = attachment.file_name or f"{attachment.kind.value}"
        return BufferedInputFile(data.read(), filename=name)
