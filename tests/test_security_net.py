"""On the wire: Redis behind a password and behind TLS (real redis-servers, a certificate
the test makes), and every HTTP port the bot listens on refusing oversized and slow
requests and answering with the security headers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from redis_server import RedisServer
from support import make_app
from tls import make_certs

from bot import httpsafe
from bot.errors import ConfigError, StoreUnavailable
from bot.keys import new_key
from bot.ops import bound_port, start_ops_server
from bot.stores import open_sealed
from bot.stores.base import SESSION

PASSWORD = "s3cretRedisPass42"


@pytest.fixture(scope="module")
def password_server() -> Iterator[RedisServer]:
    with RedisServer(password=PASSWORD) as server:
        yield server


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    certs = make_certs(tmp_path_factory.mktemp("tls"))
    with RedisServer(password=PASSWORD, tls=certs) as server:
        yield server


async def round_trip(url: str) -> None:
    store = open_sealed(url, new_key())
    try:
        await store.put(SESSION, "telegram:1:2:2", {"node": "q"}, version=0, person="p")
        rec = await store.get(SESSION, "telegram:1:2:2")
        assert rec is not None and rec.data == {"node": "q"}
        assert await store.forget("p") == 1
    finally:
        await store.close()


# -- Redis -------------------------------------------------------------------------------


async def test_redis_with_a_password_works(password_server: RedisServer) -> None:
    assert password_server.url.startswith(f"redis://:{PASSWORD}@")
    await round_trip(password_server.url)


@pytest.mark.parametrize("password", ["wrong-password", None])
def test_a_wrong_or_missing_password_stops_start_up_naming_the_variable_not_the_password(
        password_server: RedisServer, password: str | None) -> None:
    auth = f":{password}@" if password else ""
    url = f"redis://{auth}127.0.0.1:{password_server.port}/0"
    with pytest.raises(ConfigError) as raised:
        open_sealed(url, new_key())
    message = str(raised.value)
    assert message.startswith("BACKCHECK_STORE=redis://") and "password" in message
    assert "wrong-password" not in message and PASSWORD not in message and "\n" not in message


async def test_redis_over_tls_with_the_ca_named_in_the_url(tls_server: RedisServer) -> None:
    assert tls_server.url.startswith("rediss://") and "ssl_ca_certs=" in tls_server.url
    await round_trip(tls_server.url)


def test_redis_tls_with_an_unknown_ca_stops_start_up(tls_server: RedisServer) -> None:
    url = tls_server.url.partition("?")[0]  # the system's CAs do not know the test's
    with pytest.raises(ConfigError, match="certificate did not verify"):
        open_sealed(url, new_key())


async def test_plain_redis_to_a_tls_only_port_is_unavailable_not_a_hang(
        tls_server: RedisServer) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{tls_server.port}/0"
    store = open_sealed(url, new_key())
    with pytest.raises(StoreUnavailable):
        await asyncio.wait_for(store.ping(), 10)
    await store.close()


# -- HTTP --------------------------------------------------------------------------------


@pytest.fixture
async def echo_server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """An aiohttp server built the way the adapters build theirs, with short timeouts."""
    monkeypatch.setattr(httpsafe, "HEADER_TIMEOUT", 0.5)
    monkeypatch.setattr(httpsafe, "BODY_TIMEOUT", 0.5)

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    app = httpsafe.application()
    app.router.add_post("/in", echo)
    runner = httpsafe.runner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"127.0.0.1:{bound_port(runner)}"
    await runner.cleanup()


async def test_a_normal_request_passes_with_the_security_headers(echo_server: str) -> None:
    async with aiohttp.ClientSession() as http, http.post(
            f"http://{echo_server}/in", data=b'{"update_id": 1}') as resp:
        assert resp.status == 200 and await resp.read() == b'{"update_id": 1}'
        for name, value in httpsafe.HEADERS.items():
            assert resp.headers[name] == value


async def test_an_oversized_body_is_refused_with_413(echo_server: str) -> None:
    async with aiohttp.ClientSession() as http, http.post(
            f"http://{echo_server}/in", data=b"x" * (httpsafe.MAX_BODY + 1)) as resp:
        assert resp.status == 413


async def send_slowly(address: str, chunks: list[bytes], pause: float) -> bytes:
    """Send `chunks` with `pause` seconds between them; what came back before the server
    closed the connection (b"" if it closed without a word)."""
    host, port = address.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(pause)
    except ConnectionError:
        pass
    try:
        return await asyncio.wait_for(reader.read(), 5)
    except ConnectionError:  # the server closed while we were still writing
        return b""
    finally:
        writer.close()


async def test_a_client_too_slow_with_its_headers_is_cut_off(echo_server: str) -> None:
    header = b"POST /in HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
    started = asyncio.get_running_loop().time()
    answer = await send_slowly(echo_server, [header[i:i + 4] for i in range(0, 40, 4)], 0.2)
    assert answer == b""  # never answered: closed
    assert asyncio.get_running_loop().time() - started < 5


async def test_a_client_too_slow_with_its_body_gets_408(echo_server: str) -> None:
    head = b"POST /in HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
    answer = await send_slowly(echo_server, [head, *[b"x" * 5] * 8], 0.2)
    assert answer.startswith(b"HTTP/1.1 408")


async def test_healthz_and_metrics_carry_the_security_headers() -> None:
    app = make_app()
    runner = await start_ops_server(app, "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            for path in ("/healthz", "/metrics"):
                async with http.get(f"http://127.0.0.1:{bound_port(runner)}{path}") as resp:
                    assert resp.status == 200
                    for name, value in httpsafe.HEADERS.items():
                        assert resp.headers[name] == value
    finally:
        await runner.cleanup()


def test_every_http_server_in_the_bot_is_built_the_guarded_way() -> None:
    """No aiohttp app or runner is made anywhere but through bot/httpsafe.py (the ops
    server, the Telegram webhook and Slack's HTTP mode all use it)."""
    bot = Path(__file__).resolve().parents[1] / "bot"
    users = []
    for path in bot.rglob("*.py"):
        text = path.read_text()
        if path.name != "httpsafe.py":
            assert "web.Application(" not in text and "web.AppRunner(" not in text, path
        if "httpsafe.application()" in text:
            users.append(path.stem)
    assert len(users) >= 3, users  # ops, the Telegram webhook, Slack
