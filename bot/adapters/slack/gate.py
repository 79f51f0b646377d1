"""What stands before Bolt on Slack's HTTP endpoint, so that Bolt only ever sees a request
Slack signed, once, in a form it can read.

- The signature and its timestamp are checked first (401 for a bad, old or missing one,
  or a timestamp that is no number), on the raw bytes: Bolt would parse the body, and
  answer one it cannot parse with a 500, before it looks at the signature.
- A signed request is let through once: its (timestamp, signature) is claimed in the
  store for the five minutes Slack's signature is accepted, so a captured slash command
  or button press replayed within that window — to this replica or another one sharing
  the store — is answered 200 and not carried out again.
- A signed body Bolt cannot read is refused with 400.

`admit` is pure but for the store; nothing here words a reply or touches the App.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from slack_sdk.signature import SignatureVerifier

from bot.errors import StoreError, VersionConflict
from bot.stores.base import ONCE, Store

WINDOW = 5 * 60  # seconds a signature's timestamp is accepted, either side of now (Slack's)
TIMESTAMP = "X-Slack-Request-Timestamp"
SIGNATURE = "X-Slack-Signature"


@dataclass(frozen=True)
class Refusal:
    """Why a request is not handed to Bolt, and the status it gets."""

    status: int
    reason: str  # for the log: a few words, never the request's content


def replay_key(timestamp: str, signature: str) -> str:
    """The store key that claims one signed request."""
    digest = hashlib.sha256(f"{timestamp}:{signature}".encode()).hexdigest()
    return f"slack-request:{digest}"


def signed(body: bytes, headers: Mapping[str, str], verifier: SignatureVerifier | None
           ) -> Refusal | None:
    """None when Slack signed this body within the window; else why not."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "body is not UTF-8")
    timestamp, signature = headers.get(TIMESTAMP), headers.get(SIGNATURE)
    if verifier is None or not timestamp or not signature:
        return Refusal(401, "no signature")
    try:
        valid = verifier.is_valid(text, timestamp, signature)
    except ValueError:  # a timestamp that is no whole number
        return Refusal(401, "timestamp is no number")
    return None if valid else Refusal(401, "bad or old signature")


async def first_time(headers: Mapping[str, str], store: Store) -> Refusal | None:
    """None the first time a signed request is seen (across replicas, through the store);
    a 200 refusal for a replay; 503 when the store cannot say (Slack tries again)."""
    key = replay_key(headers.get(TIMESTAMP, ""), headers.get(SIGNATURE, ""))
    try:
        await store.put(ONCE, key, {}, version=0, ttl=2 * WINDOW + 60)
    except VersionConflict:
        return Refusal(200, "replayed request")
    except StoreError:
        return Refusal(503, "store unavailable")
    return None


def readable(body: object) -> Refusal | None:
    """None when Bolt can read a parsed body: an object, its event (if any) an object."""
    if not isinstance(body, dict) or not isinstance(body.get("event", {}), dict):
        return Refusal(400, "body is no Slack request")
    return None


async def admit(body: bytes, headers: Mapping[str, str], verifier: SignatureVerifier | None,
                store: Store) -> Refusal | None:
    """None when the request may go to Bolt: signed by Slack, and not seen before."""
    return signed(body, headers, verifier) or await first_time(headers, store)
