"""The quiz and ebook jobs on a generated lecture, next to the transcript alone, same run.

    .venv/bin/python bench/materials.py [--minutes 10] [--database sqlite|postgresql]

It generates, into a temp dir, a `--minutes` long lecture: six topics (photosynthesis,
volcanoes, the Roman empire, the heart, the water cycle, Newton's laws) in equal shares of the
time, each said by espeak-ng at 160 words a minute, its own teaching sentences in turn (72
distinct in all, a topic's said again when its share is longer than they are), 0.4-0.9 s
pauses between sentences, silence up to the end of the topic's share. The picture is a 160x120
`testsrc2` pattern in the middle of a 320x240 background whose colour changes with the topic
(light and dark in turn), so the picture cuts where the topic changes (H.264 + AAC, made with
`moviie.media.ffmpeg.ffmpeg_binary`; the cuts ffmpeg's scene score finds, as the ebook job
finds them, are printed before the jobs run, untimed). Then, in this process and on the same
machine:

- moviie: `create_app(settings, worker_queues=QUEUES)` inside its lifespan (API + workers, as
  `moviie serve`; SQLite in the temp data dir, or a fresh PostgreSQL database as bench/api.py
  makes it), queue polling 0.1 s. One account (credits granted if the trial's are short), the
  lecture uploaded through an `httpx.ASGITransport` client and waited for until ready.
- three jobs, one after the other, each timed from the start of its POST until
  `GET /v1/jobs/{id}`, polled every 0.1 s, shows `succeeded`:
  (a) the transcript alone: `POST /v1/videos/{id}/subtitles` `{"language": "en"}` (audio
      extraction, faster-whisper, cues, stored files, track);
  (b) the quiz: `POST /v1/videos/{id}/quiz` `{"questions": 10}`; its `find_transcript` step
      finds (a)'s transcript, so it does not transcribe (`write_quiz`: YAKE keyphrases, e5
      embeddings, questions, GIFT and QTI exports stored);
  (c) the ebook: `POST /v1/videos/{id}/ebook` `{}` (EPUB + PDF); `find_transcript` again, then
      `write_book`: scene cuts, e5 embeddings, chapters, a key frame each, both files written
      and stored.
  Each job's parts come from the job engine's own step records (`operation_outputs` of the
  job's workflow, schema `dbos.` on PostgreSQL): every step's name and duration, and what is
  left outside any step (queue wait, workflow bookkeeping, progress writes, the 0.1 s polling).

No warm-up: the models load inside the first job that needs them, as in a fresh server
(faster-whisper in the transcript, e5 in the quiz), and count there; they take seconds, the
work on a 10-minute lecture much longer. It prints each job's total, its multiple of the lecture
length, its own timestamps and its steps; the ratios quiz / transcript, ebook / transcript and
(quiz + ebook) / transcript (and the same for the work steps alone, for information); and sanity
figures: the transcript's words, the questions made, the chapters made (their starts beside the
topic changes) and the sizes of the EPUB and the PDF, downloaded from the URLs of the ebook's
result through the same client.

A measurement, not a test: it exits 0 whatever the figures. It exits 1 when the setup fails, an
ffmpeg or espeak-ng run fails, a job fails or a file of the ebook cannot be downloaded, and 130
on Ctrl-C; it always removes its temp dir and drops its PostgreSQL database.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ai_jobs import (
    JobRun,
    in_process_moviie,
    job_record,
    main_for,
    moviie_settings,
    print_source,
    say,
    write_wav,
)
from common import BenchFailed, ffmpeg_path, run_ffmpeg

SPEED = 160  # espeak-ng words per minute: a normal speaking pace
WIDTH, HEIGHT, FPS = 320, 240, 25
QUESTIONS = 10


@dataclass(frozen=True)
class Topic:
    name: str
    colour: str  # the background while the topic is taught: light and dark in turn
    sentences: tuple[str, ...]


TOPICS = (
    Topic(
        "photosynthesis",
        "0xe8f0a0",
        (
            "Photosynthesis turns light into chemical energy inside the leaves of plants.",
            "The green pigment chlorophyll absorbs red and blue light from the sun.",
            "Plants take carbon dioxide from the air through tiny pores called stomata.",
            "Water travels from the roots to the leaves through a tissue called xylem.",
            "Inside the chloroplast, light splits water molecules and releases oxygen.",
            "The energy of light is stored for a moment in molecules called ATP.",
            "In the Calvin cycle, the plant builds sugar from carbon dioxide.",
            "Glucose made in the leaves feeds the whole plant, from roots to flowers.",
            "Plants close their stomata on hot days to avoid losing too much water.",
            "Almost all the oxygen we breathe was released by photosynthesis.",
            "Forests and ocean algae together remove huge amounts of carbon from the air.",
            "Without photosynthesis there would be no food chain on land or in the sea.",
        ),
    ),
    Topic(
        "volcanoes",
        "0x401010",
        (
            "The volcano erupts when magma rises through cracks in the crust.",
            "Hot lava flows down the mountain and cools into black basalt rock.",
            "Ash from the eruption can travel across whole continents in the wind.",
            "Geologists measure small earthquakes to predict the next eruption.",
            "Most volcanoes sit along the edges of the tectonic plates.",
            "The Pacific Ocean is ringed by volcanoes that we call the ring of fire.",
            "Magma rich in silica is thick and sticky, and it traps gas under pressure.",
            "When that gas escapes all at once, the eruption becomes an explosion.",
            "Shield volcanoes in Hawaii have gentle slopes built by runny lava.",
            "A caldera forms when the top of a volcano collapses into its empty chamber.",
            "Volcanic soil is very fertile, so farmers often live close to the danger.",
            "The eruption of Vesuvius buried the Roman town of Pompeii in one day.",
        ),
    ),
    Topic(
        "the Roman empire",
        "0xa0e8f0",
        (
            "The Roman empire built long roads to move soldiers across its provinces.",
            "Roman engineers used concrete to build domes that still stand today.",
            "The aqueduct carried fresh water from the hills into the crowded city.",
            "Latin was the language of law and trade across the empire.",
            "Augustus became the first emperor after years of civil war.",
            "The senate kept its meetings, but real power moved to the emperor.",
            "Roman legions were trained to build a fortified camp every single night.",
            "Citizens of the provinces could appeal to Roman law in their disputes.",
            "Bread and games kept the people of the capital busy and quiet.",
            "The empire was later split into a western half and an eastern half.",
            "The western empire fell in the fifth century, while the eastern one lasted.",
            "Many European languages, such as French and Spanish, grew out of Latin.",
        ),
    ),
    Topic(
        "the heart",
        "0x101848",
        (
            "The human heart is a muscle about the size of a closed fist.",
            "It has four chambers, two atria on top and two ventricles below.",
            "The right side of the heart pumps blood to the lungs to collect oxygen.",
            "The left ventricle has the thickest wall, because it pumps blood to the body.",
            "Valves between the chambers open and close to keep blood moving one way.",
            "The sound of a heartbeat is the noise of those valves snapping shut.",
            "Arteries carry blood away from the heart, and veins bring it back.",
            "Tiny capillaries connect the arteries to the veins inside every organ.",
            "An electrical signal from the sinus node starts each heartbeat.",
            "At rest, a healthy adult heart beats about seventy times a minute.",
            "Regular exercise makes the heart stronger and lowers blood pressure.",
            "A heart attack happens when a blocked artery starves the muscle of oxygen.",
        ),
    ),
    Topic(
        "the water cycle",
        "0xf0c0d8",
        (
            "The water cycle moves water between the oceans, the air and the land.",
            "Heat from the sun makes water evaporate from seas, lakes and rivers.",
            "Plants also release water vapour from their leaves, which we call transpiration.",
            "As warm moist air rises, it cools and the vapour condenses into clouds.",
            "When the droplets in a cloud grow heavy, they fall as rain or snow.",
            "Some rain soaks into the ground and fills layers of rock called aquifers.",
            "Rivers carry the rest of the water back towards the ocean.",
            "Glaciers and ice caps store most of the fresh water on the planet.",
            "A single drop of water can stay in the ocean for thousands of years.",
            "Mountains force air upwards, so one side of a range is often much wetter.",
            "A warmer climate speeds up evaporation and makes heavy storms more likely.",
            "Cities cover the ground with concrete, so rain runs off instead of soaking in.",
        ),
    ),
    Topic(
        "Newton's laws",
        "0x103818",
        (
            "Isaac Newton described motion with three simple laws.",
            "The first law says an object keeps moving in a straight line unless a force acts.",
            "This resistance to a change of motion is called inertia.",
            "The second law says force equals mass times acceleration.",
            "Pushing a full shopping cart takes more force than pushing an empty one.",
            "The third law says every action has an equal and opposite reaction.",
            "A rocket pushes hot gas backwards, and the gas pushes the rocket forwards.",
            "Friction is a force that slows down objects sliding across a surface.",
            "Newton also explained that gravity pulls every mass towards every other mass.",
            "The same gravity that drops an apple keeps the moon in its orbit.",
            "Engineers still use these laws to design bridges, cars and satellites.",
            "Only at very high speeds do we need the corrections of relativity.",
        ),
    ),
)


# --------------------------------------------------------------------------------------------
# The lecture


@dataclass
class Lecture:
    path: Path  # the MP4
    wav: Path  # its sound
    seconds: float
    topic_starts: list[float]  # where each topic's share (and its colour) begins
    said: int = 0  # sentences said
    words: int = 0  # words said
    distinct: int = 0  # distinct sentences said


def lecture_wav(directory: Path, seconds: float, seed: int) -> Lecture:
    """Each topic's sentences in turn over its equal share of `seconds`, 0.4-0.9 s pauses
    between them, silence to the end of the share, as a WAV (the MP4 is made from it next)."""
    rng = random.Random(seed)
    share = seconds / len(TOPICS)
    starts = [n * share for n in range(len(TOPICS))]
    lecture = Lecture(directory / "lecture.mp4", directory / "lecture.wav", seconds, starts)
    takes: dict[str, np.ndarray] = {}
    rate = 0
    parts: list[np.ndarray] = []
    length = 0  # samples so far
    for index, topic in enumerate(TOPICS):
        next_n = 0
        while True:
            sentence = topic.sentences[next_n % len(topic.sentences)]
            if sentence not in takes:
                takes[sentence], rate = say(
                    sentence, SPEED, directory / f"t{index}-{len(takes)}.wav"
                )
            gap = np.zeros(int(rng.uniform(0.4, 0.9) * rate), dtype=np.int16)
            if (length + len(gap) + len(takes[sentence])) / rate > (index + 1) * share:
                break
            parts += [gap, takes[sentence]]
            length += len(gap) + len(takes[sentence])
            lecture.said += 1
            lecture.words += len(sentence.split())
            next_n += 1
        lecture.distinct += min(next_n, len(topic.sentences))
        pad = int((index + 1) * share * rate) - length
        parts.append(np.zeros(pad, dtype=np.int16))
        length += pad
    write_wav(lecture.wav, parts, rate)
    return lecture


def lecture_video(ffmpeg: str, directory: Path, seconds: float, seed: int) -> Lecture:
    """The lecture under a test pattern on a background whose colour changes with the topic,
    as an MP4."""
    directory.mkdir(parents=True, exist_ok=True)
    lecture = lecture_wav(directory, seconds, seed)
    share = seconds / len(TOPICS)
    inputs: list[str] = []
    for topic in TOPICS:
        source = f"color=c={topic.colour}:s={WIDTH}x{HEIGHT}:r={FPS}:d={share:.3f}"
        inputs += ["-f", "lavfi", "-i", source]
    n = len(TOPICS)
    pattern = f"testsrc2=size={WIDTH // 2}x{HEIGHT // 2}:rate={FPS}:duration={seconds:.3f}"
    inputs += ["-f", "lavfi", "-i", pattern, "-i", str(lecture.wav)]
    backgrounds = "".join(f"[{i}:v]" for i in range(n))
    graph = (
        f"{backgrounds}concat=n={n}:v=1:a=0[bg];"
        f"[bg][{n}:v]overlay=x={WIDTH // 4}:y={HEIGHT // 4}:shortest=1[v]"
    )
    cmd = [
        ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *inputs,
        "-filter_complex", graph, "-map", "[v]", "-map", f"{n + 1}:a",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "28", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "96k", "-t", f"{seconds:.3f}", "-movflags", "+faststart",
        str(lecture.path),
    ]  # fmt: skip
    run_ffmpeg(cmd, "make the lecture video")
    return lecture


# --------------------------------------------------------------------------------------------
# Moviie, in process


def path_of(url: str) -> str:
    """The path of one of Moviie's absolute URLs, for the in-process client."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


