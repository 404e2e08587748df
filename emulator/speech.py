"""How long things take on the virtual clock."""

import math
import unicodedata

# Characters per second of synthesized speech. Japanese, Chinese and Korean text carries about
# one mora or syllable per character at roughly six per second; alphabetic languages average
# about fifteen characters (two and a half words) per second at Twilio's default rate.
_CJK_RATE = 6.0
_ALPHABETIC_RATE = 15.0
_CJK_LANGUAGES = ("ja", "zh", "cmn", "yue", "ko")


def _is_cjk(char: str) -> bool:
    name = unicodedata.name(char, "")
    return name.startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "FULLWIDTH", "IDEOGRAPHIC"))


def say_seconds(text: str, language: str = "en-US") -> float:
    """Whole seconds a <Say> of ``text`` lasts (at least one)."""
    visible = [char for char in text if not char.isspace()]
    if not visible:
        return 0.0
    cjk = sum(1 for char in visible if _is_cjk(char))
    other = len(visible) - cjk
    if language.lower().startswith(_CJK_LANGUAGES):
        seconds = len(visible) / _CJK_RATE
    else:
        seconds = cjk / _CJK_RATE + other / _ALPHABETIC_RATE
    return float(max(1, math.ceil(seconds)))


def play_digits_seconds(digits: str) -> float:
    """DTMF played by <Play digits>: a tone per key, w = 0.5 s, W = 1 s; rounded up."""
    total = 0.0
    for char in digits:
        if char == "w":
            total += 0.5
        elif char == "W":
            total += 1.0
        else:
            total += 0.25
    return float(max(1, math.ceil(total)))
