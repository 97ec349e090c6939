"""An ebook from a generated lecture on three topics (espeak-ng): chapters where the topic
changes, an EPUB that epubcheck accepts, a PDF that renders with its chapter titles."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from moviie.accounts.service import NewAccount
from tests.conftest import bearer
from tests.media.flow import ready
from tests.quiz.test_quiz import LECTURE
from tests.subtitles.jobs import finished, path_of
from tests.subtitles.speech import speech_video

pytestmark = pytest.mark.timeout(600)


async def _download(client: httpx.AsyncClient, url: str, to: Path) -> Path:
    response = await client.get(path_of(url))
    assert response.status_code == 200, response.text
    to.write_bytes(response.content)
    return to


def _checked(epub: Path, pdf: Path, pages: Path) -> str:
    """epubcheck finds no error; the PDF renders (pdftoppm); its text (pdftotext)."""
    # Debian's /usr/bin/epubcheck is the jar itself (run through binfmt where that is set up).
    jar = Path("/usr/share/java/epubcheck.jar")
    command = ["java", "-jar", str(jar)] if jar.exists() else ["epubcheck"]
    checked = subprocess.run([*command, str(epub)], capture_output=True, text=True, timeout=180)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ERROR" not in checked.stdout
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "2", str(pdf), str(pages / "page")],
        check=True, timeout=120,
    )  # fmt: skip
    assert list(pages.glob("page*.png"))
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return " ".join(text.split())


async def test_an_ebook_from_a_lecture(
    ai_client: httpx.AsyncClient,
    account: NewAccount,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    key = account.private_key
    lecture = speech_video(tmp_path_factory.mktemp("lecture"), LECTURE)
    video = await ready(ai_client, key, lecture.path)
    subtitles = await ai_client.post(
        f"/v1/videos/{video['id']}/subtitles", json={"language": "en"}, headers=bearer(key)
    )
    await finished(ai_client, key, subtitles.json()["id"])
    asked = await ai_client.post(
        f"/v1/videos/{video['id']}/ebook", json={"title": "Three topics"}, headers=bearer(key)
    )
    assert asked.status_code == 202, asked.text
    done, _ = await finished(ai_client, key, asked.json()["id"])
    assert done["status"] == "succeeded", done
    result = done["result"]
    chapters = result["chapters"]

    # Three topics of four sentences each: a chapter starts within a sentence of each change.
    assert len(chapters) == 3, chapters
    for chapter, change in zip(chapters[1:], (4, 8), strict=True):
        near = [lecture.onsets[i] for i in (change - 1, change, change + 1)]
        assert min(abs(chapter["start_s"] - t) for t in near) <= 0.5, (chapter, near)
    for chapter in chapters:
        assert 0 <= chapter["start_s"] < chapter["end_s"] <= video["duration_s"] + 0.5
        assert chapter["title"]
        assert chapter["summary"]
        assert chapter["image"]

    epub = await _download(ai_client, result["epub"], tmp_path / "book.epub")
    pdf = await _download(ai_client, result["pdf"], tmp_path / "book.pdf")
    text = _checked(epub, pdf, tmp_path)
    assert "Three topics" in text
    for chapter in chapters:
        assert chapter["title"] in text, chapter["title"]
    again = await ai_client.get(f"/v1/videos/{video['id']}/ebook", headers=bearer(key))
    assert again.json()["id"] == done["id"]
