"""Teams Activities -> `Incoming`. Pure: no I/O.

A person's own message in the personal chat is typed text (the App reads commands in any
language); a card button (Action.Submit, or Action.Execute's `adaptiveCard/action` invoke)
carries `<stale-button token>|<option id or command>` in its data (render.py), checked
here so a garbled or forged one is ignored. In a channel or group chat the bot hears only
messages that @mention it; the mention is cut off and the rest marked `shared`.
"""

from __future__ import annotations

import re
from typing import Any

from microsoft_agents.activity import Activity

from bot.types import Incoming, IncomingKind, SessionKey

PLATFORM = "teams"
DATA = "backcheck"  # the key of a button's value in its card data
KIND = "kind"  # "answer" or "command"
EXECUTE = "adaptiveCard/action"  # the invoke an Action.Execute button sends
PERSONAL = "personal"
_VALUE = re.compile(r"(?P<token>[A-Za-z0-9_.-]{0,64})\|(?P<value>[A-Za-z0-9_ -]{1,64})")


def tenant_of(activity: Activity) -> str:
    """The Microsoft Entra tenant the activity comes from."""
    conversation = activity.conversation
    tenant = conversation.tenant_id if conversation is not None else None
    if not tenant and isinstance(activity.channel_data, dict):
        found = activity.channel_data.get("tenant")
        tenant = found.get("id") if isinstance(found, dict) else None
    return str(tenant or "")


def user_of(activity: Activity) -> str:
    """The person: their Entra object id (what BACKCHECK_ADMINS names), else Teams' id."""
    sender = activity.from_property
    if sender is None:
        return ""
    return str(sender.aad_object_id or sender.id or "")


def key_of(activity: Activity) -> SessionKey:
    """The conversation key: (teams, tenant, conversation id, person)."""
    conversation = activity.conversation
    chat = conversation.id if conversation is not None else ""
    return SessionKey(PLATFORM, tenant_of(activity), str(chat or ""), user_of(activity))


def is_shared(activity: Activity) -> bool:
    """Whether the activity comes from a channel or a group chat (anything not personal)."""
    conversation = activity.conversation
    kind = conversation.conversation_type if conversation is not None else None
    return kind != PERSONAL if kind else bool(conversation and conversation.is_group)


def parse_value(value: object) -> tuple[str | None, str] | None:
    """(token, option id or command) from a button's data; None when garbled or forged."""
    match = _VALUE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    return match["token"] or None, match["value"]


def card_data(activity: Activity) -> dict[str, Any] | None:
    """A card button's data: an Action.Submit message's `value`, or the `data` of an
    Action.Execute invoke; None for anything else."""
    value = activity.value
    if activity.type == "invoke":
        if activity.name != EXECUTE or not isinstance(value, dict):
            return None
        action = value.get("action")
        value = action.get("data") if isinstance(action, dict) else None
    return value if isinstance(value, dict) else None


def press(activity: Activity, data: dict[str, Any]) -> Incoming | None:
    """A button press; None when its data is garbled or forged."""
    parsed = parse_value(data.get(DATA))
    if parsed is None:
        return None
    token, value = parsed
    kind: IncomingKind = "answer" if data.get(KIND) == "answer" else "command"
    return Incoming(key_of(activity), kind, value, token=token, lang_hint=activity.locale,
                    shared=is_shared(activity))


def typed(activity: Activity) -> Incoming | None:
    """A person's typed message, @mentions of the bot removed; None when nothing is left
    in a personal chat (a bare mention in a channel still asks for the check)."""
    if not isinstance(activity.text, str):
        return None
    shared = is_shared(activity)
    text = activity.remove_recipient_mention() if activity.recipient else activity.text
    text = re.sub(r"<at>.*?</at>", " ", text or "").strip()
    if not text and not shared:
        return None
    kind: IncomingKind = "text" if text else "start"
    return Incoming(key_of(activity), kind, text, lang_hint=activity.locale, shared=shared,
                    message=str(activity.id or ""))  # the same id when Teams redelivers


def incoming(activity: Activity) -> Incoming | None:
    """What a person did, or None for activities that ask nothing of the bot (typing,
    reactions, members joining, the bot's own messages, garbled or forged buttons)."""
    if not user_of(activity) or not key_of(activity).chat:
        return None
    data = card_data(activity)
    if data is not None:
        return press(activity, data)
    if activity.type == "message":
        return typed(activity)
    return None
