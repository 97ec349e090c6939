"""The ebook material: the transcript (the video's own, else made now), its chapters, a key
frame each, and the book written as EPUB and PDF beside the video."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

from dbos import DBOS

from moviie.ai.materials import store_material
from moviie.ai.tasks import JobContext, JobProgress, MaterialFailed, material
from moviie.ai.text import embeddings, keyphrases
from moviie.ebook import frames
from moviie.ebook.render import Book, write_epub, write_pdf
from moviie.ebook.structure import chapters_of
from moviie.jobs.runtime import runtime
from moviie.media.ffmpeg import ffmpeg_binary
from moviie.media.scenes import scene_cuts
from moviie.media.source import local_source
from moviie.storage.keys import video_key
from moviie.subtitles.cues import sentences_of, words_from
from moviie.subtitles.tasks import transcript_for
from moviie.videos import repository as video_repository


def _title(text: str, language: str) -> str:
    """The chapter's two strongest keyphrases that share no word ("Chemical energy and Light")."""
    chosen: list[str] = []
    for phrase, _ in keyphrases(text, language, 6):
        words = set(phrase.lower().split())
        if not any(words & set(c.lower().split()) for c in chosen):
            chosen.append(phrase)
        if len(chosen) == 2:
            break
    if not chosen:
        return " ".join(text.split()[:5])
    return " and ".join(p[:1].upper() + p[1:] for p in chosen)


@DBOS.step(retries_allowed=True, max_attempts=2, interval_seconds=2.0)
async def write_book(
    job_id: str, video_id: str, language: str, words: list[dict[str, Any]], params: dict[str, Any]
) -> dict[str, Any]:
    rt = runtime()
    async with rt.db.transaction(write=False) as session:
        video = await video_repository.get_live(session, video_id)
    if video is None:
        return {"rejected": "video_deleted", "message": "The video was deleted."}
    timed = words_from(words)
    sentences = sentences_of(timed)
    if len(sentences) < 2:
        return {"rejected": "too_little_speech", "message": "The video says too little for a book."}
    ffmpeg = ffmpeg_binary(rt.settings)
    public = rt.settings.resolved_public_url
    work = rt.settings.data_dir / "work" / job_id
    await asyncio.to_thread(shutil.rmtree, work, True)
    await asyncio.to_thread(work.mkdir, parents=True)
    try:
        async with local_source(rt.storage, video.account_id, video.id, work) as source:
            cuts = await scene_cuts(ffmpeg, source) if video.width else []
            vectors = await asyncio.to_thread(embeddings, [s.text for s in sentences])
            chapters = await asyncio.to_thread(
                chapters_of, sentences, vectors, cuts, lambda text: _title(text, language)
            )
            images = []
            for n, chapter in enumerate(chapters, 1):
                image = None
                if video.width and video.height:
                    height = frames.WIDTH * video.height // video.width // 2 * 2
                    frame = await asyncio.to_thread(
                        frames.key_frame, ffmpeg, source, chapter.start_s, chapter.end_s,
                        frames.WIDTH, height,
                    )  # fmt: skip
                    if frame is not None:
                        image = work / f"chapter-{n}.jpg"
                        await asyncio.to_thread(frames.save_jpeg, frame, image)
                images.append(image)
        cover = None
        if not video.audio_only:
            cover = work / "cover.jpg"
            key = video_key(video.account_id, video.id, "poster.jpg")
            data = b"".join([chunk async for chunk in rt.storage.get_range(key)])
            await asyncio.to_thread(cover.write_bytes, data)
        book = Book(
            title=params["title"], language=language, chapters=chapters, images=images,
            cover=cover, link=f"{public}/embed/{video.id}",
        )  # fmt: skip
        urls: dict[str, str] = {}
        for kind in params["formats"]:
            out = work / f"book.{kind}"
            await asyncio.to_thread(write_epub if kind == "epub" else write_pdf, book, out)
            urls[kind] = await store_material(
                rt.storage, public, video.account_id, video.id, job_id, out.name, out
            )
        chapter_views = []
        for n, (chapter, image) in enumerate(zip(chapters, images, strict=True), 1):
            image_url = None
            if image is not None:
                image_url = await store_material(
                    rt.storage, public, video.account_id, video.id, job_id, image.name, image
                )
            chapter_views.append(
                {
                    "number": n,
                    "title": chapter.title,
                    "start_s": round(chapter.start_s, 3),
                    "end_s": round(chapter.end_s, 3),
                    "summary": chapter.summary,
                    "image": image_url,
                    "embed": f"{public}/embed/{video.id}?t={int(chapter.start_s)}",
                }
            )
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    return {"title": params["title"], "language": language, "chapters": chapter_views, **urls}


@material("ebook")
async def make_ebook(job: JobContext) -> dict[str, Any]:
    found = await transcript_for(job, job.params.get("language"))
    await JobProgress(job.job_id)(0.5, force=True)
    made = await write_book(job.job_id, job.video_id, found["language"], found["words"], job.params)
    if "rejected" in made:
        raise MaterialFailed(made["rejected"], made["message"])
    return made
