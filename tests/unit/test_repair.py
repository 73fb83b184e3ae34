"""What Bale leaves out of its answers is filled in before aiogram's models see it."""

from __future__ import annotations

import json

from aiogram.types import Message, Update

from bot.runtime.platforms import repairing_json_loads


def test_a_sent_voice_without_duration_parses_as_a_message() -> None:
    """Bale echoes the sent voice without `duration`: unrepaired, aiogram refuses the answer
    and the outbox would send the same file again and again."""
    answer = {
        "ok": True,
        "result": {
            "message_id": 7,
            "date": 1,
            "chat": {"id": 5, "type": "group"},
            "voice": {"file_id": "v", "file_unique_id": "u"},
        },
    }
    data = repairing_json_loads(json.dumps(answer))
    message = Message.model_validate(data["result"])
    assert message.voice is not None and message.voice.duration == 0


def test_updates_are_still_repaired_and_a_broken_one_keeps_its_id() -> None:
    answer = {
        "ok": True,
        "result": [
            {"update_id": 3, "message": {"message_id": 1, "chat": {"id": 5}, "text": "سلام"}},
            {"update_id": 4, "message": {"message_id": "not a number"}},
        ],
    }
    data = repairing_json_loads(json.dumps(answer))
    first, second = (Update.model_validate(u) for u in data["result"])
    assert first.message is not None and first.message.text == "سلام"
    assert second.update_id == 4 and second.message is None
