"""core.text: NFKC, invisible characters removed, accents folded, unreadable words found (never dropped)."""

from __future__ import annotations

import pytest

from core.text import ascii_words, clean_text, unreadable_words


@pytest.mark.parametrize(("raw", "clean"), [
    ("put\u200b the ｙｅｌｌｏｗ mug", "put the yellow mug"),
    ("mu\u200dg\u00ad on\u00a0the\u3000table\ufeff", "mug on the table"),
    ("\u202eevil\u202c bidi", "evil bidi"),
    ("ﬁsh  \t\n bowl", "fish bowl"),
])
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


def test_accents_fold_and_foreign_letters_are_reported():
    assert ascii_words("Café CRÈME") == "cafe creme"
    assert unreadable_words("put the café mug on the table") == []
    assert unreadable_words("put the уellow mug on the 🍎 table") == ["уellow", "🍎"]  # Cyrillic у, an emoji
    assert unreadable_words("put the mug, please! (now)") == []
