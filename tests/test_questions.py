"""Class questions without a network: the server's tally, a member's prompt, the
classroom that asks and reveals, and the teacher's handout of the results."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from test_classroom import FakeMember, wire

from bptui import i18n
from bptui.app.classquiz import ClassQuestion, tally_lines
from bptui.app.handout import class_markdown
from bptui.app.quiz import ABSOLUTE, RELATIVE
from bptui.classroom.protocol import MAX_WRONG, Answer, Pose, Reveal, Revealed, Tally
from bptui.lesson.snapshot import Kind
from bptui.serve.asking import MAX_TYPED, MemberPrompt
from bptui.serve.classroom import Classroom
from bptui.serve.keys import KeyReader
from bptui.serve.questions import Questions

POSE = Pose("ŷ", "Predict ŷ = x_val * w", 2.0)


def test_the_tally_counts_right_wrong_and_not_answered_never_wrong() -> None:
    q: Questions[str] = Questions()
    assert q.tally() is None and q.ask("ann", "ann", "1.2.3.4") is None  # nothing open
    ask = q.pose(POSE)
    for name in ("ann", "bo", "cy", "di", "ed"):
        assert q.ask(name, name, "127.0.0.1") == ask
    assert "value" not in wire(ask)  # the students' message has no place for it
    q.answer("ann", ask.qid, 2.0)
    q.answer("bo", ask.qid, 2.0 * (1 + RELATIVE * 0.9))  # within the quiz's 1 %
    q.answer("cy", ask.qid, 1.0)  # wrong first...
    q.answer("cy", ask.qid, 2.0)  # ...the last answer counts
    q.answer("di", ask.qid, -2.0)
    assert not q.answer("di", ask.qid + 1, 2.0)  # another question's
    assert not q.answer("zed", ask.qid, 2.0)  # not asked
    tally = q.tally()
    assert tally == Tally(ask.qid, "ŷ", 5, 4, 3, ((-2.0, 1),), None)  # ed: not answered
    assert q.ask("ann", "ann", "x") is None  # answered: not asked again
    assert q.ask("ed", "ed", "x") == ask  # not yet: asked again (a new app of theirs)
    done = q.reveal()
    assert done is not None
    final, answers = done
    assert final.value == 2.0 and final.right == 3 and final.asked == 5
    assert dict(answers)["ed"] is None and dict(answers)["di"] == -2.0
    assert q.score("ann") == (1, 1) and q.score("di") == (0, 1) and q.score("ed") == (0, 1)
    assert q.reveal() is None and q.tally() is None
    results = q.results()
    assert results.questions == (final,)
    assert [(s.name, s.right, s.asked) for s in results.scores][:2] == [("ann", 1, 1), ("bo", 1, 1)]


def test_near_zero_the_absolute_tolerance_decides() -> None:
    q: Questions[str] = Questions()
    ask = q.pose(Pose("g", "Predict g", 0.0))
    q.ask("ann", "ann", "-")
    q.ask("bo", "bo", "-")
    q.answer("ann", ask.qid, ABSOLUTE * 0.5)
    q.answer("bo", ask.qid, ABSOLUTE * 2)
    tally = q.tally()
    assert tally is not None and tally.right == 1


def test_one_who_stops_following_is_not_counted_unless_they_answered() -> None:
    q: Questions[str] = Questions()
    ask = q.pose(POSE)
    for name in ("ann", "bo"):
        q.ask(name, name, "-")
    q.answer("ann", ask.qid, 1.0)
    assert not q.drop("ann") and q.drop("bo")
    tally = q.tally()
    assert tally is not None and (tally.asked, tally.answered) == (1, 1)


def test_wrong_answers_are_grouped_and_the_most_common_come_first() -> None:
    q: Questions[int] = Questions()
    ask = q.pose(POSE)
    answers = [1.0, 1.00001, 1.0, 3.0, 3.0, 3.0, 3.0, *range(10, 20), 1.7976931348623157e308]
    for i, value in enumerate(answers):
        q.ask(i, str(i), "-")
        q.answer(i, ask.qid, float(value))
    tally = q.tally()
    assert tally is not None and len(tally.wrong) == MAX_WRONG
    assert tally.wrong[:2] == ((3.0, 4), (1.0, 3))  # 1.00001 is 1 to four digits
    assert all(math.isfinite(v) for v, _n in tally.wrong)  # rounding never makes an inf


def test_the_classroom_asks_followers_tallies_and_reveals() -> None:
    room = Classroom()
    teacher, ann, bo, cy = (FakeMember(r) for r in ("teacher", "student", "student", "student"))
    for member in (teacher, ann, bo, cy):
        room.join(member)
    cy.following = False  # exploring: not asked
    room.receive(teacher, POSE)
    assert [m["t"] for m in ann.inbox][-1] == "ask" and "value" not in ann.last("ask")
    assert not any(m["t"] == "ask" for m in cy.inbox)
    assert teacher.last("tally")["n"] == [2, 0, 0]
    qid = ann.last("ask")["q"]
    room.receive(ann, Answer(qid, 2.0))
    room.receive(teacher, Answer(qid, 9.0))  # the teacher is not a student
    assert teacher.last("tally")["n"] == [2, 1, 1]
    late = FakeMember("student")
    room.join(late)  # joins mid-question: asked too
    assert late.last("ask")["q"] == qid and teacher.last("tally")["n"] == [3, 1, 1]
    room.receive(ann, Reveal())  # only the teacher reveals
    assert not any(m["t"] == "revealed" for m in ann.inbox)
    room.receive(teacher, Reveal())
    assert ann.last("revealed") == {"t": "revealed", "q": qid, "value": 2.0, "answer": 2.0}
    assert bo.last("revealed") == {"t": "revealed", "q": qid, "value": 2.0}  # not answered
    assert teacher.last("tally")["value"] == 2.0
    results = teacher.last("results")
    assert len(results["questions"]) == 1
    assert room.questions.score(ann) == (1, 1) and room.questions.score(cy) == (0, 0)


def test_a_teacher_who_leaves_before_revealing_withdraws_the_question() -> None:
    room = Classroom()
    teacher, ann, bo = (FakeMember(r) for r in ("teacher", "student", "student"))
    for member in (teacher, ann, bo):
        room.join(member)
    room.receive(teacher, POSE)
    qid = ann.last("ask")["q"]
    room.receive(ann, Answer(qid, 2.0))
    room.leave(teacher)
    assert ann.last("withdrawn") == bo.last("withdrawn") == {"t": "withdrawn", "q": qid}
    assert room.questions.open is None and room.questions.score(ann) == (0, 0)
    again = FakeMember("teacher")
    room.join(again)  # a teacher who comes back finds no question open
    room.receive(again, Reveal())
    assert not any(m["t"] == "revealed" for m in ann.inbox)


# --------------------------------------------------------------- a member's prompt


def typed(prompt: MemberPrompt, keys: bytes, reader: KeyReader | None = None) -> list[float]:
    """Feed ``keys`` as a member's terminal sends them: the answers sent."""
    sent = []
    for _kind, key in (reader or KeyReader()).feed(keys, escape=prompt.editing):
        if prompt.takes(key):
            answer = prompt.type(key)
            if answer is not None:
                sent.append(answer)
    return sent


