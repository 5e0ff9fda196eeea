"""Follow mode: the teacher's steps, kept as the class log and passed to followers.

The server holds no tensor and runs no torch: it keeps the list of commands
the teacher's app has applied (micro-steps, undo, reset, modes, edits) and
forwards each new one to every student who is following (and another lesson,
``o``, to the explorers too, who are told and keep theirs). A student who joins
late, or presses ``t`` to rejoin, gets the whole log and replays it in their
own process, landing on the teacher's current step. A teacher who reconnects
gets the log too and carries on where the class was.

The members are apps: the teacher's, each student's own, and each view
group's (:mod:`bptui.serve.groups`), which draws for many students and is not
a person. The head count every app shows counts people: students with an app
of their own, and students watching a group's (:meth:`Classroom.watch`). A
burst of joins is announced once (``defer``), not once per join to every app.

Class questions (:mod:`bptui.serve.questions`): the teacher's app poses one
with torch's value; every following person is asked it without the value (a
member of a group on their own screen, a student with an app of their own in
it), joiners too; the teacher's app is sent the tally as answers arrive,
gathered as joins are, and on the reveal each person asked hears the value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from ..classroom.protocol import (
    Answer,
    Ask,
    Cmd,
    Command,
    Follow,
    Hello,
    Message,
    Open,
    Pose,
    Presence,
    Recall,
    Recalled,
    Reveal,
    Sync,
    Where,
    merge,
)
from ..i18n import N_
from .questions import Questions

TAKEN_OVER = N_("Another teacher session has taken over the class.")


class Member(Protocol):
    """A session as the classroom sees it."""

    role: str
    following: bool

    def send(self, message: Message) -> None: ...

    def touch(self) -> None:
        """Something happened on this session's screen (it is not idle)."""

    def end(self, reason: str) -> None: ...

    def people(self) -> Sequence[Person]:
        """Who watches this app: the student whose app it is, or a group's members."""


class Person(Protocol):
    """A student as a class question sees them (a session)."""

    @property
    def name(self) -> str: ...
    @property
    def address(self) -> str: ...

    def ask(self, ask: Ask) -> None:
        """Put the question to them (on their screen, or to their app)."""

    def revealed(self, qid: int, value: float | None, answer: float | None) -> None:
        """The teacher revealed torch's ``value``; ``answer`` is theirs, as counted.
        None: the question is withdrawn (the teacher left before revealing it)."""


