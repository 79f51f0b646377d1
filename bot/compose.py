"""The one function that builds backcheck's object graph: `build_app`.

Flow and locales are loaded, the store opened, and the App constructed with everything
it is made of — the in-flight tracker, the metrics middleware and observer, each
platform's capabilities (bot/platforms.py), the admins and the wellness settings. The
App is complete when it is returned; nothing is attached to it later. Each adapter is
then handed this App.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.app import App
from bot.config import Settings
from bot.engine.flow import Flow
from bot.i18n import Locales
from bot.inflight import InFlight
from bot.ops import Metrics
from bot.platforms import PLATFORMS
from bot.review.version import check_signed, running_content
from bot.stores import open_sealed
from bot.stores.base import Store
from bot.wellness.settings import WellnessSettings


def load_content(settings: Settings) -> tuple[Flow, Locales]:
    """The shipped (or BACKCHECK_FLOW) flow and the locales, validated: the very content
    whose version BACKCHECK_SIGNED_VERSION pins."""
    return running_content(settings).load()


def build_app(settings: Settings, store: Store | None = None, *,
              wellness: WellnessSettings | None = None,
              content: tuple[Flow, Locales] | None = None,
              clock: Callable[[], float] = time.time) -> App:
    """The App for these settings, with its metrics and in-flight tracker. `store`,
    `wellness` and `content` (flow, locales) default to what the settings name."""
    check_signed(settings)  # content nobody signed off never reaches people
    flow, locales = content if content is not None else load_content(settings)
    tracker = InFlight()
    metrics = Metrics(flow, tracker)
    return App(
        flow,
        locales,
        store if store is not None else open_sealed(settings.store, settings.secret_key),
        region=settings.region,
        default_lang=settings.default_lang,
        session_ttl=settings.session_ttl,
        clock=clock,
        wellness=wellness if wellness is not None else WellnessSettings.from_env(),
        admins=settings.admins,
        capabilities={p.name: p.capabilities for p in PLATFORMS},
        middleware=[metrics.middleware],
        observers=[metrics],
        in_flight=tracker,
    )
