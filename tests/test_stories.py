"""People answer sentences, not ids: first-person stories (tests/stories.yaml) answered by
typing the answer's label, in English and in Swedish, must reach the same, right level, the
same "may fit" list and the same reasons, and read only lines that fit their own story."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.engine.loader import DEFAULT_FLOW
from tests.support import TestBot, shipped

STORIES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "stories.yaml").read_text(encoding="utf-8"))


def test_the_stories_cover_every_level_and_speak_both_languages() -> None:
    flow, _ = shipped()
    assert {s["level"] for s in STORIES} == set(flow.levels)
    assert {f for s in STORIES for f in s["fits"]} == {f.id for f in flow.fits} - {"tarsal_tunnel"}
    for story in STORIES:
        assert story["en"] and story["sv"] and story["en"] != story["sv"], story["id"]
        for qid, option in story["answers"].items():
            node = flow.nodes[qid]
            assert node.option(option) is not None, (story["id"], qid, option)


@pytest.mark.parametrize("lang", ["en", "sv"])
@pytest.mark.parametrize("story", STORIES, ids=[s["id"] for s in STORIES])
async def test_a_story_typed_as_labels_reaches_its_level(story: dict[str, Any],
                                                         lang: str) -> None:
    flow, locales = shipped()
    tr = locales.translator(lang)
    bot = TestBot(lang=lang, json_mode=True)
    await bot.start()
    asked: list[str] = []
    for _ in range(flow.max_questions + 1):
        message = json.loads(bot.pop_all()[-1])
        if message["type"] == "outcome":
            break
        qid = message["id"]
        asked.append(qid)
        assert qid in story["answers"], (
            f"{story['id']}: the bot asked {qid!r}, which the story has no answer to "
            f"({DEFAULT_FLOW.name}); add what this person would say")
        label = tr.t(flow.nodes[qid].option(story["answers"][qid]).label)  # type: ignore[union-attr]
        await bot.push(json.dumps({"text": label}))
    else:
        raise AssertionError(f"{story['id']}: no result after {asked}")
    assert message["level"] == story["level"], (story["id"], lang, asked)
    assert message["fits"] == story["fits"], (story["id"], lang)
    assert message["why"] == story["why"], (story["id"], lang)
    for words in story.get("says", {}).get(lang, []):
        assert words in message["text"], (story["id"], lang, words)
    for words in story.get("never_says", {}).get(lang, []):
        assert words not in message["text"], (story["id"], lang, words)
    assert len(asked) <= flow.max_questions
