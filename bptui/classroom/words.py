"""A quiz question's prompt as words: which sentence, and the names put in it.

A class question is asked on every follower's screen in that student's language,
not the teacher's: it travels as the number of its sentence and the names it
holds (``ŷ``, ``∂loss/∂r``, a line of the program), which read the same in every
language, and each app (or the server, for a student without one) puts the
sentence together in the language it speaks. A module of its own, small and
plain: the quiz needs it from the app's start, the class protocol only in a class.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import N_

#: What a quiz question asks, by number, and the names each puts in its sentence.
#: A class question travels as its number and names (:class:`Words`), and each
#: student reads the sentence in their own language, not in the teacher's.
PROMPTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (N_("Predict {p} after the update, {p} − lr · {p}.grad"), ("p",)),
    (N_("Predict {name} (backward through {node})"), ("name", "node")),
    (N_("Predict {source}"), ("source",)),
)


@dataclass(frozen=True)
class Words:
    """A question's prompt as its number in :data:`PROMPTS` and the names put in it
    (``ŷ``, ``∂loss/∂r``, a line of the program): the same in every language."""

    prompt: int
    names: tuple[str, ...]

    @property
    def sentence(self) -> str:
        """The sentence in English, with ``{}`` fields: translated, then filled with
        :meth:`fields`."""
        return PROMPTS[self.prompt][0]

    def fields(self) -> dict[str, str]:
        """The names by the sentence's fields."""
        return dict(zip(PROMPTS[self.prompt][1], self.names, strict=True))
