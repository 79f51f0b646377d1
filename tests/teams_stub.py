"""Stand-ins for Microsoft's side of Teams, on 127.0.0.1, for the real Agents SDK.

- `Microsoft`: Microsoft's sign-in hosts as the SDK and MSAL reach them — the Bot
  Framework's OpenID metadata and signing keys (login.botframework.com) and Entra ID's
  tenant metadata and token endpoint (login.microsoftonline.com) — served over TLS by a
  throwaway CA, behind a CONNECT proxy. The SDK builds those URLs itself (no setting
  moves them), so the tests point the standard variables at the stand-ins instead:
  HTTPS_PROXY (urllib and requests honour it), SSL_CERT_FILE and REQUESTS_CA_BUNDLE (the
  throwaway CA). Nothing in backcheck or the SDK is changed for the tests.
- `Connector`: the Bot Connector API at the activities' serviceUrl (plain http): it
  records what the bot sends, applies updates, opens personal chats
  (createConversation) for people who have the app installed, and refuses any call
  whose bearer token is not the one `Microsoft` issued to the bot.
- `mint`: a Bot Framework token signed with the test key that `Microsoft` publishes.
- `Teams`: posts Activities to the running `backcheck teams`, the way Teams does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
import threading
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from tls import make_certs

APP_ID = "6f1c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
PASSWORD = "test~app~secret-not-real"
TENANT = "72f988bf-0000-4000-8000-00000000b0c0"
ALICE = "a1a1a1a1-0000-4000-8000-000000000001"
SVEN = "5e5e5e5e-0000-4000-8000-000000000002"
ISSUER = "https://api.botframework.com"
HOSTS = ("login.botframework.com", "login.microsoftonline.com")
KID = "backcheck-test-key"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OUTGOING = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJodHRwczovL2FwaS5ib3RmcmFtZXdvcmsuY29tIn0.stand-in"

JSON = dict[str, Any]


def mint(service_url: str, *, key: rsa.RSAPrivateKey = KEY, kid: str = KID,
         audience: str = APP_ID, issuer: str = ISSUER, lifetime: float = 3600) -> str:
    """A token like the Bot Connector's, signed with `key` (the published one by default)."""
    now = int(time.time())
    claims = {"iss": issuer, "aud": audience, "serviceurl": service_url,
              "nbf": now - 60, "iat": now - 60, "exp": int(now + lifetime)}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


