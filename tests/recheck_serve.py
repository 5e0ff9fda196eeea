"""Run the serve tests that start ``bptui serve`` against mutants of ``bptui/serve/``.

mutmut traces only its own test process, so it can neither pick nor see kill a
test whose server runs in a subprocess (``test_serve*.py``, ``test_web.py``, the
class tests). Its mutated copy of the package (``mutants/``) chooses the active
mutant from ``MUTANT_UNDER_TEST`` on every call, and a subprocess inherits the
environment: with ``mutants/`` first on ``PYTHONPATH`` the server, its zygote and
every app forked from it run the mutant as well.

    python tests/recheck_serve.py map TESTS...   # which test reaches which function
    python tests/recheck_serve.py run NAMES_FILE [SECONDS] [-- TESTS...]  # each mutant

``map`` runs the tests once with ``MUTANT_UNDER_TEST=stats``; a ``sitecustomize``
put first on the path makes every Python process record each mutated function it
enters, with the test that was running (``PYTEST_CURRENT_TEST``, which the server
inherits), in ``mutants/serve-hits.txt``, and each test's duration in
``mutants/serve-durations.json``. ``run`` gives each mutant (one name a line) only
the tests that reached its function, quickest first, stops at the first failure,
and prints ``killed`` (by which test), ``timeout`` (killed: it hung), ``SURVIVED``
or ``no test``. With ``SECONDS``, only the quickest of those tests, as many as took
that long in the map's run: a survivor of all the serve tests costs about 15 minutes.
With ``TESTS``, those tests (files or ids) for every mutant instead.
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
FAILED = MUTANTS / f"serve-failed-{os.getpid()}.txt"  # one a process: two may run at once
DURATIONS = MUTANTS / "serve-durations.json"

# Loaded by every Python process on the path (the tests, the server, the zygote) and
# given to pytest as a plugin (``-p sitecustomize``) for the durations.
HOOKS = """
import os
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
    if report.failed:
        with open(os.environ["SERVE_FAILED"], "a") as f:
            f.write(report.nodeid + "\\n")
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
        SERVE_FAILED=str(FAILED),
    )
    if mutant == "stats":
        env["SERVE_DURATIONS"] = str(DURATIONS)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["-p", "sitecustomize", *(["-x"] if timeout else []), *tests]
    FAILED.unlink(missing_ok=True)
    out = None if mutant == "stats" else subprocess.DEVNULL  # the summary of the map's run
    # Started in mutants/ so that ``python -m`` puts the mutated package first.
    proc = subprocess.Popen(command, cwd=MUTANTS, env=env, start_new_session=True, stdout=out)
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        _kill_left(f"SERVE_FAILED={FAILED}".encode())
        return "timeout"
    if code == 1 and FAILED.exists():  # a test failed (not pytest itself)
        return "killed by " + FAILED.read_text().split()[0]
    return "SURVIVED" if code == 0 else f"error {code}"


def _kill_left(mark: bytes) -> None:
    """The servers a killed test left (each in a session of its own), found by the
    environment they inherited from this run."""
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and mark + b"\0" in (entry / "environ").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
        except OSError:
            continue


def tests_by_function() -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for line in HITS.read_text().splitlines():
        test, _, name = line.partition("\t")
        if test:
            found[name].add(test)
    return found


def main() -> int:
    what, *args = sys.argv[1:]
    chosen = args[args.index("--") + 1 :] if "--" in args else []
    args = args[: args.index("--")] if "--" in args else args
    with tempfile.TemporaryDirectory() as hooks:
        (Path(hooks) / "sitecustomize.py").write_text(HOOKS)
        if what == "map":
            HITS.unlink(missing_ok=True)
            verdict = pytest([str(ROOT / t) for t in args], "stats", Path(hooks))
            said = "passed" if verdict == "SURVIVED" else verdict.replace("killed by", "failed:")
            print("the tests without a mutant:", said)
            return 0
        durations: dict[str, float] = json.loads(DURATIONS.read_text())
        reaching = tests_by_function()
        budget = float(args[1]) if len(args) > 1 else float("inf")
        for name in Path(args[0]).read_text().split():
            function = name.rpartition("__mutmut_")[0]
            reach = sorted(chosen or reaching[function], key=lambda t: durations.get(t, 0.0))
            if not reach:
                print("no test", name, flush=True)
                continue
            # The quickest tests, as many as took ``budget`` seconds in the map's run.
            took = [durations.get(t, 0.0) for t in reach]
            tests = [t for i, t in enumerate(reach) if i == 0 or sum(took[:i]) < budget]
            # A mutant that hangs the server is stopped well past what its tests took.
            limit = 60 + 5 * sum(took[: len(tests)])
            verdict = pytest([str(ROOT / t) for t in tests], name, Path(hooks), limit)
            print(verdict, name, f"({len(tests)} of {len(reach)} tests)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