async def download_size(client: Any, url: str) -> int:
    response = await client.get(path_of(url))
    if response.status_code != 200:
        raise BenchFailed(f"GET {url} answered {response.status_code} {response.text[:500]}")
    return len(response.content)


@dataclass
class Outcome:
    video: dict[str, Any]
    transcript: JobRun
    quiz: JobRun
    ebook: JobRun
    sizes: dict[str, int]  # "epub" / "pdf" -> bytes


async def in_process(settings: Any, lecture: Lecture) -> Outcome:
    seconds = lecture.seconds + 1
    charges = [(material, seconds) for material in ("subtitles", "quiz", "ebook")]
    async with in_process_moviie(settings, charges, "materials bench") as moviie:
        video = await moviie.upload_ready(lecture.path)

        path = f"/v1/videos/{video['id']}"
        transcript = await moviie.timed_job(f"{path}/subtitles", {"language": "en"})
        print(f"(a) transcript (subtitles job): {transcript.seconds:.2f} s", flush=True)
        quiz = await moviie.timed_job(f"{path}/quiz", {"questions": QUESTIONS})
        print(f"(b) quiz job: {quiz.seconds:.2f} s", flush=True)
        ebook = await moviie.timed_job(f"{path}/ebook", {})
        print(f"(c) ebook job: {ebook.seconds:.2f} s", flush=True)

        result = ebook.job["result"]
        sizes = {kind: await download_size(moviie.client, result[kind]) for kind in ("epub", "pdf")}
    return Outcome(video, transcript, quiz, ebook, sizes)


