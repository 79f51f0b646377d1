"""`backcheck review`: the clinician's review pack holds every question in both languages,
every invariant with its proof and every result; it prints to PDF and renders in a real
browser; the content version changes with one Swedish word and `--diff` shows it; a bot
refuses content whose version nobody signed off."""

from __future__ import annotations

import html
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings
from bot.engine.loader import ROOT
from bot.engine.machine import match_answer
from bot.engine.render import outcome
from bot.errors import BackcheckError, ConfigError
from bot.review import diff, outcomes, pdf, sources
from bot.review.cli import HAZARDS, write_pack
from bot.review.content import STRUCTURAL, Review, gather
from bot.review.version import Content, check_signed, content_version, short

TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


@pytest.fixture(scope="module")
def review() -> Review:
    return gather(Content.at(ROOT), HAZARDS)


@pytest.fixture(scope="module")
def page(review: Review, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_pack(review, tmp_path_factory.mktemp("pack"))[0]


def copy_content(to: Path) -> Path:
    """A copy of flows/ and locales/ to change without touching the checkout."""
    for part in ("flows", "locales"):
        shutil.copytree(ROOT / part, to / part)
    return to


def change_a_swedish_word(root: Path, review: Review) -> tuple[str, str, str]:
    """Change one word of the first question's Swedish text; (question, old, new word)."""
    node = review.flow.questions()[0]
    text = review.tr("sv").t(node.text)
    word = max(re.findall(r"\w+", text), key=len)
    sv = root / "locales" / "sv.yaml"
    lines = sv.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if word in line and "text:" in line
              and text[:20] in line)
    lines[at] = lines[at].replace(word, word + "na", 1)
    sv.write_text("".join(lines), encoding="utf-8")
    return node.id, word, word + "na"


def test_the_page_has_every_question_in_both_languages_and_every_invariant(
        review: Review, page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for node in review.flow.questions():
        for lang in ("en", "sv"):
            tr = review.tr(lang)
            assert html.escape(tr.t(node.text)) in text, (node.id, lang)
            for option in node.options:
                assert html.escape(tr.t(option.label)) in text
    for name in [*(inv.name for inv in review.flow.invariants), *STRUCTURAL]:
        assert f"<code>{name}</code>" in text
    assert text.count('class="box result"') == len(review.results())
    assert short(review.version) in text and review.version in text
    for hazard in review.hazards.hazards:
        assert html.escape(hazard.hazard) in text
    assert "10. Sign-off" in text and "Signature" in text


def test_the_page_is_self_contained_and_every_text_is_escaped(
        review: Review, tmp_path: Path) -> None:
    root = copy_content(tmp_path / "content")
    en = root / "locales" / "en.yaml"
    node = review.flow.questions()[0]
    original = review.tr("en").t(node.text)
    en.write_text(en.read_text(encoding="utf-8").replace(
        original, original + " <img src='https://evil.example/x.png'> & <script>", 1),
        encoding="utf-8")
    changed = gather(Content.at(root), HAZARDS)
    text = write_pack(changed, tmp_path / "out")[0].read_text(encoding="utf-8")
    assert "&lt;img src=&#x27;https://evil.example/x.png&#x27;&gt; &amp; &lt;script&gt;" in text
    assert not re.search(r"<(script|img|link|iframe|object)\b", text)
    assert not re.search(r"\b(src|href)=\"(?!#)", text)  # only links within the page
    assert "url(" not in text and "@import" not in text


@pytest.fixture(scope="module")
def printed(page: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, list[str]]:
    """The pack printed by chromium: its page count (pdfinfo) and each page's text."""
    out = pdf.print_pdf(page, tmp_path_factory.mktemp("pdf") / "review.pdf")
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True,
                          timeout=60, check=True).stdout
    found = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
    assert found, info
    words = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                           text=True, timeout=60, check=True).stdout
    return int(found.group(1)), [p for p in words.split("\f") if p.strip()]


def test_the_pdf_opens_with_a_page_count_and_the_version_on_every_page(
        review: Review, printed: tuple[int, list[str]]) -> None:
    pages, printed_pages = printed
    # issue 19: the whole pack reads in one sitting — under 40 pages
    assert 10 <= pages < 40
    assert len(printed_pages) == pages
    assert all(f"content version {short(review.version)}" in p for p in printed_pages)
    assert f"page {pages} of {pages}" in printed_pages[-1]


