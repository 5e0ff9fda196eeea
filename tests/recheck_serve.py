"""Run the serve tests that start ``bptui serve`` against mutants of ``bptui/serve/``.

mutmut traces only its own test process, so it can neither pick nor see kill a
test whose server runs in a subprocess (``test_serve*.py``, ``test_web.py``, the
class tests). Its mutated copy of the package (``mutants/``) chooses the active
mutant from ``MUTANT_UNDER_TEST`` on every call, and a subprocess inherits the
environment: with ``mutants/`` first on ``PYTHONPATH`` the server, its zygote and
every app forked from it run the mutant as well.

    python tests/recheck_serve.py map TESTS...   # which test reaches which function
    python tests/recheck_serve.py run NAMES_FILE # each mutant against the tests reaching it

``map`` runs the tests once with ``MUTANT_UNDER_TEST=stats``; a ``sitecustomize``
put first on the path makes every Python process record each mutated function it
enters, with the test that was running (``PYTEST_CURRENT_TEST``, which the server
inherits), in ``mutants/serve-hits.txt``, and each test's duration in
``mutants/serve-durations.json``. ``run`` gives each mutant (one name a line) only
the tests that reached its function, quickest first, stops at the first failure,
and prints ``killed``, ``timeout`` (killed: it hung), ``SURVIVED`` or ``no test``.
Use the Python of the environment mutmut runs in. Not a test module.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
HITS = MUTANTS / "serve-hits.txt"
DURATIONS = MUTANTS / "serve-durations.json"

# Loaded by every Python process on the path (the tests, the server, the zygote) and
# given to pytest as a plugin (``-p sitecustomize``) for the durations.
HOOKS = """
import os, time
if os.environ.get("MUTANT_UNDER_TEST") == "stats":
    import mutmut.mutation.trampoline as _t
    _seen = set()
    def _hit(name, caller=None):
        test = os.environ.get("PYTEST_CURRENT_TEST", "").rpartition(" (")[0]
        if (test, name) not in _seen:
            _seen.add((test, name))
            with open(os.environ["SERVE_HITS"], "a") as f:
                f.write(f"{test}\\t{name}\\n")
    _t.record_trampoline_hit = _hit
_durations = {}
def pytest_runtest_logreport(report):
    _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration
def pytest_sessionfinish(session):
    if os.environ.get("SERVE_DURATIONS"):
        import json
        with open(os.environ["SERVE_DURATIONS"], "w") as f:
            json.dump(_durations, f, indent=0)
"""


def pytest(tests: list[str], mutant: str, hooks: Path, timeout: float | None = None) -> str:
    """Run the tests as a separate process with ``mutant`` active; the verdict."""
    env = dict(
        os.environ,
        MUTANT_UNDER_TEST=mutant,
        PYTHONPATH=os.pathsep.join([str(hooks), str(MUTANTS), str(ROOT / "tests")]),
        HYPOTHESIS_PROFILE="mutate",
        OMP_NUM_THREADS="1",
        SERVE_HITS=str(HITS),
    )
    if mutant == "stats":
        env["SERVE_DURATIONS"] = str(DURATIONS)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["-p", "sitecustomize", *(["-x"] if timeout else []), *tests]
    # Started in mutants/ so that ``python -m`` puts the mutated package first.
    out = None if mutant == "stats" else subprocess.DEVNULL  # the summary of the map's run
    proc = subprocess.Popen(command, cwd=MUTANTS, env=env, start_new_session=True, stdout=out)
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return "timeout"
    return {0: "SURVIVED", 1: "killed"}.get(code, f"error {code}")


def tests_by_function() -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for line in HITS.read_text().splitlines():
        test, _, name = line.partition("\t")
        if test:
            found[name].add(test)
    return found


def main() -> int:
    what, *args = sys.argv[1:]
    with tempfile.TemporaryDirectory() as hooks:
        (Path(hooks) / "sitecustomize.py").write_text(HOOKS)
        if what == "map":
            HITS.unlink(missing_ok=True)
            verdict = pytest([str(ROOT / t) for t in args], "stats", Path(hooks))
            print("the tests without a mutant:", "passed" if verdict == "SURVIVED" else verdict)
            return 0
        durations: dict[str, float] = json.loads(DURATIONS.read_text())
        reaching = tests_by_function()
        for name in Path(args[0]).read_text().split():
            tests = sorted(
                reaching[name.rpartition("__mutmut_")[0]], key=lambda t: durations.get(t, 0.0)
            )
            if not tests:
                print("no test", name, flush=True)
                continue
            # A mutant that hangs the server is stopped well past what its tests took.
            limit = 60 + 5 * sum(durations.get(t, 0.0) for t in tests)
            verdict = pytest([str(ROOT / t) for t in tests], name, Path(hooks), limit)
            print(verdict, name, len(tests), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
