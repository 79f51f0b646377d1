"""One bot replica in the two-process store test: applies a list of answers to a conversation.

    python tests/store_worker.py STORE_URL KEY ANSWERS.json

Each answer carries its sequence number; the worker applies answer n only when the
conversation's `next` is n (compare-and-set, retrying on VersionConflict) and skips it
when it is already applied, as a replica does with a redelivered update. It prints
"ready", waits for a line on stdin (so that two workers start together), then prints
{"applied": ..., "conflicts": ...} as JSON.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from typing import Any

from bot.errors import VersionConflict
from bot.stores import Store, open_store
from bot.stores.base import SESSION

PERSON = "tg:bot:person-1"


def answer_list(count: int, seed: int) -> list[dict[str, Any]]:
    """Answers 0..count-1 in order, with earlier answers redelivered here and there."""
    rng = random.Random(seed)
    answers: list[dict[str, Any]] = []
    for seq in range(count):
        answers.append({"seq": seq, "value": f"answer-{seq}", "node": f"q{seq % 15}"})
        if seq and rng.random() < 0.3:
            answers.append(dict(answers[rng.randrange(len(answers))]))
    return answers


async def apply_answer(store: Store, key: str, answer: dict[str, Any]) -> tuple[bool, int]:
    """Apply one answer unless already applied; return (applied, conflicts met)."""
    conflicts = 0
    while True:
        rec = await store.get(SESSION, key)
        state = rec.data if rec is not None else {"next": 0, "answers": [], "node": None}
        if state["next"] > answer["seq"]:
            return False, conflicts
        if state["next"] < answer["seq"]:
            raise AssertionError(f"answer {answer['seq']} came before answer {state['next']}")
        new = {
            "next": answer["seq"] + 1,
            "answers": [*state["answers"], answer["value"]],
            "node": answer["node"],
        }
        try:
            await store.put(SESSION, key, new, version=0 if rec is None else rec.version,
                            ttl=600, person=PERSON)
            return True, conflicts
        except VersionConflict:
            conflicts += 1


async def apply_all(store: Store, key: str, answers: list[dict[str, Any]]) -> dict[str, int]:
    """Apply every answer in order; count how many this worker applied and its conflicts."""
    applied = conflicts = 0
    for answer in answers:
        done, met = await apply_answer(store, key, answer)
        applied += done
        conflicts += met
    return {"applied": applied, "conflicts": conflicts}


async def main(url: str, key: str, answers_path: str) -> None:
    with open(answers_path, encoding="utf-8") as f:
        answers = json.load(f)
    store = open_store(url)
    try:
        await store.ping()
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        print(json.dumps(await apply_all(store, key, answers)), flush=True)
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
