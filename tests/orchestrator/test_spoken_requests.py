"""Spoken requests against one home: map-aware correction, answers, frame recovery, yes/no and the phrasings
people use. Text-level tests run on every machine; audio tests use real espeak-ng + Whisper tiny.en (skipped
with a reason when either is missing)."""

from __future__ import annotations

import pytest

from orchestrator.home_vocabulary import HomeVocabulary, name_variants
from orchestrator.request_correction import RequestCorrector, spelling_score
from orchestrator.requests import Task, parse_request
from orchestrator.spoken_request import RequestListener, frame_candidates
from orchestrator.voice_answers import answer_task, interpret_yes_no, request_text

HOME = [  # (id, label, description, kind)
    (1, "mug", "red coffee mug", "object"),
    (2, "mug", "yellow coffee mug", "object"),
    (3, "bowl", "blue bowl", "object"),
    (4, "lemon", "yellow lemon", "object"),
    (10, "sofa", "beige sofa", "receptacle"),
    (11, "table", "white kitchen table", "receptacle"),
    (12, "sink counter", "white marble sink counter", "receptacle"),
    (13, "bed", "blue bed", "receptacle"),
]


@pytest.fixture(scope="module")
def home() -> HomeVocabulary:
    return HomeVocabulary.from_instances(HOME, "test home")


@pytest.fixture(scope="module")
def encoder():
    from fixtures_sim_map import minilm_encoder

    return minilm_encoder()


def test_name_variants_cover_how_people_name_things():
    assert name_variants("mug", "yellow coffee mug") == ["mug", "yellow coffee mug", "yellow mug", "coffee mug"]
    assert "sink counter" in name_variants("sink counter", "white marble sink counter")
    assert name_variants("bed", "bed") == ["bed"]


def test_vocabulary_knows_names_and_their_words_only(home):
    assert home.knows("red mug") and home.knows("coffee mug") and home.knows("kitchen table")
    assert not home.knows("blue mug")  # words of two different names do not make a thing
    assert not home.knows("grand piano")
    assert {e.instance_ids for e in home.entries_for("mug")} == {(1, 2)}


def test_prompt_fits_the_token_budget(home):
    assert home.spoken_names(["object"]) == ["red mug", "yellow mug", "bowl", "lemon"]  # colour only where needed
    prompt = home.prompt(lambda s: len(s.split()), max_tokens=16)
    assert prompt == "Put the red mug on the sofa. Put the yellow mug on the table."
    full = home.prompt(lambda s: len(s.split()), max_tokens=200)
    assert full.count("Put the") == 4 and "on the bed" in full and len(full.split()) > 16
    words = HomeVocabulary.from_words("mug, red cup")
    assert words.prompt() == "Put the mug on the red cup. Put the red cup on the mug."


def test_correction_fires_only_when_the_home_has_a_close_name(home):
    corrector = RequestCorrector(home)
    task, fixes = corrector.correct(parse_request("put the red mud on the sofa"))
    assert task.object_phrase == "red mug" and [f.heard for f in fixes] == ["red mud"]
    task, fixes = corrector.correct(parse_request("put the bowel on the sink cunter"))
    assert (task.object_phrase, task.receptacle_phrase) == ("bowl", "sink counter") and len(fixes) == 2
    # A "green mud" is not close to anything here ("red mug" and "yellow mug" differ in the colour): kept.
    task, fixes = corrector.correct(parse_request("put the green mud on the sofa"))
    assert task.object_phrase == "green mud" and not fixes
    # Known names are never touched; an unrelated thing stays as heard and is reported as unknown.
    task, fixes = corrector.correct(parse_request("put the yellow lemon in the blue bowl"))
    assert not fixes and task.receptacle_phrase == "blue bowl"
    task, fixes = corrector.correct(parse_request("put the grand piano on the bed"))
    assert task.object_phrase == "grand piano" and not fixes
    assert corrector.unknown_phrases(task) == ["grand piano"]


def test_correction_keeps_synonyms_the_encoder_knows(home, encoder):
    with_encoder = RequestCorrector(home, encoder)
    task, fixes = with_encoder.correct(parse_request("put the lemon on the couch"))
    assert task.receptacle_phrase == "couch" and not fixes and not with_encoder.unknown_phrases(task)
    assert RequestCorrector(home).unknown_phrases(task) == ["couch"]  # spelling alone does not know it


def test_ambiguous_corrections_are_not_made():
    home = HomeVocabulary.from_instances([(1, "cat", "cat", "object"), (2, "bat", "bat", "object")])
    task, fixes = RequestCorrector(home).correct(Task("hat", None, None, "pick"))
    assert task.object_phrase == "hat" and not fixes  # "cat" and "bat" are equally close
    assert spelling_score("right mug", "white mug") > spelling_score("right mug", "yellow mug")


