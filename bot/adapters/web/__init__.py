"""The web chat: `backcheck web` serves the check as a page, an embeddable widget and a
small JSON API. inbound (request -> Incoming), render (Reply -> JSON), serve (the
aiohttp application and the CLI), limits (rate limits), settings (BACKCHECK_WEB_*),
static/ (the page, its script and style, widget.js).

What this package uses from the rest of backcheck, all in serve.py: `build_app(settings)`,
`App.handle`, `App.text`, `App.language`, `App.locales.langs` and `App.default_lang`;
the engine's "current" command (where a check stands, changing nothing) to resume a
reloaded page; bot.ops (`add_ops_routes`, `record_error`, `bound_port`) and
bot.lifecycle (`in_flight`, `shutdown`, `run_until_signal`). It is plugged in by one
line in bot/cli.py's PLUGINS and one in bot/config.py (`backcheck config` shows
BACKCHECK_WEB_*).
"""
