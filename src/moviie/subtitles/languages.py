"""Language codes as requests name them (ISO 639-1, as Whisper does) and their labels."""

from __future__ import annotations

import re

NAMES = {
    "af": "Afrikaans", "ar": "العربية", "bg": "Български", "bn": "বাংলা", "ca": "Català",
    "cs": "Čeština", "cy": "Cymraeg", "da": "Dansk", "de": "Deutsch", "el": "Ελληνικά",
    "en": "English", "es": "Español", "et": "Eesti", "fa": "فارسی", "fi": "Suomi",
    "fr": "Français", "ga": "Gaeilge", "he": "עברית", "hi": "हिन्दी", "hr": "Hrvatski",
    "hu": "Magyar", "id": "Bahasa Indonesia", "is": "Íslenska", "it": "Italiano", "ja": "日本語",
    "ko": "한국어", "lt": "Lietuvių", "lv": "Latviešu", "ms": "Bahasa Melayu", "nl": "Nederlands",
    "no": "Norsk", "pl": "Polski", "pt": "Português", "ro": "Română", "ru": "Русский",
    "sk": "Slovenčina", "sl": "Slovenščina", "sr": "Српски", "sv": "Svenska", "sw": "Kiswahili",
    "ta": "தமிழ்", "th": "ไทย", "tl": "Tagalog", "tr": "Türkçe", "uk": "Українська",
    "ur": "اردو", "vi": "Tiếng Việt", "zh": "中文",
}  # fmt: skip
CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


def normalize(code: str) -> str:
    return code.strip().lower().replace("_", "-")


def label(code: str) -> str:
    return NAMES.get(code.split("-")[0], code)
