"""An update python-telegram-bot cannot read must not stop the updates behind it.

PTB reads a whole getUpdates batch at once. One update it cannot parse - a shape from a
newer Bot API than the installed PTB knows, say - fails the whole batch; polling then
asks for the same batch again, in a tight loop, forever: nobody gets another reply, and
PTB logs the raw batch, message texts and user ids included, at CRITICAL on every try.

`ReadableUpdates` is the request object PTB uses for getUpdates only. It replaces each
update that PTB cannot read with an empty update of the same id, so the offset moves
past it and every other update is handled; the skipped one is logged by id and error
type only.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.request import HTTPXRequest

log = logging.getLogger("backcheck.telegram")


class ReadableUpdates(HTTPXRequest):
    """HTTPXRequest for getUpdates that passes on only updates PTB can read (PTB's
    documented hook: parse_json_payload)."""

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        data = HTTPXRequest.parse_json_payload(payload)
        if isinstance(data.get("result"), list):
            data["result"] = [readable(update) for update in data["result"]]
        return data


def readable(update: Any) -> Any:
    """The update, or an empty one with its id when PTB cannot read it."""
    try:
        Update.de_json(update, None)
    except Exception as exc:  # whatever PTB raises for a shape it does not know
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if not isinstance(update_id, int):
            raise
        log.warning("telegram update %d skipped: unreadable (%s)", update_id,
                    type(exc).__name__)
        return {"update_id": update_id}
    return update