def test_answers_for_known_unknown_and_unparsed_requests(home):
    listener = RequestListener(None, home)
    ok = listener.understand("Could you please put the red mud on the kitchen table?")
    assert ok.status == "ok" and ok.answer == "Putting the red mug on the kitchen table."
    missing = listener.understand("put the grand piano on the bed")
    assert missing.status == "unknown" and not missing.actionable
    assert missing.answer.startswith("I don't see a grand piano in this home; I know: the mug, the bowl")
    lost = listener.understand("what is the weather like")
    assert lost.status == "not_understood" and lost.answer == "I did not understand. I heard: what is the weather like."
    assert listener.understand("  ").status == "nothing_heard"
    # Without a vocabulary nothing is corrected or refused.
    plain = RequestListener(None).understand("put the red mud on the grand piano")
    assert plain.status == "ok" and plain.task.object_phrase == "red mud"


def test_misheard_request_verbs_are_recovered_only_into_known_things(home):
    listener = RequestListener(None, home)
    for heard, want in [("Cut your please put the lemon on the bed.", ("lemon", "bed")),
                        ("Bit of a blue bowl on the sofa.", ("blue bowl", "sofa")),
                        ("Can you grant the yellow mug and put it on the table?", ("yellow mug", "table"))]:
        got = listener.understand(heard)
        assert got.status == "ok", (heard, got)
        assert (got.task.object_phrase, got.task.receptacle_phrase) == want
    assert listener.understand("Bit of a grand piano on the moon.").status == "not_understood"
    assert RequestListener(None).understand("Cut your please put the lemon on the bed.").status == "not_understood"
    assert frame_candidates("so if you please put the mug on the bed")[0] == "put the mug on the bed"


@pytest.mark.parametrize("text, want", [
    ("Would you mind putting the lemon on the bed?", ("lemon", "bed", "on")),
    ("Would you mind grabbing the mug and setting it on the sofa?", ("mug", "sofa", "on")),
    ("First pick up the lemon and then place it on top of the bed.", ("lemon", "bed", "on")),
    ("Could you grab the red apple for me and put it into the bowl?", ("red apple", "bowl", "in")),
    ("Okay, take that lemon over to the sofa, please.", ("lemon", "sofa", "to")),
    ("I'll put the lemon in the sink.", ("lemon", "sink", "in")),
    ("I will put that lemon on the bed.", ("lemon", "bed", "on")),
])
def test_phrasings_people_use(text, want):
    t = parse_request(text)
    assert (t.object_phrase, t.receptacle_phrase, t.relation) == want


def test_yes_no_and_request_text():
    assert interpret_yes_no("Yes, please.") is True and interpret_yes_no("yeah go ahead") is True
    assert interpret_yes_no("No.") is False and interpret_yes_no("no, don't") is False
    assert interpret_yes_no("maybe later") is None and interpret_yes_no("") is None
    for task in [Task("red mug", "kitchen table", "on", "pick_and_place"), Task("sponge", None, None, "pick"),
                 Task(None, "shelf", "in", "place"), Task("banana", "sofa", "to", "pick_and_place")]:
        assert parse_request(request_text(task)) == task
    assert answer_task(Task("banana", "sofa", "to", "pick_and_place")) == "Taking the banana to the sofa."


def test_vocabulary_from_the_instances_a_map_records():
    from types import SimpleNamespace

    meta = SimpleNamespace(source="home.npz", instances=[
        {"label": "coffee mug", "description": "white coffee mug", "phrases": ["white coffee mug", "mug"]},
        {"label": "sofa", "description": "blue sofa", "phrases": []}, {"nonsense": 1}])
    vocab = HomeVocabulary.from_map(SimpleNamespace(metadata=meta))
    assert vocab.knows("white mug") and vocab.knows("sofa") and not vocab.knows("bed")
    assert HomeVocabulary.from_map(SimpleNamespace(metadata=SimpleNamespace(source=None, instances=[]))) is None


def test_half_names_and_receptacles_as_objects_are_not_known_things(home):
    listener = RequestListener(None, home)
    assert not home.knows("white")  # a colour alone names nothing, though "white kitchen table" has it
    lone = listener.understand("put the white on the sofa")
    assert lone.status == "unknown" and lone.unknown == ["white"]
    wrong_role = listener.understand("put the sofa on the bed")  # a sofa is not something to pick up
    assert wrong_role.status == "unknown" and wrong_role.unknown == ["sofa"]
    # A transcript that parses into unknown things is re-read when a reading names known ones.
    doubled = listener.understand("Put your please put the lemon on the bed.")
    assert doubled.status == "ok" and doubled.task.object_phrase == "lemon"