def test_the_sign_off_is_the_last_page_whole_and_alone(
        review: Review, printed: tuple[int, list[str]]) -> None:
    pages, texts = printed
    last = " ".join(texts[-1].split())
    parts = ["10. Sign-off", f"content version {short(review.version)}", "approved with the "
             "changes noted", "Changes noted", "Reviewer name", "Role and registration number",
             "Organisation", "Date", "Signature", "Content version", review.version]
    assert all(part in last for part in parts), [p for p in parts if p not in last]
    assert not any(part in texts[-2] for part in ("10. Sign-off", "Changes noted",
                                                  "Reviewer name", "Role and registration"))
    body = last.split("10. Sign-off", 1)[0]  # above the heading: only the running header
    assert body.strip() == f"backcheck clinical review: flow {review.flow.id} content " \
                           f"version {short(review.version)}", body


def test_every_flow_picture_prints_its_text_at_8_pt_or_more(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    pictures = re.findall(r"<svg class=\"flow-graph\".*?</svg>", text, re.DOTALL)
    assert len(pictures) >= 4  # one per part: red flags, care today, checklist, other causes
    for svg in pictures:
        width = float(re.search(r'width="([\d.]+)pt"', svg)[1])  # type: ignore[index]
        view = float(re.search(r'viewBox="[\d.-]+ [\d.-]+ ([\d.]+)', svg)[1])  # type: ignore[index]
        scale = width / view  # printed points per SVG unit (dot draws 1 unit = 1 pt)
        sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)"', svg)]
        assert sizes and min(sizes) * scale >= 8, (min(sizes), scale)
        assert width <= 522  # A4 less the margins: the picture is printed at this size


def test_every_word_of_every_result_is_in_the_pack_once_per_shared_line(
        review: Review, page: Path) -> None:
    text = html.unescape(page.read_text(encoding="utf-8"))
    found = outcomes.split(review)
    assert found.shared(), "the lists results share are printed once"
    for number, (_, path) in enumerate(review.results(), 1):
        for lang in review.langs:
            said = outcome(review.flow, review.tr(lang), path, "").text
            for line in said.splitlines():
                assert line.removeprefix("• ") in text, (number, lang, line)
    tests_title = review.tr("en").t("outcome.tests_title")
    shared_tests = [line for line in found.shared() if line.title[0] == tests_title]
    assert shared_tests, "the tests a doctor may do are a shared block"
    assert text.count(shared_tests[0].text[0]) == 1


def test_sources_guidelines_first_each_with_its_address_and_the_article_labelled(
        review: Review, page: Path) -> None:
    listed = sources.registry(review.flow, review.tr("en"))
    assert listed
    kinds = [s.kind for s in listed]
    assert kinds == sorted(kinds, key=lambda k: ("guideline", "article", "").index(k))
    text = page.read_text(encoding="utf-8")
    for source in listed:
        assert html.escape(source.title) in text
        assert (html.escape(source.url) in text) if source.url else "no address recorded" in text
    if "article" in kinds:
        assert "The article&#x27;s own sources" in text


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered rows of an 8-bit, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + size]
        header, idat = (chunk, idat) if kind == b"IHDR" else (
            header, idat + chunk if kind == b"IDAT" else idat)
        pos += 12 + size
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6)
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, prior = zlib.decompress(idat), width * bpp, [], bytes(width * bpp)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left, up = line[i - bpp] if i >= bpp else 0, prior[i]
            corner = prior[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else
                                      up if pb <= pc else corner)) & 255
        rows.append(bytes(line))
        prior = bytes(line)
    return width, height, [r[::bpp] for r in rows]  # the red channel is enough


def test_the_page_renders_in_a_real_browser(page: Path, tmp_path: Path) -> None:
    shot = pdf.screenshot(page, tmp_path / "page.png", width=640, height=800)
    width, height, reds = png_pixels(shot.read_bytes())
    assert (width, height) == (640, 800)
    values = [v for row in reds for v in row]
    dark = sum(1 for v in values if v < 160) / len(values)
    assert 0.01 < dark < 0.6, dark  # text on a white page: neither blank nor a black box
    assert len(set(values)) > 20  # anti-aliased text, not a flat colour


