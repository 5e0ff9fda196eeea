"""Run the current tests against the survivors of the last ``make mutate``.

mutmut keeps its verdicts in ``mutants/``; after tests are added, this checks
only the survivors again, and the mutants the run found no test for, against the
test files given (default: the ones mutmut selects from), in one process: each
mutant is switched on through ``MUTANT_UNDER_TEST``, which the mutated code reads
on every call. (A mutant with no test is one no test of mutmut's selection
reached; a test outside it, given here, may.)

    .venv/bin/python tests/recheck_survivors.py [MODULE_PREFIX | @NAMES_FILE] [-- TESTS...]

(the Python of the environment mutmut ran in).

Prints each survivor that the tests now kill or still miss, then the totals.
Not a test module (pytest collects ``test_*.py`` only).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def survivors(prefix: str) -> list[str]:
    """The mutants of the last run that no test killed: survived, or reached by none."""
    out = subprocess.run(
        # mutmut beside this Python: the venv it runs in need not be the work tree's.
        [str(Path(sys.executable).with_name("mutmut")), "results"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = []
    for line in out.splitlines():
        name, _, verdict = line.strip().rpartition(": ")
        if verdict in ("survived", "no tests") and name.startswith(prefix):
            names.append(name)
    return names


def main() -> int:
    args = sys.argv[1:]
    files = []
    if "--" in args:
        files = args[args.index("--") + 1 :]
        args = args[: args.index("--")]
    prefix = args[0] if args else "bptui."
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    files = files or config["pytest_add_cli_args_test_selection"]
    # The cases the mutmut runs leave out (see pytest_add_cli_args), left out here too.
    extra = config.get("pytest_add_cli_args", [])
    deselect = [
        arg
        for i, arg in enumerate(extra)
        if arg == "--deselect" or (i > 0 and extra[i - 1] == "--deselect")
    ]
    if prefix.startswith("@"):  # a file of mutant names, one a line (survivors among them)
        wanted = set(Path(prefix[1:]).read_text().split())
        names = [name for name in survivors("bptui.") if name in wanted]
    else:
        names = survivors(prefix)
    # The mutated package first on the path; the tests from the work tree (the newest).
    sys.path.insert(0, str(ROOT / "mutants"))
    sys.path.insert(1, str(ROOT / "tests"))
    os.chdir(ROOT / "mutants")
    os.environ.setdefault("HYPOTHESIS_PROFILE", "mutate")
    import pytest

    import bptui

    assert Path(bptui.__file__).is_relative_to(ROOT / "mutants"), bptui.__file__
    still = []
    for name in ["", *names]:  # first without a mutant: the tests must pass
        os.environ["MUTANT_UNDER_TEST"] = name
        with contextlib.redirect_stdout(io.StringIO()):
            code = pytest.main(
                [
                    *(str(ROOT / f) if "::" not in f else str(ROOT) + "/" + f for f in files),
                    "-x",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "-k",
                    "not in_the_app",
                    *deselect,
                ],
            )
        killed = code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
        if not name:
            assert not killed, f"the tests fail without a mutant (exit code {code})"
            continue
        print(("killed  " if killed else "SURVIVED ") + name, flush=True)
        if not killed:
            still.append(name)
    os.environ.pop("MUTANT_UNDER_TEST", None)
    print(
        f"{len(names)} survivors rechecked: {len(names) - len(still)} killed, "
        f"{len(still)} still survive"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
