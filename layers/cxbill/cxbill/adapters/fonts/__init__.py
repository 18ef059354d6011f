"""Every script on an invoice (R-pdf-4): which font prints each run of text.

Latin text keeps the PDF's standard Helvetica (every character Windows-1252 has: ç, ã, ø, ß, €,
–). Japanese, Chinese and Korean use ReportLab's built-in CID fonts (HeiseiKakuGo-W5,
STSong-Light, HYGothic-Medium): nothing to ship, and their text is written as Unicode, so the
PDF's text layer gives it back as it was. Everything else (Cyrillic, Greek, Latin beyond
Windows-1252, and more) uses DejaVu Sans, shipped beside this file and embedded as a subset of
the glyphs used. Fonts are registered on first use: an invoice in Latin text never loads one.

Han characters are shared by the three CJK languages. In a line with kana they print in the
Japanese font, in a line with Hangul in the Korean one, else in the document's (`cjk_font`:
Japanese when the document has kana or is in JPY, else Chinese); and a character that font's
character set lacks (Korean fonts have only KS X 1001's hanja) goes to one that has it, so no
Han character prints as a box.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

HERE = Path(__file__).resolve().parent
LATIN, LATIN_BOLD = "Helvetica", "Helvetica-Bold"
JAPANESE, CHINESE, KOREAN = "HeiseiKakuGo-W5", "STSong-Light", "HYGothic-Medium"
OTHER, OTHER_BOLD = "DejaVuSans", "DejaVuSans-Bold"
_TTF_FILES = {OTHER: "DejaVuSans.ttf", OTHER_BOLD: "DejaVuSans-Bold.ttf"}
_CID_FONTS = (JAPANESE, CHINESE, KOREAN)

_KANA, _HANGUL, _HAN = "kana", "hangul", "han"
_NEUTRAL = frozenset(" 0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _kind(ch: str) -> str:
    """LATIN (Helvetica prints it), _KANA, _HANGUL, _HAN (any CJK ideograph or CJK
    punctuation/full-width form), or OTHER."""
    o = ord(ch)
    if o < 0x80:
        return LATIN
    if 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9F:
        return _KANA
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
        return _HANGUL
    if (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0xF900 <= o <= 0xFAFF
        or 0x3000 <= o <= 0x303F
        or 0xFF00 <= o <= 0xFFEF
        or 0x20000 <= o <= 0x2FFFF
    ):
        return _HAN
    try:
        ch.encode("cp1252")  # the standard fonts' WinAnsiEncoding
    except UnicodeEncodeError:
        return OTHER
    return LATIN


def is_latin(text: str) -> bool:
    """Whether Helvetica prints all of `text` (no other font is needed)."""
    if text.isascii():
        return True
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def cjk_font(texts: Iterable[str], currency: str = "") -> str:
    """The CID font for Han characters in a document holding `texts`."""
    kinds = {_kind(ch) for text in texts if not is_latin(text) for ch in text}
    return JAPANESE if _KANA in kinds or currency == "JPY" else CHINESE


# The character set each CID font's collection covers, as a codec that encodes exactly it.
_CHARSETS = {CHINESE: "gbk", JAPANESE: "shift_jis", KOREAN: "euc_kr"}


@cache
def _han_font(ch: str, preferred: str) -> str:
    """`preferred` if its character set has `ch`, else the first CJK font whose set has it."""
    for font in (preferred, CHINESE, JAPANESE, KOREAN):
        try:
            ch.encode(_CHARSETS[font])
        except UnicodeEncodeError:
            continue
        return font
    return CHINESE


def runs(text: str, han: str = CHINESE, bold: bool = False) -> list[tuple[str, str]]:
    """`text` cut into (font, run) pairs, in order. Spaces, digits and ASCII punctuation stay
    in the run they follow (every font here has them), so "東京都千代田区1-1-1" is one run;
    Latin letters always print in Helvetica."""
    latin = LATIN_BOLD if bold else LATIN
    if is_latin(text):
        return [(latin, text)] if text else []
    kinds = [_kind(ch) for ch in text]
    if _KANA in kinds:
        han = JAPANESE
    elif _HANGUL in kinds:
        han = KOREAN
    fonts = {
        LATIN: latin,
        _KANA: JAPANESE,
        _HANGUL: KOREAN,
        OTHER: OTHER_BOLD if bold else OTHER,
    }
    found: list[tuple[str, str]] = []
    current, start = None, 0
    for i, ch in enumerate(text):
        if current is not None and ch in _NEUTRAL:
            continue
        kind = kinds[i]
        font = _han_font(ch, han) if kind == _HAN else fonts[kind]
        if font != current:
            if current is not None:
                found.append((current, text[start:i]))
            current, start = font, i
    if current is not None:
        found.append((current, text[start:]))
    return found


def markup(text: str, han: str = CHINESE, bold: bool = False) -> str:
    """Paragraph markup of `text`, escaped, each non-Latin run in its font (registered now)."""
    parts = []
    for font, run in runs(text, han, bold):
        if font in (LATIN, LATIN_BOLD):
            parts.append(f"<b>{escape(run)}</b>" if bold else escape(run))
        else:
            register(font)
            parts.append(f'<font name="{font}">{escape(run)}</font>')
    return "".join(parts)


def width(text: str, size: float, han: str = CHINESE, bold: bool = False) -> float:
    """The width of `text` printed at `size` points, run by run."""
    total = 0.0
    for font, run in runs(text, han, bold):
        register(font)
        total += pdfmetrics.stringWidth(run, font, size)
    return total


@cache
def register(font: str) -> str:
    """Register `font` with ReportLab once (the standard fonts need nothing)."""
    if font in _TTF_FILES:
        pdfmetrics.registerFont(TTFont(font, str(HERE / _TTF_FILES[font])))
    elif font in _CID_FONTS:
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    return font
