"""`backcheck chat --json` end to end through a subprocess: JSON lines only on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[1]


class Chat:
    """A running `backcheck chat --json` process."""

    def __init__(self, *args: str, store: str = "memory://") -> None:
        env = {**os.environ, "BACKCHECK_STORE": store}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "chat", "--json", *args], cwd=ROOT, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "the bot closed stdout"
        return json.loads(line)  # every line must be JSON

    def send(self, data: dict[str, Any] | str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((data if isinstance(data, str) else json.dumps(data)) + "\n")
        self.proc.stdin.flush()

    def close(self) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, out, err


def test_a_whole_check_in_swedish_with_errors_back_and_eof() -> None:
    chat = Chat("--lang", "sv")
    first = chat.read()
    assert first["type"] == "question" and first["id"] == "cold_pale_foot"
    assert first["progress"][0] == 1
    assert [o["id"] for o in first["options"]] == ["yes", "no", "unsure"]
    assert [o["label"] for o in first["options"]] == ["Ja", "Nej", "Vet inte"]
    chat.send({"answer": "maybe"})
    assert chat.read()["type"] == "error"
    assert chat.read()["id"] == "cold_pale_foot"
    chat.send("this is not json")
    assert chat.read()["type"] == "error"
    assert chat.read()["id"] == "cold_pale_foot"
    chat.send({"answer": "no"})
    assert chat.read()["id"] == "severe_weakness"
    chat.send({"command": "back"})
    assert chat.read()["id"] == "cold_pale_foot"
    for expected in ("cold_pale_foot", "severe_weakness", "spreading_weakness", "bladder_bowel"):
        if expected != "cold_pale_foot":
            assert chat.read()["id"] == expected
        chat.send({"answer": "no" if expected != "bladder_bowel" else "unsure"})
    banner = chat.read()  # an emergency sign: the level at once, then the remaining signs
    assert banner["id"] == "saddle_numbness" and banner["level"] == "emergency"
    assert banner["lead"].startswith("🚨 Sök vård direkt på en akutmottagning")
    assert banner["actions"] == [{"command": "result", "label": "Visa mitt resultat nu"}]
    chat.send({"command": "result"})
    outcome = chat.read()
    assert outcome["type"] == "outcome"
    assert outcome["level"] == "emergency"
    assert outcome["why"] == ["bladder_bowel"]
    assert outcome["fits"] == ["cauda_equina"]
    assert outcome["text"].startswith("🚨 Sök vård direkt på en akutmottagning")
    code, rest, err = chat.close()  # EOF on stdin ends cleanly
    assert code == 0 and rest == "" and "Traceback" not in err


@pytest.mark.parametrize(("region", "number"), [("GB", "999"), ("US", "911")])
def test_region_flag(region: str, number: str) -> None:
    chat = Chat("--region", region)
    chat.read()
    chat.send({"answer": "yes"})
    assert chat.read()["text"].startswith(f"🚑 Call {number} now")
    assert chat.close()[0] == 0


def test_commands_answer_with_json_messages_and_stop_ends_the_process() -> None:
    chat = Chat()
    chat.read()
    chat.send({"command": "help"})
    help_message = chat.read()
    assert help_message["type"] == "message"
    assert "back – change your last answer" in help_message["text"]
    assert chat.read()["id"] == "cold_pale_foot"
    chat.send({"command": "dance"})
    assert chat.read()["type"] == "error"
    assert chat.read()["id"] == "cold_pale_foot"
    chat.send({"command": "stop"})
    assert chat.read()["type"] == "message"
    assert chat.close()[0] == 0


def test_the_sqlite_default_store_works_from_a_fresh_data_dir(tmp_path: Path) -> None:
    chat = Chat(store=f"sqlite:///{tmp_path / 'deep' / 'sessions.sqlite3'}")
    assert chat.read()["id"] == "cold_pale_foot"
    chat.send({"answer": "yes"})
    assert chat.read()["level"] == "ambulance"
    assert chat.close()[0] == 0


def test_interactive_chat_resumes_an_unfinished_check(tmp_path: Path) -> None:
    env = {**os.environ, "BACKCHECK_STORE": f"sqlite:///{tmp_path / 's.sqlite3'}"}
    run = [sys.executable, "-m", "bot.cli", "chat"]
    first = subprocess.run(run, input="no\nnej\n", env=env, cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
    assert first.returncode == 0 and "Question 3 of about" in first.stdout
    again = subprocess.run(run, input="", env=env, cwd=ROOT, capture_output=True, text=True,
                           timeout=60)
    assert again.stdout.startswith("Welcome back – let's carry on where you left off.")
    assert "Question 3 of about" in again.stdout
