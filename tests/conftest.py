"""Settings shared by the whole suite.

Hypothesis profiles: a normal run draws new random examples each time (that is
how the property tests keep finding things); CI sets ``HYPOTHESIS_PROFILE=ci``
so that a run is reproducible and a submission cannot fail on an example no one
has seen before. ``mutate`` is for mutation testing: fewer examples, derandomized,
so every mutant meets the same inputs.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("mutate", derandomize=True, max_examples=20, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
