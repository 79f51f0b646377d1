"""The web chat: `backcheck web` serves the check as a page, an embeddable widget and a
small JSON API. inbound (request -> Incoming), render (Reply -> JSON), serve (the
aiohttp application and the CLI), limits (rate limits), settings (BACKCHECK_WEB_*),
static/ (the page, its script and style, widget.js)."""
