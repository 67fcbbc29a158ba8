"""What the robot says back: the task it understood, what the home lacks, or that it did not understand.

    answer_task(task)                  -> "Putting the red mug on the kitchen table."
    answer_unknown(["grand piano"], v) -> "I don't see a grand piano in this home; I know: the mug, the sofa, ..."
    answer_not_understood("what's the weather") -> "I did not understand. I heard: what's the weather."
"""

from __future__ import annotations

import re

from orchestrator.home_vocabulary import HomeVocabulary, Kind
from orchestrator.requests import Task

NOTHING_HEARD = "I did not hear anything. Please say it again, a little closer to the microphone."
CONFIRM_QUESTION = "Shall I? Say yes or no."

_YES = {"yes", "yeah", "yep", "yup", "sure", "ok", "okay", "correct", "right", "go", "go ahead", "do it",
        "please do", "affirmative", "yes please", "that's right", "that is right"}
_NO = {"no", "nope", "nah", "stop", "cancel", "don't", "do not", "wrong", "negative", "no thanks", "not that"}

_VERB = {"on": "Putting", "in": "Putting", "to": "Taking"}


def answer_task(task: Task) -> str:
    """One sentence saying what the robot is about to do."""
    if task.kind == "pick":
        return f"Picking up the {task.object_phrase}."
    if task.kind == "place":
        return f"Putting what I am holding {task.relation} the {task.receptacle_phrase}."
    return f"{_VERB[task.relation or 'on']} the {task.object_phrase} {task.relation} the {task.receptacle_phrase}."


def _with_article(phrase: str) -> str:
    return ("an " if re.match(r"[aeiou]", phrase) else "a ") + phrase


def answer_unknown(phrases: list[str], vocabulary: HomeVocabulary, kinds: list[Kind] | None = None,
                   limit: int = 10) -> str:
    """Why a request cannot be done: the home has none of `phrases`; lists what it has (of `kinds`)."""
    missing = " or ".join(_with_article(p) for p in phrases)
    known = vocabulary.describe(kinds, limit=limit)
    return f"I don't see {missing} in this home; I know: {known}." if known else f"I don't see {missing} in this home."


def answer_not_understood(heard: str) -> str:
    return f"I did not understand. I heard: {heard.strip().rstrip('.')}." if heard.strip() else NOTHING_HEARD


def interpret_yes_no(text: str) -> bool | None:
    """True for a yes, False for a no, None when the reply is neither (or both)."""
    s = re.sub(r"[^a-z' ]+", " ", text.lower())
    s = re.sub(r"\s+", " ", s).strip()
    if not s:
        return None
    words = s.split()
    yes = s in _YES or any(w in _YES for w in words[:2]) or any(p in s for p in _YES if " " in p)
    no = s in _NO or any(w in _NO for w in words[:2]) or any(p in s for p in _NO if " " in p)
    if yes == no:
        return None
    return yes


def request_text(task: Task) -> str:
    """A sentence that parses back into `task` (what `ovmm listen` hands to the task runner)."""
    if task.kind == "pick":
        return f"pick up the {task.object_phrase}"
    if task.kind == "place":
        return f"put it {task.relation} the {task.receptacle_phrase}"
    return f"put the {task.object_phrase} {task.relation} the {task.receptacle_phrase}"