# --------------------------------------------------------------------------------------------
# Orchestration


def print_job(label: str, run: JobRun, source_s: float) -> None:
    print(
        f"{label:<36}{run.seconds:8.2f} s  {run.seconds / source_s:6.3f}x lecture  "
        f"({job_record(run.job)})"
    )
    if run.note:
        print(f"  {run.note}")
        return
    for step in run.steps:
        share = step.seconds / run.seconds
        print(f"  {step.name:<34}{step.seconds:8.2f} s  {share:6.1%}")
    rest = run.seconds - sum(s.seconds for s in run.steps)
    print(
        f"  {'outside any step':<34}{rest:8.2f} s  {rest / run.seconds:6.1%}"
        "  (queue wait, bookkeeping, progress writes, 0.1 s polling)"
    )


def report(outcome: Outcome, lecture: Lecture, cuts: list[float]) -> None:
    source_s = float(outcome.video["duration_s"])
    transcript, quiz, ebook = outcome.transcript, outcome.quiz, outcome.ebook
    words = transcript.job["result"]["transcript"]["words"]
    questions = quiz.job["result"]["questions"]
    chapters = ebook.job["result"]["chapters"]

    print()
    print("order: upload, then (a) transcript, (b) quiz, (c) ebook, one after the other")
    print(f"lecture duration: {source_s:.2f} s, {len(TOPICS)} topics")
    print_job("(a) transcript (subtitles job):", transcript, source_s)
    print_job("(b) quiz job:", quiz, source_s)
    if quiz.step("transcribe_video"):
        print("  NOTE: the quiz transcribed again (it found no transcript)")
    print_job("(c) ebook job:", ebook, source_s)
    if ebook.step("transcribe_video"):
        print("  NOTE: the ebook transcribed again (it found no transcript)")

    print()
    types: dict[str, int] = {}
    for q in questions:
        types[q["type"]] = types.get(q["type"], 0) + 1
    kinds = ", ".join(f"{n} {t}" for t, n in types.items())
    print(f"transcript: {len(words)} words ({lecture.words} said)")
    print(f"questions made: {len(questions)} of {QUESTIONS} asked ({kinds})")
    starts = ", ".join(f"{c['start_s']:.1f}" for c in chapters)
    print(f"chapters made: {len(chapters)}, starting at {starts} s")
    topic_starts = ", ".join(f"{t:.1f}" for t in lecture.topic_starts)
    cut_times = ", ".join(f"{c:.1f}" for c in cuts) or "none"
    print(f"  (topics start at {topic_starts} s; scene cuts at {cut_times})")
    for c in chapters:
        print(f"  {c['number']}. {c['title']}")
    print(
        f"EPUB {outcome.sizes['epub'] / 1e3:.1f} kB, PDF {outcome.sizes['pdf'] / 1e3:.1f} kB "
        "(downloaded from the ebook's URLs)"
    )

    print()
    base = transcript.seconds
    print(f"quiz / transcript           = {quiz.seconds / base:.3f}")
    print(f"ebook / transcript          = {ebook.seconds / base:.3f}")
    print(f"(quiz + ebook) / transcript = {(quiz.seconds + ebook.seconds) / base:.3f}")
    transcribe = transcript.step("transcribe_video")
    if transcribe:
        write_quiz, write_book = quiz.step("write_quiz"), ebook.step("write_book")
        both = write_quiz + write_book
        print("the work steps alone (information):")
        print(f"  write_quiz / transcribe_video                = {write_quiz / transcribe:.3f}")
        print(f"  write_book / transcribe_video                = {write_book / transcribe:.3f}")
        print(f"  (write_quiz + write_book) / transcribe_video = {both / transcribe:.3f}")


def run(args: argparse.Namespace, tmp: Path) -> int:
    from moviie.media.scenes import scene_cuts

    ffmpeg = ffmpeg_path()
    started = time.perf_counter()
    lecture = lecture_video(ffmpeg, tmp / "lecture", args.minutes * 60.0, seed=1)
    said = f"{lecture.said} sentences ({lecture.distinct} distinct) / {lecture.words} words said"
    details = f"{len(TOPICS)} topics, {said}, {WIDTH}x{HEIGHT} H.264 + AAC"
    print_source("lecture video", args, lecture.path, details, started)
    cuts = asyncio.run(scene_cuts(ffmpeg, lecture.path))
    found = ", ".join(f"{c:.1f} s" for c in cuts) or "none"
    print(f"scene cuts (ffmpeg's scene score, as the ebook job finds them): {found}", flush=True)

    with moviie_settings(args.database, tmp) as settings:
        outcome = asyncio.run(in_process(settings, lecture))
    report(outcome, lecture, cuts)
    return 0


def main() -> int:
    return main_for(__doc__, "moviie-bench-materials-", 10, run, "lecture")


if __name__ == "__main__":
    sys.exit(main())
