"""Request grammar: many phrasings of pick-and-place, pick and place requests, and clear errors."""

from __future__ import annotations

import pytest

from core.errors import OvmmError
from orchestrator.requests import RequestError, Task, normalise, parse_request

PP = "pick_and_place"

CASES = [
    # the canonical forms
    ("put the blue mug on the kitchen table", ("blue mug", "kitchen table", "on", PP)),
    ("bring the banana to the sofa", ("banana", "sofa", "to", PP)),
    ("move the soup can into the sink", ("soup can", "sink", "in", PP)),
    ("pick up the sponge", ("sponge", None, None, "pick")),
    ("place it on the shelf", (None, "shelf", "on", "place")),
    # politeness, case, punctuation, fillers
    ("Could you please put the red apple in the bowl?", ("red apple", "bowl", "in", PP)),
    ("PLEASE PUT THE MUG ON THE TABLE!!!", ("mug", "table", "on", PP)),
    ("Hey robot, put the mug on the table, thanks.", ("mug", "table", "on", PP)),
    ("um, can you move the soup-can to the counter please", ("soup can", "counter", "to", PP)),
    ("I'd like you to put the towel on the chair.", ("towel", "chair", "on", PP)),
    ("Okay so, would you kindly bring the remote to the couch for me?", ("remote", "couch", "to", PP)),
    ("  put   the  cup\tin the   sink  ", ("cup", "sink", "in", PP)),
    # two clauses
    ("take the box and put it in the closet", ("box", "closet", "in", PP)),
    ("Pick up the mug and place it on the table!", ("mug", "table", "on", PP)),
    ("grab the can, then drop it into the trash can", ("can", "trash can", "in", PP)),
    ("go get the remote and bring it to the couch", ("remote", "couch", "to", PP)),
    ("pick the apple up and then put it in the basket", ("apple", "basket", "in", PP)),
    ("take the apple out of the fridge and put it on the counter", ("apple", "counter", "on", PP)),
    # other verbs, particles and prepositions
    ("throw the wrapper in the trash", ("wrapper", "trash", "in", PP)),
    ("put away the dishes in the cabinet", ("dishes", "cabinet", "in", PP)),
    ("put the mug back on the shelf", ("mug", "shelf", "on", PP)),
    ("set the cup down on the table", ("cup", "table", "on", PP)),
    ("put down the sponge on the counter", ("sponge", "counter", "on", PP)),
    ("put the cup on top of the fridge", ("cup", "fridge", "on", PP)),
    ("carry the laundry basket over to the bed", ("laundry basket", "bed", "to", PP)),
    ("place the bowl onto the dining table", ("bowl", "dining table", "on", PP)),
    ("put the toy inside the drawer", ("toy", "drawer", "in", PP)),
    ("take the mug to the kitchen", ("mug", "kitchen", "to", PP)),
    ("put the mug next to the sink", ("mug", "sink", "to", PP)),
    # source and location phrases
    ("move the cup from the table to the sink", ("cup", "sink", "to", PP)),
    ("move the cup on the table to the sink", ("cup on the table", "sink", "to", PP)),
    ("put the book on the shelf in the bedroom", ("book", "shelf in the bedroom", "on", PP)),
    # numbers
    ("put 2 apples on the plate", ("two apples", "plate", "on", PP)),
    ("put the three oranges in the basket", ("three oranges", "basket", "in", PP)),
    # pick only
    ("pick the sponge up", ("sponge", None, None, "pick")),
    ("grab the cup.", ("cup", None, None, "pick")),
    ("Could you get the water bottle?", ("water bottle", None, None, "pick")),
    ("fetch the keys", ("keys", None, None, "pick")),
    # place only
    ("drop it in the sink", (None, "sink", "in", "place")),
    ("Now put it on the nightstand please", (None, "nightstand", "on", "place")),
    ("put that into the bin", (None, "bin", "in", "place")),
    ("place it back on the shelf.", (None, "shelf", "on", "place")),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_parse_request_phrasings(text, expected):
    task = parse_request(text)
    assert isinstance(task, Task)
    assert (task.object_phrase, task.receptacle_phrase, task.relation, task.kind) == expected


ERRORS = [
    # (text, substrings the message must contain)
    ("put the banana", ["understood: put 'banana'", "missing: where", "put the banana on the table"]),
    ("bring the banana", ["understood: bring 'banana'", "missing: where"]),
    ("pick up the banana and put it", ["understood: pick up 'banana'", "missing: where"]),
    ("put the mug away", ["put away 'mug'", "missing: where"]),
    ("put on the table", ["understood: put something on 'table'", "missing: what to put"]),
    ("put it down", ["held object", "missing: where"]),
    ("pick it up", ["missing: which object"]),
    ("bring me the banana", ["'banana' to you", "not supported"]),
    ("what's the weather like today", ["could not understand", "put the blue mug on the kitchen table"]),
    ("", ["empty"]),
    ("grab the cup and put the plate on the table", ["two different objects"]),
    ("put the mug on the", ["missing: which receptacle"]),
    ("put the mug on", ["missing: which receptacle"]),
]


@pytest.mark.parametrize(("text", "fragments"), ERRORS, ids=[e[0][:40] or "empty" for e in ERRORS])
def test_parse_request_errors_say_what_was_understood(text, fragments):
    with pytest.raises(RequestError) as info:
        parse_request(text)
    assert isinstance(info.value, OvmmError)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_parse_is_deterministic_and_case_insensitive():
    a = parse_request("Put The Blue Mug On The Kitchen Table.")
    b = parse_request("put the blue mug on the kitchen table")
    assert a == b
    assert a.describe() == "put 'blue mug' on 'kitchen table'"
    assert parse_request("place it on the shelf").describe() == "place the held object on 'shelf'"
    assert a.to_dict() == {"object_phrase": "blue mug", "receptacle_phrase": "kitchen table", "relation": "on",
                           "kind": "pick_and_place"}


def test_normalise_removes_fillers_and_maps_digits():
    assert normalise("Um, could you please put 3 cups on the table, thanks!") == "put three cups on the table"
    assert normalise("Soup-Can") == "soup can"


def test_task_rejects_inconsistent_fields():
    with pytest.raises(ValueError):
        Task("mug", None, None, "pick_and_place")
    with pytest.raises(ValueError):
        Task(None, "table", "on", "pick")


def test_speech_mishearing_of_put_is_repaired():
    assert parse_request("But the towel in the basket.") == Task("towel", "basket", "in", "pick_and_place")
