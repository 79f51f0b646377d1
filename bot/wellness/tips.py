"""Tips for wellness channels: loaded from flows/tips.yaml, rotated without repeats."""

from __future__ import annotations

from pathlib import Path

from bot.engine.loader import ROOT
from bot.engine.yamlio import load_yaml
from bot.errors import FlowError, VersionConflict
from bot.i18n import Locales, Translator
from bot.stores.base import TIPS, Store

TIPS_FILE = ROOT / "flows" / "tips.yaml"
ROTATION = "rotation"


def load_tips(path: Path, locales: Locales) -> tuple[str, ...]:
    """The tip ids in order; each must have its text in every locale."""
    raw = load_yaml(path)
    tips = raw.get("tips") if isinstance(raw, dict) else None
    if not isinstance(tips, list) or not tips or not all(isinstance(t, str) for t in tips):
        raise FlowError("'tips' must be a non-empty list of tip ids", file=str(path))
    if len(set(tips)) != len(tips):
        raise FlowError("duplicate tip id", file=str(path))
    for tip in tips:
        for lang in locales.langs:
            if f"tips.{tip}" not in locales.strings[lang]:
                raise FlowError(f"locale key 'tips.{tip}' is missing in {locales.files[lang]}",
                                file=str(path), node=tip)
    return tuple(tips)


async def next_tip(store: Store, tips: tuple[str, ...]) -> str:
    """The next tip not shown since the rotation last started over; shared by all replicas."""
    for _ in range(16):
        record = await store.get(TIPS, ROTATION)
        shown = [t for t in (record.data.get("shown", []) if record else []) if t in tips]
        if len(shown) >= len(tips):
            shown = []
        tip = next(t for t in tips if t not in shown)
        try:
            await store.put(TIPS, ROTATION, {"shown": [*shown, tip]},
                            version=record.version if record else 0)
        except VersionConflict:
            continue
        return tip
    raise VersionConflict("tip rotation kept changing")


def tip_message(tr: Translator, tip: str) -> tuple[str, str]:
    """The post's text and its button label ("Take the 5-minute check")."""
    return f"{tr.t('tips.header')}\n\n{tr.t(f'tips.{tip}')}", tr.t("tips.button")