def ask(prompt: MemberPrompt) -> None:
    from bptui.classroom.protocol import Ask

    prompt.start(Ask(3, "ŷ", "Predict ŷ = x_val * w"))


def test_a_member_types_an_answer_edits_it_and_sends_it() -> None:
    prompt = MemberPrompt()
    assert not prompt.takes(b"1")  # no question: keys keep their meaning
    ask(prompt)
    assert prompt.line("en") == "Predict ŷ = x_val * w = _   enter sends, esc skips"
    assert typed(prompt, b"0.55\x7f\r") == [0.5]
    assert "You said 0.5" in (prompt.line("en") or "")
    assert not prompt.takes(b"q") and not prompt.takes(b"t")  # they keep their meaning
    assert typed(prompt, b"1e-3\r") == [0.001]  # a new answer replaces it
    assert typed(prompt, b"-\r") == []
    assert "is not a number" in (prompt.line("en") or "")
    prompt.reveal(0.001, 0.001)
    assert prompt.line("en") == "Right: ŷ = 0.001 (you said 0.001)."
    assert not prompt.editing and not prompt.takes(b"1")
    assert "正确" in (prompt.line("zh") or "")  # said in the member's language


def test_esc_skips_and_not_answered_is_said_so() -> None:
    prompt = MemberPrompt()
    ask(prompt)
    assert typed(prompt, b"12\x1b") == []
    assert "Not answered" in (prompt.line("en") or "")
    prompt.reveal(2.0, None)
    assert prompt.line("en") == "Not answered (not scored): ŷ = 2."
    prompt.close()
    assert prompt.line("en") is None


@given(st.binary(max_size=2000))
def test_a_flood_of_junk_never_breaks_the_line_or_sends_a_non_number(junk: bytes) -> None:
    prompt = MemberPrompt()
    ask(prompt)
    reader = KeyReader()
    for start in range(0, len(junk), 97):
        for answer in typed(prompt, junk[start : start + 97], reader):
            assert math.isfinite(answer)
    assert len(prompt.typed) <= MAX_TYPED
    line = prompt.line("en") or ""
    assert line.isprintable()


# --------------------------------------------------------------- the teacher's side


def test_the_teachers_screen_shows_counts_and_a_histogram_not_the_value() -> None:
    tally = Tally(1, "ŷ", 5, 4, 3, ((-2.0, 1), (0.5, 2)), None)
    lines = tally_lines("Predict ŷ = x_val * w", tally, 80)
    text = "\n".join(lines)
    assert "answered 4 of 5 · right 3 · wrong 1 · not answered 1" in text
    bars = [line for line in lines if line.lstrip().startswith("wrong")]
    assert len(bars) == 2 and bars[0].count("█") < bars[1].count("█")
    assert all(len(line) <= 80 for line in lines[1:])


