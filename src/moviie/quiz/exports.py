"""The quiz in the formats learning platforms import: Moodle GIFT, and QTI 2.1 (one
`assessmentItem` per question and an IMS content package manifest, zipped)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from xml.etree import ElementTree as ET

from moviie.quiz.generate import BLANK, Question

QTI = "http://www.imsglobal.org/xsd/imsqti_v2p1"
IMSCP = "http://www.imsglobal.org/xsd/imscp_v1p1"


def _gift_text(text: str) -> str:
    return re.sub(r"([~=#{}:\\])", r"\\\1", text)


def to_gift(questions: Sequence[Question]) -> str:
    blocks = []
    for n, q in enumerate(questions, 1):
        title = f"::Q{n}::"
        feedback = f"####{_gift_text(q.explanation)}"
        if q.type == "true_false":
            answer = "T" if q.answer == "True" else "F"
            blocks.append(f"{title}{_gift_text(q.prompt)} {{{answer}{feedback}}}")
        elif q.type == "multiple_choice":
            options = " ".join(("=" if o == q.answer else "~") + _gift_text(o) for o in q.options)
            prompt = _gift_text(q.prompt).replace(BLANK, "_____")
            blocks.append(f"{title}{prompt} {{{options}{feedback}}}")
        else:
            before, _, after = q.prompt.partition(BLANK)
            blocks.append(
                f"{title}{_gift_text(before)}{{={_gift_text(q.answer)}{feedback}}}"
                f"{_gift_text(after)}"
            )
    return "\n\n".join(blocks) + "\n"


def _item(n: int, q: Question) -> bytes:
    ET.register_namespace("", QTI)
    item = ET.Element(
        f"{{{QTI}}}assessmentItem",
        {
            "identifier": f"q{n}",
            "title": f"Question {n}",
            "adaptive": "false",
            "timeDependent": "false",
        },
    )
    choice = q.type in ("multiple_choice", "true_false")
    declaration = ET.SubElement(
        item,
        f"{{{QTI}}}responseDeclaration",
        {
            "identifier": "RESPONSE",
            "cardinality": "single",
            "baseType": "identifier" if choice else "string",
        },
    )
    correct = ET.SubElement(declaration, f"{{{QTI}}}correctResponse")
    ids = {option: f"c{i}" for i, option in enumerate(q.options)}
    ET.SubElement(correct, f"{{{QTI}}}value").text = ids[q.answer] if choice else q.answer
    outcome = ET.SubElement(
        item, f"{{{QTI}}}outcomeDeclaration",
        {"identifier": "SCORE", "cardinality": "single", "baseType": "float"},
    )  # fmt: skip
    ET.SubElement(ET.SubElement(outcome, f"{{{QTI}}}defaultValue"), f"{{{QTI}}}value").text = "0"
    body = ET.SubElement(item, f"{{{QTI}}}itemBody")
    if choice:
        interaction = ET.SubElement(
            body, f"{{{QTI}}}choiceInteraction",
            {"responseIdentifier": "RESPONSE", "shuffle": "false", "maxChoices": "1"},
        )  # fmt: skip
        ET.SubElement(interaction, f"{{{QTI}}}prompt").text = q.prompt
        for option, identifier in ids.items():
            ET.SubElement(
                interaction, f"{{{QTI}}}simpleChoice", {"identifier": identifier}
            ).text = option
    else:
        before, _, after = q.prompt.partition(BLANK)
        paragraph = ET.SubElement(body, f"{{{QTI}}}p")
        paragraph.text = before
        blank = ET.SubElement(
            paragraph, f"{{{QTI}}}textEntryInteraction",
            {"responseIdentifier": "RESPONSE", "expectedLength": str(max(len(q.answer), 8))},
        )  # fmt: skip
        blank.tail = after
    feedback = ET.SubElement(
        item, f"{{{QTI}}}modalFeedback",
        {"outcomeIdentifier": "FEEDBACK", "identifier": "explanation", "showHide": "show"},
    )  # fmt: skip
    feedback.text = q.explanation
    ET.SubElement(
        item, f"{{{QTI}}}responseProcessing",
        {"template": "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"},
    )  # fmt: skip
    return bytes(ET.tostring(item, encoding="utf-8", xml_declaration=True))


def to_qti_package(questions: Sequence[Question], title: str) -> bytes:
    ET.register_namespace("", IMSCP)
    manifest = ET.Element(f"{{{IMSCP}}}manifest", {"identifier": "moviie-quiz"})
    ET.SubElement(manifest, f"{{{IMSCP}}}organizations")
    resources = ET.SubElement(manifest, f"{{{IMSCP}}}resources")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for n, q in enumerate(questions, 1):
            name = f"q{n}.xml"
            package.writestr(name, _item(n, q))
            resource = ET.SubElement(
                resources, f"{{{IMSCP}}}resource",
                {"identifier": f"r{n}", "type": "imsqti_item_xmlv2p1", "href": name},
            )  # fmt: skip
            ET.SubElement(resource, f"{{{IMSCP}}}file", {"href": name})
        manifest.set("title", title)
        package.writestr(
            "imsmanifest.xml", ET.tostring(manifest, encoding="utf-8", xml_declaration=True)
        )
    return out.getvalue()
