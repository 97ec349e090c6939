"""A quiz from a generated lecture (espeak-ng): every answer is said in the video where the
question says, options are distinct, counts and types as asked, and the GIFT and QTI exports
are well formed; a video that says too little is refused before any charge."""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree as ET

import httpx
import pytest

from moviie.accounts.service import NewAccount
from moviie.quiz.exports import IMSCP, QTI
from tests.conftest import bearer
from tests.media.flow import ready
from tests.subtitles.jobs import finished, path_of
from tests.subtitles.speech import speech_video

pytestmark = pytest.mark.timeout(600)

LECTURE = (
    "Photosynthesis turns light into chemical energy inside the leaves of plants.",
    "The green pigment chlorophyll absorbs red and blue light from the sun.",
    "Plants take carbon dioxide from the air through tiny pores called stomata.",
    "Water travels from the roots to the leaves through a tissue called xylem.",
    "The volcano erupts when magma rises through cracks in the crust.",
    "Hot lava flows down the mountain and cools into black basalt rock.",
    "Ash from the eruption can travel across whole continents in the wind.",
    "Geologists measure small earthquakes to predict the next eruption.",
    "The Roman empire built long roads to move soldiers across its provinces.",
    "Roman engineers used concrete to build domes that still stand today.",
    "The aqueduct carried fresh water from the hills into the crowded city.",
    "Latin was the language of law and trade across the empire.",
)


def _said_near(words: list[dict[str, object]], phrase: str, at: float) -> bool:
    tokens = re.findall(r"[\w']+", phrase.lower())
    said = [(re.sub(r"[^\w']", "", str(w["text"]).lower()), float(w["start"])) for w in words]  # type: ignore[arg-type]
    for i in range(len(said) - len(tokens) + 1):
        if [t for t, _ in said[i : i + len(tokens)]] == tokens and abs(said[i][1] - at) <= 2:
            return True
    return False


async def test_a_quiz_from_a_lecture(
    ai_client: httpx.AsyncClient, account: NewAccount, tmp_path_factory: pytest.TempPathFactory
) -> None:
    key = account.private_key
    lecture = speech_video(tmp_path_factory.mktemp("lecture"), LECTURE)
    video = await ready(ai_client, key, lecture.path)
    subtitles = await ai_client.post(
        f"/v1/videos/{video['id']}/subtitles", json={"language": "en"}, headers=bearer(key)
    )
    transcript, _ = await finished(ai_client, key, subtitles.json()["id"])
    words = transcript["result"]["transcript"]["words"]

    asked = await ai_client.post(
        f"/v1/videos/{video['id']}/quiz", json={"questions": 6}, headers=bearer(key)
    )
    assert asked.status_code == 202, asked.text
    done, _ = await finished(ai_client, key, asked.json()["id"])
    assert done["status"] == "succeeded", done
    questions = done["result"]["questions"]
    assert len(questions) == 6
    assert [q["type"] for q in questions] == ["multiple_choice", "true_false", "fill_blank"] * 2
    assert len({q["sentence"] for q in questions}) == 6  # no sentence asked twice
    for q in questions:
        assert _said_near(words, q["term"], q["start_s"]), q
        assert q["sentence"] in q["explanation"]
        assert len(set(q["options"])) == len(q["options"])
        if q["type"] == "multiple_choice":
            assert len(q["options"]) == 4
            assert q["answer"] in q["options"]
            assert "_____" in q["prompt"]
            assert all(
                o.lower() not in q["sentence"].lower() for o in q["options"] if o != q["answer"]
            )
        elif q["type"] == "true_false":
            assert q["options"] == ["True", "False"]
            assert (q["answer"] == "True") == (q["prompt"] == q["sentence"])
        else:
            assert q["options"] == []
            assert "_____" in q["prompt"]
            assert q["prompt"].replace("_____", q["answer"]) == q["sentence"]

    gift = (await ai_client.get(path_of(done["result"]["gift"]))).text
    blocks = [b for b in gift.split("\n\n") if b.strip()]
    assert len(blocks) == 6
    assert all(re.match(r"^::Q\d+::", b) and b.count("{") - b.count("\\{") == 1 for b in blocks)
    package = (await ai_client.get(path_of(done["result"]["qti"]))).content
    with zipfile.ZipFile(io.BytesIO(package)) as qti:
        manifest = ET.fromstring(qti.read("imsmanifest.xml"))
        hrefs = [r.get("href") for r in manifest.iter(f"{{{IMSCP}}}resource")]
        assert len(hrefs) == 6
        for href in hrefs:
            item = ET.fromstring(qti.read(str(href)))
            assert item.tag == f"{{{QTI}}}assessmentItem"
            value = item.find(
                f"{{{QTI}}}responseDeclaration/{{{QTI}}}correctResponse/{{{QTI}}}value"
            )
            assert value is not None
            assert value.text
            choices = [c.get("identifier") for c in item.iter(f"{{{QTI}}}simpleChoice")]
            if choices:
                assert value.text in choices
    again = await ai_client.get(f"/v1/videos/{video['id']}/quiz", headers=bearer(key))
    assert again.json()["id"] == done["id"]


async def test_too_little_speech_is_refused_before_charging(
    ai_client: httpx.AsyncClient, account: NewAccount, tmp_path_factory: pytest.TempPathFactory
) -> None:
    key = account.private_key
    short = speech_video(tmp_path_factory.mktemp("short"), LECTURE[:1])
    video = await ready(ai_client, key, short.path)
    subtitles = await ai_client.post(
        f"/v1/videos/{video['id']}/subtitles", json={"language": "en"}, headers=bearer(key)
    )
    await finished(ai_client, key, subtitles.json()["id"])
    before = (await ai_client.get("/v1/me", headers=bearer(key))).json()["credits"]["balance"]
    asked = await ai_client.post(
        f"/v1/videos/{video['id']}/quiz", json={"questions": 10}, headers=bearer(key)
    )
    assert asked.status_code == 422, asked.text
    assert asked.json()["code"] == "too_little_speech"
    after = (await ai_client.get("/v1/me", headers=bearer(key))).json()["credits"]["balance"]
    assert after == before
    assert (
        await ai_client.get(f"/v1/videos/{video['id']}/quiz", headers=bearer(key))
    ).status_code == 404
