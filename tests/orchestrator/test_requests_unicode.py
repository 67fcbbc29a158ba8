"""Requests as people type or paste them: fullwidth and invisible characters, unreadable words, same object."""

from __future__ import annotations

import pytest

from orchestrator.requests import RequestError, parse_request


def test_fullwidth_and_zero_width_characters_keep_every_word():
    task = parse_request("put\u200b the ｙｅｌｌｏｗ coffee mug on the black office table")
    assert task.object_phrase == "yellow coffee mug" and task.receptacle_phrase == "black office table"
    assert parse_request("Put the ｍｕｇ\u2060 in the sink").object_phrase == "mug"


@pytest.mark.parametrize("text", ["put the уellow mug on the table", "put the mug on the 桌子", "put the 🍎 in the bowl"])
def test_a_word_the_parser_cannot_read_is_reported(text):
    with pytest.raises(RequestError, match="cannot read the word") as info:
        parse_request(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text", ["put the mug on the mug", "pick up the red mug and put it on the red mug",
                                  "place the Mug onto the ｍｕｇ"])
def test_object_and_receptacle_the_same_thing_is_refused(text):
    with pytest.raises(RequestError, match="the object and the receptacle are the same thing"):
        parse_request(text)