def test_a_home_name_inside_a_longer_heard_phrase_is_used(home):
    corrector = RequestCorrector(home)
    # the grammar let extra words into the phrase: the one home name inside it is what was meant
    task, fixes = corrector.correct(Task("yellow lemon and put it", "white kitchen table", "on", "pick_and_place"))
    assert task.object_phrase == "yellow lemon" and [f.corrected for f in fixes] == ["yellow lemon"]
    # two different things named in one phrase: nothing is chosen for the speaker
    task, fixes = corrector.correct(Task("lemon and bowl", "sofa", "on", "pick_and_place"))
    assert task.object_phrase != "lemon" and task.object_phrase != "bowl"
    # with spans off, the phrase goes to the spelling rule instead (and is far from every name: kept)
    from orchestrator.request_correction import CorrectionConfig

    task, _ = RequestCorrector(home, config=CorrectionConfig(spans=False)).correct(
        Task("yellow lemon and put it", "sofa", "on", "pick_and_place"))
    assert task.object_phrase == "yellow lemon and put it"


class _Readings:
    """A recogniser double (a hardware boundary: the model's output): one transcript per kind of decode
    (primed with the prompt, plain, with hotwords) and a likelihood per scored text (`fits`: words whose
    presence makes a text likelier)."""

    def __init__(self, primed: str, unprimed: str, hotwords: str | None = None, fits: tuple[str, ...] = ()) -> None:
        self.primed, self.unprimed, self.hot = primed, unprimed, hotwords if hotwords is not None else unprimed
        self.fits, self.decoded, self.scored = fits, [], []

    def encode(self, audio):
        self.decoded = []
        return object()

    def decode_readings(self, encoded, prompts):
        from orchestrator.speech import Transcript

        self.decoded += list(prompts)  # every decode of the last hear (a listener may decode in two calls)
        return [Transcript(self.primed if p else self.hot if h else self.unprimed, 1.0, 0.1) for p, h in prompts]

    def score(self, encoded, texts, prompt=None):
        self.scored += texts
        return [-len(t.split()) + 10.0 * sum(w in t for w in self.fits) for t in texts]

    def count_tokens(self, text: str) -> int:
        return len(text.split())


_AUDIO = (0.1 * __import__("numpy").random.default_rng(0).standard_normal(16000)).astype("float32")


def test_second_opinion_keeps_the_unprimed_reading_only_when_it_names_home_things(home):
    echo = _Readings("put the yellow mug on the sofa", "put the lemon on the sofa")
    listener = RequestListener(echo, home, hotwords=False)
    listener.hear(_AUDIO)
    assert echo.decoded == [(listener.prompt, None), (None, None)] and listener.prompt
    # two readings name different home things: Whisper's likelihood of each decides (here: the lemon)
    echo.fits = ("lemon",)
    assert RequestListener(echo, home, hotwords=False).hear(_AUDIO).task.object_phrase == "lemon"
    echo.fits = ("yellow mug",)
    assert RequestListener(echo, home, hotwords=False).hear(_AUDIO).task.object_phrase == "yellow mug"
    assert RequestListener(echo, home, second_opinion=False, hotwords=False).hear(_AUDIO).task.object_phrase == "yellow mug"
    # the unprimed reading names nothing of the home: the primed one stands
    misheard = _Readings("put the red mug on the table", "put the red mud on the grand piano")
    assert RequestListener(misheard, home).hear(_AUDIO).task.object_phrase == "red mug"


def test_readings_include_hotwords_within_the_limit_and_every_transcript_is_kept(home):
    rec = _Readings("put the", "please move the lemon into the sink counter", "please move the lemon to the bed",
                    fits=("sink counter",))
    listener = RequestListener(rec, home)
    heard = listener.hear(_AUDIO)
    assert [h for _, h in rec.decoded] == [None, None, listener.hotwords]
    assert "lemon" in listener.hotwords.split(", ") and "sink counter" in listener.hotwords
    assert len(home.hotwords(lambda t: len(t.split()), max_tokens=4).split()) <= 4
    # "Put the" (the prompt's echo) does not parse; the plain decode's request wins
    assert heard.status == "ok" and heard.task.receptacle_phrase == "sink counter"
    assert heard.alternatives == ["put the", "please move the lemon into the sink counter",
                                  "please move the lemon to the bed"]