def test_the_handout_escapes_names_and_lists_the_class() -> None:
    q: Questions[Any] = Questions()
    ask_ = q.pose(POSE)
    evil = "[x](http://e)*\x1b[2J|"
    for who, name in ((1, "ann"), (2, evil)):
        q.ask(who, name, "127.0.0.1")
    q.answer(1, ask_.qid, 2.0)
    q.answer(2, ask_.qid, 7.0)
    q.reveal()
    text = class_markdown(q.results())
    assert "| 1 | ŷ | 2 | 1 | 1 | 0 | 7 ×1 |" in text
    assert "\x1b" not in text and r"\[x\]\(http://e\)\*\[2J\|" in text
    assert "| ann | 127\\.0\\.0\\.1 | 1 | 1 |" in text


def test_the_prompt_row_is_drawn_over_the_groups_screen_and_put_back() -> None:
    from types import SimpleNamespace

    import pyte

    from bptui.classroom.protocol import Ask
    from bptui.serve.asking import PromptRow
    from bptui.serve.groups import View
    from bptui.serve.mirror import Mirror

    mirror = Mirror(40, 6)
    mirror.feed(b"\x1b[5;1Hthe app's message row")
    screen = pyte.Screen(40, 6)
    stream = pyte.ByteStream(screen)
    for ascii_only in (False, True):
        group = SimpleNamespace(view=View(40, 6, "en", ascii_only, "xterm", None), mirror=mirror)
        row = PromptRow(stream.feed, lambda: "en")
        row.start(Ask(1, "∂loss/∂ŷ", "Predict ∂loss/∂ŷ"), group)  # type: ignore[arg-type]
        line = screen.display[4]
        assert ("dloss/dy_hat" if ascii_only else "Predict ∂loss/∂ŷ = _") in line
        row.draw(None, again=True)  # a frame of a group they left: nothing drawn
        row.reveal(None, None, group)  # type: ignore[arg-type]  # withdrawn
        assert screen.display[4].startswith("the app's message row")
        row.draw(group, again=True)  # type: ignore[arg-type]  # no question: nothing drawn
        assert screen.display[4].startswith("the app's message row")


# --------------------------------------------------------------- in each one's language


def _asked_in_english() -> Any:
    """A question as an English-speaking teacher's app poses it: its text in English,
    its words for each student's own language."""
    from bptui.classroom.protocol import Ask, Words

    words = Words(1, ("∂loss/∂ŷ", "r"))
    return Ask(4, "∂loss/∂ŷ", "Predict ∂loss/∂ŷ (backward through r)", words)


def test_a_member_reads_the_teachers_question_in_their_own_language() -> None:
    prompt = MemberPrompt()
    prompt.start(_asked_in_english())
    assert (prompt.line("zh") or "").startswith("预测 ∂loss/∂ŷ（反向经过 r） = ")
    assert (prompt.line("en") or "").startswith("Predict ∂loss/∂ŷ (backward through r) = ")


async def test_a_follower_with_an_app_reads_the_teachers_question_in_their_own_language() -> None:
    from test_app import wait_for
    from test_app_classroom import following_app

    from bptui.app.screens.quiz_prompt import QuizPrompt
    from bptui.i18n import set_language

    app, server = following_app("zh")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            server.send({"t": "class", "teacher": True, "students": 1})
            await wait_for(pilot, lambda: app.session.following())
            server.send(
                {
                    "t": "ask",
                    "q": 4,
                    "name": "∂loss/∂ŷ",
                    "prompt": "Predict ∂loss/∂ŷ (backward through r)",
                    "words": [1, ["∂loss/∂ŷ", "r"]],
                }
            )
            question = app.query_one("#quiz-question")
            await wait_for(pilot, lambda: app.query_one(QuizPrompt).display)
            assert str(question.render()) == "预测 ∂loss/∂ŷ（反向经过 r） ="
    finally:
        set_language("en")


def test_a_verdict_without_the_question_says_torchs_value_not_a_question_mark() -> None:
    """A member asked on the group's screen answers there, then presses t: the app of
    their own hears the reveal without ever having seen the question, and named it
    "?" ("Right: ? = 2"). It says what torch computed and what they said."""
    question = ClassQuestion(lambda: None)
    right = question.verdict(Revealed(3, 2.0, 2.0))
    wrong = question.verdict(Revealed(3, 2.0, 1.5))
    silent = question.verdict(Revealed(3, 2.0, None))
    assert right.text == "Right: torch says 2 (you said 2)."
    assert wrong.text == "Not quite: you said 1.5, torch says 2."
    assert silent.text == "Not answered (not scored): torch says 2."
    assert right.kind is Kind.STEP and wrong.kind is Kind.TEACH
    i18n.set_language("zh")
    try:
        said = question.verdict(Revealed(3, 2.0, 2.0)).text
        assert said == "正确：torch 算出 2（你的答案 2）。"
    finally:
        i18n.set_language("en")
