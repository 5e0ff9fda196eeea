"""The command line: every bad value gets one line naming it and exit code 2, never a traceback.

Most cases run ``main()`` in this process (fast); a few run the real command in a
subprocess to see exactly what a user sees on stderr. The app itself is never
started: a stand-in replaces it, and fails the test if a bad value got through.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types

import pytest

from bptui.cli import main

BAD = [
    # (arguments, text the error must contain)
    (["--x", "a,b"], "'a'"),
    (["--x", "1,two,3"], "'two'"),
    (["--y", "2,4,six"], "'six'"),
    (["--lr", "abc"], "'abc'"),
    (["--epochs", "many"], "'many'"),
    (["--epochs", "1.5"], "'1.5'"),
    (["--x", "nan,1,2"], "'nan'"),
    (["--x", "1,inf,2"], "'inf'"),
    (["--y", "2,4,-inf"], "'-inf'"),
    (["--x", "-inf,1,2"], "'-inf'"),
    (["--y", "-nan,1,2"], "'-nan'"),
    (["--x", "1e400,1,2"], "'1e400'"),
    (["--init", "w=nan"], "'nan'"),
    (["--init", "w=-inf"], "'-inf'"),
    (["--x", "1,2", "--y", "1,2,3"], "x has 2 values but y has 3"),
    (["--y", "1"], "y has 1"),
    (["--x", ""], "--x is empty"),
    (["--y", ""], "--y is empty"),
    (["--x", "1,,2"], "'1,,2'"),
    (["--lr", "0"], "got 0"),
    (["--lr", "-0.5"], "got -0.5"),
    (["--lr=-1"], "got -1"),
    (["--lr", "inf"], "got inf"),
    (["--lr", "nan"], "got nan"),
    (["--epochs", "0"], "got 0"),
    (["--epochs", "-3"], "got -3"),
    (["--epochs", "-1e3"], "'-1e3'"),
    (["--epochs", "10000000"], "(--epochs) is 10000000, too large"),
    (["--epochs", "400000"], "(--epochs) is 400000, too large"),  # 1.2 million steps
    (["--init", "b=1"], "'b'"),
    (["--init", "w=1,q=2"], "'q'"),
    (["--init", "w"], "'w'"),
    (["--init", "w:1"], "'w:1'"),
    (["--init", "=1"], "'=1'"),
    (["--init", "w=abc"], "'abc'"),
    (["--init", "w=1,w=2"], "w twice"),
    (["--init", ""], "''"),
    # bce needs a prediction in [0, 1]: torch's RuntimeError and its traceback, once.
    (["--model", "x * w", "--loss", "bce"], "end the model in sigmoid"),
]


@pytest.fixture(autouse=True)
def no_app(monkeypatch):
    """A stand-in for the TUI: starting it means a bad value was accepted."""
    fake = types.ModuleType("bptui.app.main")

    def run_app(lesson):
        raise AssertionError(f"the app was started with {lesson!r}")

    fake.run_app = run_app
    monkeypatch.setitem(sys.modules, "bptui.app.main", fake)


def check_error(err: str, prog: str, needle: str) -> None:
    """One ``prog: error: …`` line naming the value, at most a hint line after it."""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines, "no error message"
    assert lines[0].startswith(f"{prog}: error: "), lines[0]
    assert needle in lines[0], (needle, lines[0])
    assert sum("error" in line for line in lines) == 1
    assert all(line.startswith("Run '") and "--help" in line for line in lines[1:]), lines


@pytest.mark.parametrize(("argv", "needle"), BAD, ids=[" ".join(a) or "''" for a, _ in BAD])
def test_bad_value_trace(argv, needle, capsys):
    """``bptui trace`` with a bad value: exit 2, one line naming it, nothing on stdout."""
    assert main(["trace", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    check_error(err, "bptui trace", needle)


@pytest.mark.parametrize(("argv", "needle"), BAD[::3], ids=[" ".join(a) for a, _ in BAD[::3]])
def test_bad_value_app(argv, needle, capsys):
    """The app checks the same values before it starts (the stand-in app is never run)."""
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    check_error(err, "bptui", needle)


@pytest.mark.parametrize("where", ["missing-dir", "a-directory"])
def test_unwritable_output(tmp_path, capsys, where):
    """-o to a path that cannot be written: exit 2 and the path named, no file made."""
    path = tmp_path / "no" / "such" / "dir" / "t.jsonl" if where == "missing-dir" else tmp_path
    assert main(["trace", "--epochs", "1", "-o", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    assert err.startswith("bptui trace: error: cannot write ") and str(path) in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["trace", "linear", "--lesson", "neuron"],
        ["--lesson", "neuron", "trace", "linear"],
        ["trace", "linear", "--lesson", "linear"],  # the same one twice is still twice
    ],
)
def test_lesson_given_twice_is_refused(argv, capsys):
    """LESSON and --lesson together: exit 2 and one line saying to give it once; no trace
    of either lesson is written (before, ``trace linear --lesson neuron`` ran linear)."""
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    check_error(err, "bptui trace", "give the lesson once")


@pytest.mark.parametrize(
    ("argv", "lesson"),
    [
        (["trace", "neuron"], "neuron"),
        (["--lesson", "neuron", "trace"], "neuron"),
        (["trace", "--lesson", "affine"], "affine"),
    ],
)
def test_lesson_given_once_is_run(argv, lesson, capsys):
    """Either way of naming the lesson alone runs that lesson."""
    assert main([*argv, "--epochs", "1"]) == 0
    first = rows(capsys.readouterr().out)[0]
    assert list(first["params"]) == {"neuron": ["w", "b"], "affine": ["w", "b"]}[lesson]
    assert ("z2" in first["nodes"]) is (lesson == "neuron")


def test_unknown_format_is_a_usage_error(capsys):
    """argparse's own check of --format: exit 2, naming the choice, no traceback."""
    with pytest.raises(SystemExit) as exit_:
        main(["trace", "--format", "xml"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "'xml'" in err and "Traceback" not in err


def rows(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize(
    "argv",
    [
        ["--x", "-1,2", "--y", "3,-4"],
        ["--x=-1,2", "--y=3,-4"],
        ["--x", "-1,2", "--y=3,-4"],
        ["--x", " -1, 2", "--y", "3,-4"],
    ],
)
def test_negative_values(argv, capsys):
    """Negative numbers work as values, with a space or with ``=``."""
    assert main(["trace", *argv, "--epochs", "1"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert [(r["x"], r["y"]) for r in rows(out)] == [(-1.0, 3.0), (2.0, -4.0)]


def test_negative_learning_settings(capsys):
    """A negative initial value and a fractional negative input are read as numbers."""
    assert main(["trace", "--init", "w=-0.5", "--x", "-.5,1", "--y", "1,1", "--epochs", "1"]) == 0
    got = rows(capsys.readouterr().out)
    assert got[0]["params"]["w"] == -0.5 and got[0]["x"] == -0.5


def test_help_for_bptui_and_trace(capsys):
    """``--help`` prints usage and exits 0, for the app and for ``trace``."""
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: bptui") and "trace" in out and "--lr" in out
    with pytest.raises(SystemExit) as exit_:
        main(["trace", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: bptui trace") and "--format" in out and "-o" in out


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bptui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("argv", "prog", "needle"),
    [
        (["trace", "--x", "1,abc,3"], "bptui trace", "'abc'"),
        (["trace", "--x", "-inf"], "bptui trace", "'-inf'"),
        (["--lr", "nan"], "bptui", "got nan"),  # the app's path, stopped before any import
        (["trace", "--epochs", "99999999999999999999"], "bptui trace", "is too large"),
    ],
)
def test_bad_value_in_a_real_process(argv, prog, needle):
    """What a user sees: exit code 2, the one-line error, no traceback, nothing on stdout."""
    proc = run(*argv)
    assert proc.returncode == 2
    assert proc.stdout == ""
    check_error(proc.stderr, prog, needle)


def test_unwritable_output_in_a_real_process(tmp_path):
    """-o into a missing directory, as a user runs it."""
    target = tmp_path / "missing" / "trace.csv"
    proc = run("trace", "--format", "csv", "-o", str(target))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("bptui trace: error: cannot write") and str(target) in proc.stderr


def test_help_in_a_real_process():
    """``python -m bptui --help`` and ``... trace --help`` exit 0 with usage on stdout."""
    for argv, head in ((["--help"], "usage: bptui"), (["trace", "--help"], "usage: bptui trace")):
        proc = run(*argv)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(head) and proc.stderr == ""