def test_a_request_in_a_later_sentence_of_the_transcript_is_found(home):
    rec = _Readings("put the amount of the in the box. Put the lemon on the bed.", "the amount of the")
    heard = RequestListener(rec, home, hotwords=False).hear(_AUDIO)
    assert heard.status == "ok" and (heard.task.object_phrase, heard.task.receptacle_phrase) == ("lemon", "bed")


def test_a_misheard_name_is_replaced_by_the_home_name_whisper_finds_likelier(home):
    rec = _Readings("put the blue bull on the sofa", "put the blue bull on the sofa", fits=("blue bowl",))
    heard = RequestListener(rec, home).hear(_AUDIO)
    assert heard.task.object_phrase == "blue bowl" and heard.transcript == "put the blue bull on the sofa"
    assert heard.corrections[0].heard == "blue bull" and "put the blue bowl on the sofa" in rec.scored
    # no name fits the audio better than what was heard: kept, and the answer says the home lacks it
    rec = _Readings("put the grand piano on the sofa", "put the grand piano on the sofa", fits=("grand piano",))
    heard = RequestListener(rec, home).hear(_AUDIO)
    assert heard.status == "unknown" and heard.task.object_phrase == "grand piano"
    assert RequestListener(rec, home, rescore=False).hear(_AUDIO).status == "unknown"


def test_a_recovered_reading_keeps_the_kind_of_request_heard(home):
    # "put the lemon on the black carbonate": not turned into "grab the lemon ..." (a pick)
    heard = RequestListener(None, home).understand("could you please put the lemon on the black carbonate")
    assert heard.status == "unknown" and heard.task.kind == "pick_and_place"
    # "... and put it on the sofa" after a misheard object is not a request to place what the robot holds
    assert RequestListener(None, home).understand("can you grant the year normal and put it on the sofa").task is None
    assert RequestListener(None, home).understand("would you mind putting the lemon under bed can't be that").task is None


def test_one_step_of_a_two_step_request_is_not_chosen_over_the_whole(home):
    # the sentence "pick up the lemon." is shorter, so likelier by itself; it is only half of what was said
    rec = _Readings("pick up the lemon. Then put it on the bed.", "pick up the lemon, then put it on the bed")
    heard = RequestListener(rec, home).hear(_AUDIO)
    assert heard.status == "ok" and heard.task.kind == "pick_and_place"
    assert (heard.task.object_phrase, heard.task.receptacle_phrase) == ("lemon", "bed")
    # a reading that hears only one step still counts when no reading hears both
    rec = _Readings("pick up the lemon.", "pick up the lemon")
    assert RequestListener(rec, home).hear(_AUDIO).task.kind == "pick"


def test_every_home_name_is_tried_where_readings_disagree_or_a_name_is_not_one_thing(home):
    # a primed reading echoing a home name ("blue bowl") where the audio fits another one better
    rec = _Readings("put the blue bowl on the sofa", "put the blue bowl on the sofa", "put the lemon on the sofa",
                    fits=("lemon",))
    heard = RequestListener(rec, home, agree_early=False).hear(_AUDIO)
    assert heard.task.object_phrase == "lemon"
    # with agree_early (the default) two readings agreeing on a home request are taken without the hotwords one
    heard = RequestListener(rec, home).hear(_AUDIO)
    assert heard.task.object_phrase == "blue bowl" and [h for _, h in rec.decoded] == [None, None]
    # "mug" names two mugs: the one Whisper finds likelier in its place
    rec = _Readings("put the mug on the bed", "put the mug on the bed", fits=("yellow mug",))
    heard = RequestListener(rec, home).hear(_AUDIO)
    assert heard.task.object_phrase == "yellow mug" and heard.corrections[0].heard == "mug"
    # every reading heard the same name of one thing: nothing else is scored in its place
    rec = _Readings("put the lemon on the bed", "put the lemon on the bed")
    RequestListener(rec, home).hear(_AUDIO)
    assert not any("bowl" in t or "mug" in t for t in rec.scored)
    assert RequestListener(rec, home, wide_names=False).hear(_AUDIO).task.object_phrase == "lemon"


def test_a_misheard_it_becomes_the_held_object_only_when_whisper_finds_it_as_likely(home):
    rec = _Readings("put the ton on the bed", "put the ton on the bed", fits=("put it",))
    heard = RequestListener(rec, home).hear(_AUDIO)
    assert heard.status == "ok" and heard.task.kind == "place" and heard.task.receptacle_phrase == "bed"
    rec = _Readings("put the grand piano on the bed", "put the grand piano on the bed", fits=("grand piano",))
    heard = RequestListener(rec, home).hear(_AUDIO)
    assert heard.status == "unknown" and heard.task.object_phrase == "grand piano"
