"""The quiz material: the transcript (the video's own, else made now), the questions, and their
GIFT and QTI 2.1 exports stored beside the video."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from dbos import DBOS

from moviie.ai.materials import store_material
from moviie.ai.tasks import JobContext, JobProgress, MaterialFailed, material
from moviie.ai.text import embeddings, keyphrases
from moviie.jobs.runtime import runtime
from moviie.quiz.exports import to_gift, to_qti_package
from moviie.quiz.generate import TooLittleSpeech, make_quiz
from moviie.subtitles.cues import words_from
from moviie.subtitles.tasks import transcript_for
from moviie.videos import repository as video_repository


@DBOS.step(retries_allowed=True, max_attempts=2, interval_seconds=2.0)
async def write_quiz(
    job_id: str, video_id: str, language: str, words: list[dict[str, Any]], params: dict[str, Any]
) -> dict[str, Any]:
    rt = runtime()
    async with rt.db.transaction(write=False) as session:
        video = await video_repository.get_live(session, video_id)
    if video is None:
        return {"rejected": "video_deleted", "message": "The video was deleted."}
    timed = words_from(words)
    try:
        questions = await asyncio.to_thread(
            make_quiz, timed, language, params["questions"], params["types"], keyphrases, embeddings
        )
    except TooLittleSpeech as little:
        return {"rejected": "too_little_speech", "message": str(little)}
    title = video.title or "Quiz"
    files = {
        "quiz.gift": to_gift(questions).encode(),
        "quiz.qti.zip": to_qti_package(questions, title),
    }
    public = rt.settings.resolved_public_url
    urls = {
        name: await store_material(
            rt.storage, public, video.account_id, video.id, job_id, name, data
        )
        for name, data in files.items()
    }
    return {
        "language": language,
        "questions": [
            asdict(q) | {"embed": f"{public}/embed/{video.id}?t={int(q.start_s)}"}
            for q in questions
        ],
        "gift": urls["quiz.gift"],
        "qti": urls["quiz.qti.zip"],
    }


@material("quiz")
async def make_quiz_material(job: JobContext) -> dict[str, Any]:
    found = await transcript_for(job, job.params.get("language"))
    await JobProgress(job.job_id)(0.6, force=True)
    made = await write_quiz(job.job_id, job.video_id, found["language"], found["words"], job.params)
    if "rejected" in made:
        raise MaterialFailed(made["rejected"], made["message"])
    return made
