"""Settings shared by the whole suite.

Hypothesis profiles: a normal run draws new random examples each time (that is
how the property tests keep finding things); CI sets ``HYPOTHESIS_PROFILE=ci``
so that a run is reproducible and a submission cannot fail on an example no one
has seen before. ``mutate`` is for mutation testing: derandomized, so every mutant
meets the same inputs, and without shrinking.
"""

from __future__ import annotations

import os

from hypothesis import Phase, settings

# pytest-xdist's workers run with COLUMNS=80 and LINES=24 in their environment.
# Textual sizes its screen with shutil.get_terminal_size(), which takes those
# over the terminal's own size: every bptui the suite starts on a pty of another
# size, or resizes, would stay at 80×24. The processes under test must see their
# terminal as a student's would.
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)

settings.register_profile("ci", derandomize=True, print_blob=True)
# No shrinking: a mutant is killed by the first failing example, and shrinking it
# took minutes (mutmut counted such mutants as timeouts).
settings.register_profile(
    "mutate",
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
