"""The book as EPUB 3 (ebooklib: cover, navigation, images, every paragraph linked to the video
at its time) and as PDF (ReportLab), from the same chapters."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from moviie.ebook.structure import Chapter


@dataclass(frozen=True)
class Book:
    title: str
    language: str
    chapters: Sequence[Chapter]
    images: Sequence[Path | None]  # a key frame per chapter
    cover: Path | None
    link: str  # the video's embed URL; `?t=<seconds>` is added per paragraph


def stamp(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _at(book: Book, seconds: float) -> str:
    return f"{book.link}?t={int(seconds)}"


def write_epub(book: Book, out: Path) -> None:
    from ebooklib import epub

    document = epub.EpubBook()
    document.set_identifier(f"moviie-{out.parent.name}")
    document.set_title(book.title)
    document.set_language(book.language)
    document.add_author("Moviie")
    if book.cover is not None:
        document.set_cover("cover.jpg", book.cover.read_bytes())
    style = epub.EpubItem(
        uid="style", file_name="style.css", media_type="text/css",
        content=b"body{font-family:serif;line-height:1.5} .time{font-size:.8em;color:#666}"
        b" .summary{font-style:italic} img{max-width:100%}",
    )  # fmt: skip
    document.add_item(style)
    pages = []
    for n, (chapter, image) in enumerate(zip(book.chapters, book.images, strict=True), 1):
        page = epub.EpubHtml(
            title=chapter.title, file_name=f"chapter-{n}.xhtml", lang=book.language
        )
        parts = [f"<h1>{html.escape(chapter.title)}</h1>"]
        parts.append(
            f'<p class="time"><a href="{html.escape(_at(book, chapter.start_s))}">'
            f"{stamp(chapter.start_s)} to {stamp(chapter.end_s)} in the video</a></p>"
        )
        if chapter.summary:
            parts.append(f'<p class="summary">{html.escape(" ".join(chapter.summary))}</p>')
        if image is not None:
            name = f"images/chapter-{n}.jpg"
            document.add_item(
                epub.EpubImage(uid=f"img{n}", file_name=name, media_type="image/jpeg",
                               content=image.read_bytes())
            )  # fmt: skip
            parts.append(f'<p><img src="{name}" alt="{html.escape(chapter.title)}"/></p>')
        for paragraph in chapter.paragraphs:
            parts.append(
                f'<p>{html.escape(paragraph.text)} <a class="time" '
                f'href="{html.escape(_at(book, paragraph.start_s))}">[{stamp(paragraph.start_s)}]'
                "</a></p>"
            )
        page.content = "\n".join(parts)
        page.add_item(style)
        document.add_item(page)
        pages.append(page)
    document.toc = pages
    document.add_item(epub.EpubNcx())
    document.add_item(epub.EpubNav())
    document.spine = ["nav", *pages]
    epub.write_epub(str(out), document)


def write_pdf(book: Book, out: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    document = SimpleDocTemplate(str(out), pagesize=A4, title=book.title, author="Moviie")
    story: list[object] = [Paragraph(html.escape(book.title), styles["Title"])]
    width = document.width
    if book.cover is not None:
        story.append(_image(Image, book.cover, width))
    for chapter, image in zip(book.chapters, book.images, strict=True):
        story += [PageBreak(), Paragraph(html.escape(chapter.title), styles["Heading1"])]
        story.append(
            Paragraph(
                f'<a href="{html.escape(_at(book, chapter.start_s))}" color="blue">'
                f"{stamp(chapter.start_s)} to {stamp(chapter.end_s)} in the video</a>",
                styles["Normal"],
            )
        )
        if chapter.summary:
            story.append(
                Paragraph(f"<i>{html.escape(' '.join(chapter.summary))}</i>", styles["Normal"])
            )
        story.append(Spacer(1, 0.4 * cm))
        if image is not None:
            story += [_image(Image, image, width), Spacer(1, 0.4 * cm)]
        for paragraph in chapter.paragraphs:
            story.append(
                Paragraph(
                    f"{html.escape(paragraph.text)} "
                    f'<a href="{html.escape(_at(book, paragraph.start_s))}" color="blue">'
                    f"[{stamp(paragraph.start_s)}]</a>",
                    styles["BodyText"],
                )
            )
    document.build(story)


def _image(image_type: type, path: Path, width: float) -> object:
    from reportlab.lib.utils import ImageReader

    w, h = ImageReader(str(path)).getSize()
    return image_type(str(path), width=width, height=width * h / w)