def test_one_swedish_word_changes_the_version_and_shows_in_the_diff(
        review: Review, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = copy_content(tmp_path / "old")
    assert content_version(old) == content_version(ROOT)
    question, word, new_word = change_a_swedish_word(old, review)
    assert content_version(old) != content_version(ROOT)
    found = diff.compare(Content.at(old), Content.at(ROOT))
    (change,) = [c for group in found.groups.values() for c in group]
    assert (change.item, change.lang, change.kind) == (f"question {question} (text)", "sv",
                                                       "reworded")
    assert new_word in change.old and word in change.new
    assert main(["review", "--diff", str(old), "--out", str(tmp_path / "pack")]) in (0, 1)
    out = capsys.readouterr().out
    assert f"reworded  question {question} (text) [sv]" in out
    assert f"Content version {short(content_version(old))} → {short(review.version)}" in out
    pack = next((tmp_path / "pack").glob("*.html")).read_text(encoding="utf-8")
    assert "Changes since" in pack and html.escape(new_word) in pack


def test_diff_against_a_git_revision(review: Review, tmp_path: Path) -> None:
    repo = copy_content(tmp_path / "repo")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True, timeout=60)
    subprocess.run([*git, "add", "."], check=True, timeout=60)
    subprocess.run([*git, "commit", "-qm", "v1"], check=True, timeout=60)
    change_a_swedish_word(repo, review)
    with diff.old_content("HEAD", repo, "back_pain.yaml") as old:
        found = diff.compare(old, Content.at(repo))
    assert [c.lang for group in found.groups.values() for c in group] == ["sv"]
    with (pytest.raises(BackcheckError, match="no-such-revision"),
          diff.old_content("no-such-revision", repo, "back_pain.yaml")):
        pass


def test_a_bot_with_a_mismatching_signed_version_refuses_to_start(review: Review) -> None:
    env = {**os.environ, "BACKCHECK_ENV_FILE": os.devnull, "BACKCHECK_STORE": "memory://",
           "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
           "BACKCHECK_SIGNED_VERSION": "0123456789ab"}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "telegram"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "BACKCHECK_SIGNED_VERSION=0123456789ab" in lines[0]
    assert short(review.version) in lines[0] and TOKEN not in done.stderr


def test_slack_refuses_too_and_a_matching_version_passes(
        review: Review, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BACKCHECK_ENV_FILE", os.devnull)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test")
    monkeypatch.setenv("BACKCHECK_SIGNED_VERSION", "0" * 64)
    assert main(["slack"]) == 2
    assert f"is version {short(review.version)}" in capsys.readouterr().err
    for signed in (review.version, short(review.version)):
        check_signed(Settings(signed_version=signed))
    check_signed(Settings())  # not set: nothing is checked
    with pytest.raises(ConfigError, match="BACKCHECK_SIGNED_VERSION"):
        Settings.from_env({"BACKCHECK_SIGNED_VERSION": "not-hex"})


def test_backcheck_config_shows_the_content_version(
        review: Review, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BACKCHECK_ENV_FILE", os.devnull)
    assert main(["config"]) == 0
    assert f"# content version (flow, locales, tips): {short(review.version)}" in \
        capsys.readouterr().out


def test_every_hazard_names_an_existing_invariant_or_test(review: Review) -> None:
    log = review.hazards
    assert len(log.hazards) >= 12
    assert all(h.hazard and h.cause and h.effect and h.control for h in log.hazards)
    assert len({h.id for h in log.hazards}) == len(log.hazards)
    assert not log.problems, "\n".join(log.problems)


def test_a_typed_question_mark_never_answers_no(review: Review) -> None:
    for qid in review.flow.red_flags:
        node = review.flow.nodes[qid]
        for typed in ("?", "??", " ? ", "…?"):
            assert match_answer(typed, node, review.locales) in (None, "unsure"), (qid, typed)


def test_every_rule_is_in_words_with_its_level(review: Review, page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert text.count("<tr><td>", text.index('id="rules"'), text.index('id="invariants"')) >= \
        len(review.flow.rules)
    first = review.flow.rules[0]
    question = next(iter(first.cond.questions())) if first.cond else ""
    assert f"{question} is " in text