class Microsoft:
    """The sign-in hosts behind a CONNECT proxy; `tokens` counts the bot's token requests.

    They run on their own thread and event loop: the SDK's MSAL provider builds its MSAL
    client (which fetches the tenant's metadata) synchronously on the bot's event loop,
    so a stand-in on that loop could never answer."""

    def __init__(self, directory: Path) -> None:
        self.certs = make_certs(directory, "backcheck Teams test CA", HOSTS)
        self.tokens: list[JSON] = []
        self.tunnels: list[str] = []
        self.proxy_url = ""
        self._runner: web.AppRunner | None = None
        self._proxy: asyncio.Server | None = None
        self._port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def start(self) -> None:
        self._thread.start()
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._start(), self._loop))

    async def stop(self) -> None:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._stop(), self._loop))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._bf_metadata)
        app.router.add_get("/v1/.well-known/keys", self._keys)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._metadata)
        app.router.add_get("/{tenant}/discovery/v2.0/keys", self._keys)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certs.cert, self.certs.key)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self._proxy = await asyncio.start_server(self._tunnel, "127.0.0.1", 0)
        self.proxy_url = f"http://127.0.0.1:{self._proxy.sockets[0].getsockname()[1]}"

    async def _stop(self) -> None:
        if self._proxy is not None:
            self._proxy.close()
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    def variables(self) -> dict[str, str]:
        """The environment that sends the SDK's and MSAL's https requests through the
        proxy, trusting our CA (for a bot in another process)."""
        return {"HTTPS_PROXY": self.proxy_url, "https_proxy": self.proxy_url,
                "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
                "SSL_CERT_FILE": str(self.certs.ca), "REQUESTS_CA_BUNDLE": str(self.certs.ca)}

    def environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The same for a bot in this process."""
        for name, value in self.variables().items():
            monkeypatch.setenv(name, value)
        urllib.request.install_opener(None)  # urllib reads the proxy variables anew

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """HTTP CONNECT to one of Microsoft's sign-in hosts -> the TLS stand-in."""
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        method, target, _ = head.split(" ", 2)
        host = target.rpartition(":")[0]
        if method != "CONNECT" or host not in HOSTS:
            writer.write(b"HTTP/1.1 403 Forbidden\r\n\r\n")
            writer.close()
            return
        self.tunnels.append(host)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._port)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(Exception):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def _bf_metadata(self, request: web.Request) -> web.Response:
        return web.json_response({
            "issuer": ISSUER, "jwks_uri": "https://login.botframework.com/v1/.well-known/keys",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"]})

    async def _keys(self, request: web.Request) -> web.Response:
        jwk = RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
        return web.json_response({"keys": [{**jwk, "kid": KID, "use": "sig",
                                             "alg": "RS256"}]})

    async def _metadata(self, request: web.Request) -> web.Response:
        base = f"https://login.microsoftonline.com/{request.match_info['tenant']}"
        return web.json_response({
            "issuer": f"{base}/v2.0", "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "jwks_uri": f"{base}/discovery/v2.0/keys"})

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.tokens.append({**form, "tenant": request.match_info["tenant"]})
        if (form.get("client_id"), form.get("client_secret")) != (APP_ID, PASSWORD):
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response({"access_token": OUTGOING, "token_type": "Bearer",
                                  "expires_in": 3600})


@dataclass
class Call:
    method: str
    path: str
    body: JSON


@dataclass
class Connector:
    """The Bot Connector API at serviceUrl, keeping each conversation as people see it."""

    installed: set[str] = field(default_factory=set)  # who can get a personal chat
    calls: list[Call] = field(default_factory=list)
    chats: dict[str, dict[str, JSON]] = field(default_factory=dict)  # chat -> id -> message
    fail_once: dict[str, int] = field(default_factory=dict)  # "send"/"update" -> status
    url: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{chat}/activities", self._send)
        app.router.add_post("/v3/conversations/{chat}/activities/{reply_to}", self._send)
        app.router.add_put("/v3/conversations/{chat}/activities/{id}", self._update)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def messages(self, chat: str) -> list[JSON]:
        return list(self.chats.get(chat, {}).values())

    def sent(self, method: str = "send") -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def _authorized(self, request: web.Request, method: str) -> JSON | None:
        body: JSON = await request.json()
        self.calls.append(Call(method, request.path, body))
        if request.headers.get("Authorization") != f"Bearer {OUTGOING}":
            raise web.HTTPUnauthorized()
        status = self.fail_once.pop(method, None)
        if status == 429:
            raise web.HTTPTooManyRequests(headers={"Retry-After": "0"})
        if status is not None:
            raise web.HTTPForbidden(text='{"error": {"code": "Forbidden"}}')
        return body

    async def _send(self, request: web.Request) -> web.Response:
        body = await self._authorized(request, "send")
        assert body is not None
        message_id = f"m{next(self._ids)}"
        self.chats.setdefault(request.match_info["chat"], {})[message_id] = body
        return web.json_response({"id": message_id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        body = await self._authorized(request, "update")
        assert body is not None
        chat = self.chats.setdefault(request.match_info["chat"], {})
        if request.match_info["id"] not in chat:
            raise web.HTTPNotFound()
        chat[request.match_info["id"]] = body
        return web.json_response({"id": request.match_info["id"]})

    async def _create(self, request: web.Request) -> web.Response:
        body = await self._authorized(request, "create")
        assert body is not None
        member = (body.get("members") or [{}])[0]
        who = str(member.get("aadObjectId") or member.get("id"))
        if who not in self.installed:
            raise web.HTTPForbidden(text='{"error": {"code": "BotNotInConversationRoster"}}')
        return web.json_response({"id": personal(who), "activityId": f"m{next(self._ids)}"},
                                 status=201)


def personal(user: str) -> str:
    """The id of a person's personal chat with the bot."""
    return f"a:1personal-{user}"


def seen(message: JSON) -> str:
    """A message as a person sees it: its text, its cards' text and buttons."""
    texts = [str(message["text"])] if message.get("text") else []
    for attachment in message.get("attachments") or []:
        for element in (attachment.get("content") or {}).get("body", []):
            if element.get("type") == "TextBlock":
                texts.append(element["text"])
            texts += [a["title"] for a in element.get("actions", [])]
    return "\n".join(texts)


def buttons(message: JSON) -> list[JSON]:
    """The card buttons of a message."""
    return [a for attachment in message.get("attachments") or []
            for element in (attachment.get("content") or {}).get("body", [])
            for a in element.get("actions", [])]


@dataclass
class Teams:
    """Teams' side of the HTTP conversation with `backcheck teams` at `url`."""

    http: aiohttp.ClientSession
    url: str
    connector: Connector
    app: Any = None  # the running bot's App, to read where a check stands
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def activity(self, user: str, *, chat: str | None = None, kind: str = "personal",
                 locale: str = "en-US", **fields: Any) -> JSON:
        """An activity from `user` in their personal chat (or `chat`, of `kind`)."""
        return {
            "type": "message", "id": f"in{next(self._ids)}", "channelId": "msteams",
            "serviceUrl": self.connector.url, "locale": locale,
            "timestamp": "2026-01-01T10:00:00.000Z",
            "from": {"id": f"29:{user}", "aadObjectId": user, "name": "Person"},
            "recipient": {"id": f"28:{APP_ID}", "name": "backcheck"},
            "conversation": {"id": chat or personal(user), "conversationType": kind,
                             "tenantId": TENANT, "isGroup": kind != "personal"},
            "channelData": {"tenant": {"id": TENANT}},
            **fields,
        }

    async def post(self, body: Any, token: str | None = "", raw: bytes | None = None) -> int:
        """POST /api/messages with a valid token (or `token`, None for none): the status."""
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token or mint(self.connector.url)}"
        kwargs: JSON = {"data": raw} if raw is not None else {"json": body}
        async with self.http.post(self.url, headers=headers, **kwargs) as resp:
            await resp.read()
            return resp.status

    async def say(self, user: str, text: str, **kw: Any) -> int:
        return await self.post(self.activity(user, text=text, **kw))

    async def press(self, user: str, button: JSON, message_id: str, **kw: Any) -> int:
        """Press a card's Action.Submit button: a message with its data, in reply to the card."""
        return await self.post(self.activity(user, value=button["data"],
                                             replyToId=message_id, **kw))

    def chat(self, user: str) -> dict[str, JSON]:
        return self.connector.chats.get(personal(user), {})

    def newest_with_buttons(self, user: str) -> tuple[str, JSON]:
        """(message id, message) of the newest message with buttons in the personal chat."""
        for message_id, message in reversed(self.chat(user).items()):
            if buttons(message):
                return message_id, message
        raise AssertionError("no message with buttons")

    def seen(self, user: str, chat: str | None = None) -> str:
        return "\n".join(seen(m) for m in self.connector.chats.get(chat or personal(user),
                                                                   {}).values())


@contextlib.asynccontextmanager
async def microsoft_side(directory: Path,
                         monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Microsoft,
                                                                                  Connector]]:
    """The sign-in stand-ins and a connector, the environment pointed at them."""
    microsoft, connector = Microsoft(directory), Connector()
    await microsoft.start()
    await connector.start()
    microsoft.environment(monkeypatch)
    try:
        yield microsoft, connector
    finally:
        await connector.stop()
        await microsoft.stop()
        urllib.request.install_opener(None)