class Classroom:
    """One class: at most one teacher, any number of students."""

    def __init__(self, defer: Callable[[Callable[[], None]], None] | None = None) -> None:
        """``defer(call)``: run ``call`` a moment later (announcements are gathered);
        without it, every change is announced at once."""
        self.log: list[Command] = []
        self.teacher: Member | None = None
        #: Every student's app: their own, or a view group's.
        self.students: list[Member] = []
        #: Students without an app of their own, watching a view group's.
        self.watchers = 0
        #: Each explorer's training steps done, as their app last said (the class view's).
        self.steps: dict[Member, int] = {}
        self._defer = defer
        #: Calls put off to gather a burst (an announcement, a tally).
        self._due: set[Callable[[], None]] = set()
        self.questions: Questions[Person] = Questions()

    def join(self, member: Member) -> None:
        """A new session: it starts from the class log (the teacher's current step)."""
        if member.role == "teacher":
            if self.teacher is not None:
                self.teacher.end(TAKEN_OVER)
            self.teacher = member
        else:
            member.following = True
            self.students.append(member)
        member.send(Hello(tuple(self.log), self._presence()))
        if member is not self.teacher:
            self._ask(member)  # joining mid-question: asked too
        self._announce()

    def leave(self, member: Member) -> None:
        self.steps.pop(member, None)
        if member is self.teacher:
            self.teacher = None
            qid, asked = self.questions.withdraw()  # no one is left to reveal it
            for person in asked:
                person.revealed(qid, None, None)
        elif member in self.students:
            self.students.remove(member)
            self.gone(member.people())
        else:
            return
        self._announce()

    def receive(self, member: Member, message: Message) -> None:
        """A message from a session's app (decoded and checked by the protocol)."""
        if isinstance(message, Cmd) and member is self.teacher:
            self._pass_on(message)
        elif isinstance(message, Follow) and member in self.students:
            self._follow(member, message.on)
        elif isinstance(message, Where) and member is not self.teacher and not member.following:
            self.steps[member] = message.step  # a bounded whole number (the protocol's)
        elif isinstance(message, Recall) and member is self.teacher:
            for student in self.students:
                if not student.following:
                    student.send(Recalled())
        elif isinstance(message, Answer) and getattr(member, "person", True):
            # A student's own app (a group's app is asked nothing: its members are).
            for person in member.people() if member in self.students else ():
                self.answered(person, message.qid, message.value)
        elif member is self.teacher:
            self._teacher_asks(message)

    def _pass_on(self, cmd: Cmd) -> None:
        """The teacher's command: kept in the class log and sent to every follower."""
        merge(self.log, cmd.command)
        for student in self.students:
            if student.following:
                student.send(cmd)
                student.touch()
            elif isinstance(cmd.command, Open):
                student.send(cmd)  # an explorer is told, and keeps their lesson

    def _follow(self, member: Member, on: bool) -> None:
        """A student follows again (they get the class log) or explores alone."""
        member.following = on
        if on:
            self.steps.pop(member, None)
            member.send(Sync(tuple(self.log), self._presence()))
            self._ask(member)
        else:
            self.gone(member.people())  # explorers are not asked
        self._announce()  # one more, or one fewer, exploring

    # ------------------------------------------------------------ class questions

    def _teacher_asks(self, message: Message) -> None:
        if isinstance(message, Pose):
            self.questions.pose(message)
            for student in self.students:
                self._ask(student)
            self._tally_soon()
        elif isinstance(message, Reveal):
            done = self.questions.reveal()
            if done is None:
                return
            tally, answers = done  # the tally of a question revealed has its value
            for person, answer in answers:
                person.revealed(tally.qid, tally.value, answer)
            if self.teacher is not None:
                self.teacher.send(tally)
                self.teacher.send(self.questions.results())

    def _ask(self, member: Member) -> None:
        if member.following and self.questions.open is not None:
            for person in member.people():
                self.ask(person)

    def ask(self, person: Person) -> None:
        """``person`` follows now: the open question is put to them (if not answered)."""
        ask = self.questions.ask(person, person.name, person.address)
        if ask is not None:
            person.ask(ask)
            self._tally_soon()

    def answered(self, person: Person, qid: int, value: float) -> None:
        """``person`` answered question ``qid`` (counted if they were asked it)."""
        if self.questions.answer(person, qid, value):
            self._tally_soon()

    def gone(self, people: Iterable[Person]) -> None:
        """They stopped following, or left: not counted, unless they answered."""
        if any([self.questions.drop(person) for person in people]):
            self._tally_soon()

    def _tally_soon(self) -> None:
        """The teacher's screen is told the tally, once for a burst of answers."""
        self._gathered(self._tally_now)

    def _tally_now(self) -> None:
        tally = self.questions.tally()
        if tally is not None and self.teacher is not None:
            self.teacher.send(tally)

    def watch(self, joined: bool) -> None:
        """A student starts (``joined``) or stops watching a view group's app."""
        self.watchers += 1 if joined else -1
        self._announce()

    def _presence(self) -> Presence:
        people = [s for s in self.students if getattr(s, "person", True)]
        exploring = sum(1 for s in people if not s.following)
        return Presence(
            teacher=self.teacher is not None,
            students=len(people) + self.watchers,
            exploring=exploring,
        )

    def _announce(self) -> None:
        self._gathered(self._announce_now)

    def _gathered(self, call: Callable[[], None]) -> None:
        """``call`` now, or (with ``defer``) once for a burst of changes."""
        if self._defer is None:
            call()
        elif call not in self._due:
            self._due.add(call)

            def due() -> None:
                self._due.discard(call)
                call()

            self._defer(due)

    def _announce_now(self) -> None:
        message = self._presence()
        for member in ([self.teacher] if self.teacher else []) + self.students:
            member.send(message)
