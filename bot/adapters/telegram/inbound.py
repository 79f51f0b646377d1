"""Telegram updates -> `Incoming`. Pure: no I/O, unit-testable with a bare `Update`.

A private chat's message is a command (`/language sv`, `/check@bot`) or text; a button
press is decoded from its callback_data (render.py); anything said in a group,
supergroup or channel is marked `shared`, and the App answers it with a redirect.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType

from bot import commands
from bot.adapters.telegram.render import parse_callback
from bot.types import Incoming, IncomingKind, SessionKey


def session_key(update: Update, bot_id: int) -> tuple[SessionKey, str | None]:
    """Whose conversation an update belongs to, and their Telegram language."""
    user, chat = update.effective_user, update.effective_chat
    user_id = user.id if user else (chat.id if chat else 0)
    key = SessionKey("telegram", str(bot_id), str(chat.id if chat else user_id), str(user_id))
    return key, user.language_code if user else None


def is_shared(update: Update) -> bool:
    """Whether the update comes from a group, supergroup or channel."""
    chat = update.effective_chat
    return chat is not None and chat.type != ChatType.PRIVATE


def command(text: str) -> tuple[IncomingKind, str]:
    """`/start`, `/check@bot` -> ("start", ""); `/language sv` -> ("command", "language sv");
    a command that is unknown or not a person's to give (`/followup`) -> the help."""
    words = text.split()
    name = (words[0] if words else "/")[1:].split("@")[0].lower()
    parsed = commands.given(name)
    if parsed is None:
        return "command", "help"
    if parsed.name == "start":  # /start, or its menu name /check
        return "start", ""
    return "command", " ".join([name, *(w.lower() for w in words[1:2])])


def to_incoming(update: Update, bot_id: int) -> Incoming | None:
    """The Incoming an update stands for; None for a button whose data is garbled or
    forged (the adapter answers it as stale) and for anything without text."""
    key, hint = session_key(update, bot_id)
    shared = is_shared(update)
    query = update.callback_query
    if query is not None:
        if shared:
            return Incoming(key, "start", lang_hint=hint, shared=True)
        press = parse_callback(query.data)
        if press is None:
            return None
        return Incoming(key, press.kind, press.value, press.token, hint)
    message = update.effective_message
    text = message.text if message is not None else None
    if text is None:
        return None
    if text.startswith("/"):
        kind, value = command(text)
        return Incoming(key, kind, value, None, hint, shared=shared)
    return Incoming(key, "text", text, None, hint, shared=shared,
                    message=str(update.update_id))  # the same id when Telegram redelivers
