"""Text from people (typed, spoken, pasted): Unicode normalisation before anything parses or embeds it.

`clean_text` applies NFKC (fullwidth "ｙｅｌｌｏｗ" -> "yellow", ligatures, compatibility forms), removes
invisible format characters (zero-width spaces and joiners, soft hyphens, bidi controls, BOMs: Unicode
category Cf) and turns control characters and unusual spaces into plain spaces. `ascii_words` then folds
accents ("café" -> "cafe") for parsers that read only a-z, and `unreadable_words` lists the words that still
hold characters such a parser cannot read, so they can be reported instead of silently dropped.
"""

from __future__ import annotations

import re
import unicodedata

_ASCII_OK = re.compile(r"[a-z0-9' ,.\-!?;:\"()]")


def clean_text(text: str) -> str:
    """NFKC-normalised text without invisible characters; whitespace runs become single spaces."""
    s = unicodedata.normalize("NFKC", text)
    out = []
    for ch in s:
        cat = unicodedata.category(ch)
        if cat == "Cf":
            continue  # zero-width space/joiner, soft hyphen, bidi marks, BOM: invisible, never meaningful here
        if cat in ("Cc", "Zl", "Zp", "Zs") or ch.isspace():
            out.append(" ")
        else:
            out.append(ch)
    return re.sub(r"\s+", " ", "".join(out)).strip()


def ascii_words(text: str) -> str:
    """clean_text, lower-cased, with accents removed from letters that have an ASCII base ("Café" -> "cafe")."""
    s = unicodedata.normalize("NFKD", clean_text(text).lower().replace("’", "'").replace("‘", "'"))
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", s)


def unreadable_words(text: str) -> list[str]:
    """Words of ascii_words(text) holding a letter, digit or symbol outside a-z/0-9 (punctuation aside)."""
    bad = []
    for word in ascii_words(text).split():
        for ch in word:
            if _ASCII_OK.match(ch) or unicodedata.category(ch).startswith("P"):
                continue
            bad.append(word)
            break
    return bad
