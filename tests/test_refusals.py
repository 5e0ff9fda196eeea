"""What bptui refuses: model expressions outside the whitelist, and wrong lesson files.

A model is parsed, never run: each refusal is a :class:`ModelError` whose
message puts a caret under the offending part, nothing is executed (a model
that would create a file creates none), and no RecursionError, MemoryError or
OverflowError escapes. On the command line every refusal is exit code 2 with a
short message and no traceback, for ``bptui trace`` and for the app (which
must refuse before any interface starts). A wrong lesson file is reported with
the file, the key and, where there is one, the line: ``file:LINE: ...``.
"""

from __future__ import annotations

import sys
import types

import pytest

from bptui.cli import main
from bptui.lesson import LessonError
from bptui.lesson.expr import MAX_LENGTH, MAX_NODES, ModelError, parse_model
from bptui.lesson.files import LessonFileError, load_lesson


def pointed(message: str) -> str:
    """The part of the model a refusal's caret line points at."""
    lines = message.splitlines()
    assert len(lines) >= 3, message
    text, carets = lines[-2], lines[-1]
    assert text.startswith("    ") and carets.startswith("    "), message
    start = len(carets) - len(carets.lstrip(" "))
    end = len(carets.rstrip())
    assert set(carets[start:end]) == {"^"}, message
    return text[start:end]


def refuse(text: str) -> ModelError:
    with pytest.raises(ModelError) as caught:
        parse_model(text)
    return caught.value


@pytest.fixture
def no_app(monkeypatch):
    """Stand in for the interface: reaching it fails the test (nothing may start)."""
    fake = types.ModuleType("bptui.app.main")

    def run_app(lesson):  # pragma: no cover - reaching it is the failure
        raise AssertionError("the app started for a lesson that should be refused")

    fake.run_app = run_app
    monkeypatch.setitem(sys.modules, "bptui.app.main", fake)
    return fake


def cli_refuses(argv, capsys, prog="bptui trace"):
    """main(argv) exits 2 with a short message on stderr, nothing on stdout, no traceback."""
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert captured.out == ""
    assert "Traceback" not in captured.err
    lines = captured.err.splitlines()
    assert lines[0].startswith(f"{prog}: error: "), captured.err
    assert lines[-1] == f"Run '{prog} --help' for every option."
    return captured.err


# ---------------------------------------------------------------- model refusals

# (expression, the part the caret must point at, words the message must have)
REFUSED = [
    ("__import__('os').system('echo pwned')", "__import__('os').system", "cannot be called"),
    ("x.real", "x.real", "attributes"),
    ("w * x.real", "x.real", "attributes"),
    ("().__class__", "().__class__", "attributes"),
    ("w.__class__.__bases__", "w.__class__.__bases__", "attributes"),
    ("w[0]", "w[0]", "indexing"),
    ("x * w[1:2]", "w[1:2]", "indexing"),
    ("lambda: w", "lambda: w", "lambdas"),
    ("(lambda q: q)(w)", "lambda q: q", "cannot be called"),
    ("open('f')", "open", "cannot be called"),
    ("eval('1')", "eval", "cannot be called"),
    ("x * w + exec('w')", "exec", "cannot be called"),
    ("getattr(w, 'grad')", "getattr", "cannot be called"),
    ("sigmoid(x=w)", "sigmoid(x=w)", "exactly one argument"),
    ("tanh(w, x)", "tanh(w, x)", "exactly one argument"),
    ("exp(*w)", "exp(*w)", "exactly one argument"),
    ("w < x", "w < x", "comparisons"),
    ("x * w + (w == 1)", "w == 1", "comparisons"),
    ("w and x", "w and x", "and/or"),
    ("w if x else 1", "w if x else 1", "if-expressions"),
    ("(w := 2)", "w := 2", "assignments"),
    ("w ** 1000", "1000", "exponents are limited"),
    ("x * w ** -1000", "-1000", "exponents are limited"),
    ("w ** 1e6", "1e6", "exponents are limited"),
    ("2 ** 1000 * w", "1000", "exponents are limited"),
    ("w ** w", "w", "exponent must be a number"),
    ("w // 2", "w // 2", "operator"),
    ("w // x", "w // x", "operator"),
    ("w % 2", "w % 2", "operator"),
    ("[w]", "[w]", "not allowed"),
    ("{'w': w}", "{'w': w}", "not allowed"),
    ("f'{w}'", "f'{w}'", "not allowed"),
    ("~w", "~w", "not allowed"),
    ("'w' * 2", "'w'", "only numbers"),
    ("True * w", "True", "only numbers"),
    ("1j * w", "1j", "only numbers"),
    ("1e400 * w", "1e400", "finite"),
    ("0x" + "f" * 280 + " * w", "0x" + "f" * 280, "finite"),
    ("y * w", "y", "cannot use y"),
    ("sigmoid + w", "sigmoid", "is a function"),
    ("_w * x", "_w", "not a parameter name"),
    ("w; x", None, "not a valid expression"),
    ("x * (w", None, "not a valid expression"),
]


@pytest.mark.parametrize(("text", "part", "words"), REFUSED, ids=[r[0][:40] for r in REFUSED])
def test_model_refused_pointing_at_the_part(text, part, words):
    """Each expression outside the whitelist: a ModelError, its caret under the offending part."""
    error = refuse(text)
    message = str(error)
    assert words in message.splitlines()[0], message
    if part is not None:
        assert pointed(message) == part, message
    else:
        assert text in message


def test_model_refusal_executes_nothing(tmp_path, monkeypatch):
    """A model that would run code (make a file, open one, import os) runs nothing, at any layer."""
    import builtins
    import os

    monkeypatch.chdir(tmp_path)
    target = tmp_path / "pwned"
    attacks = [
        f"__import__('os').system('touch {target}')",
        f"open('{target}', 'w')",
        f"exec(\"open('{target}', 'w')\")",
        f"w * eval(\"__import__('os').system('touch {target}')\")",
        f"[__import__('os').system('touch {target}') for w in x]",
        f"sigmoid(x * w) + (lambda: __import__('os').system('touch {target}'))()",
    ]
    calls = []
    real_import = builtins.__import__

    def bare_import(name, *args, **kwargs):
        if not args and not kwargs:  # __import__('os') as a model would call it
            calls.append(f"__import__({name!r})")
        return real_import(name, *args, **kwargs)

    def spy(what):
        def called(*args, **kwargs):  # pragma: no cover - reaching it is the failure
            calls.append(what)
            raise AssertionError(f"{what} was called")

        return called

    monkeypatch.setattr(builtins, "__import__", bare_import)
    monkeypatch.setattr(builtins, "eval", spy("eval"))
    monkeypatch.setattr(builtins, "exec", spy("exec"))
    monkeypatch.setattr(os, "system", spy("os.system"))
    for text in attacks:
        with pytest.raises(ModelError):
            parse_model(text)
        with pytest.raises(LessonError):
            load_lesson(None, overrides={"model": text})
        assert not target.exists(), text
    monkeypatch.undo()
    assert calls == []
    assert list(tmp_path.iterdir()) == []


def test_attack_through_the_cli_and_lesson_file(tmp_path, capsys, no_app, monkeypatch):
    """bptui trace --model, bptui --model, a lesson file's model and also: exit 2, nothing run."""
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "pwned"
    attack = f"__import__('os').system('touch {target}')"
    err = cli_refuses(["trace", "--model", attack], capsys)
    assert "--model: " in err and "cannot be called" in err
    cli_refuses(["--model", attack], capsys, prog="bptui")
    lesson = tmp_path / "attack.toml"
    lesson.write_text(
        f'model = "{attack}"\nx = [1.0]\ny = [1.0]\nlr = 0.1\nepochs = 1\n', encoding="utf-8"
    )
    err = cli_refuses(["trace", str(lesson)], capsys)
    assert err.startswith(f"bptui trace: error: {lesson}:1: model: ")
    also = tmp_path / "also.toml"
    also.write_text(
        'model = "x * w"\nx = [1.0]\ny = [1.0]\nlr = 0.1\nepochs = 1\n\n[also]\n'
        f'"q" = "{attack}"\n',
        encoding="utf-8",
    )
    err = cli_refuses([str(also)], capsys, prog="bptui")
    assert err.startswith(f"bptui: error: {also}:8: also.q: ")
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["also.toml", "attack.toml"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("x * w + " * 250 + "w", f"at most {MAX_LENGTH} characters"),
        ("w" * 2000, f"at most {MAX_LENGTH} characters"),
        (" + ".join(["w"] * 41), f"at most {MAX_NODES} operations"),
        ("sigmoid(" * 31 + "w" + ")" * 31, f"at most {MAX_NODES} operations"),
        ("-(" * 99 + "w" + ")" * 99, f"at most {MAX_NODES} operations"),
        ("(" * 500 + "w" + ")" * 500, "too long"),
        ("(" * 5000 + "w" + ")" * 5000, "too long"),
        ("(" * 149 + "x" + ")" * 149, "no parameters"),
        ("(" * 199 + "w" + ")" * 99, "not a valid expression"),
        ("-" * 299 + "1", "no parameters"),
        ("[" * 150 + "]" * 150, "not allowed"),
        ("", "empty"),
        ("   ", "empty"),
        ("x", "no parameters"),
        ("2 * 3", "no parameters"),
    ],
    ids=[
        "2000 chars",
        "2000 names",
        "41 additions",
        "31 sigmoids",
        "99 negations",
        "500 parens",
        "5000 parens",
        "149 parens",
        "unbalanced",
        "299 minus",
        "nested lists",
        "empty",
        "blank",
        "x only",
        "constants only",
    ],
)
def test_huge_and_deep_models_refused(text, words):
    """Huge, long and deeply nested models are a ModelError, never RecursionError or MemoryError."""
    error = refuse(text)
    assert words in str(error), str(error)


def test_deep_but_small_models_are_fine():
    """Nesting that stays within the limits parses: 149 parentheses, 299 unary plus signs."""
    assert parse_model("(" * 149 + "w" + ")" * 149).params == ("w",)
    assert parse_model("+" * 299 + "w").params == ("w",)
    assert len(parse_model(" + ".join(["w"] * (MAX_NODES + 1))).nodes) == MAX_NODES


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "x.real * w",
        "().__class__",
        "w[0]",
        "lambda: w",
        "open('f')",
        "eval('1')",
        "sigmoid(x=w)",
        "w < x",
        "w ** 1000",
        "x * w + " * 250 + "w",
        " + ".join(["w"] * 40),
        "(" * 500 + "w" + ")" * 500,
        "0x" + "f" * 280 + " * w",
    ],
    ids=[
        "import",
        "attribute",
        "class",
        "subscript",
        "lambda",
        "open",
        "eval",
        "keyword",
        "compare",
        "exponent",
        "2000 chars",
        "40 ops",
        "500 parens",
        "huge int",
    ],
)
@pytest.mark.parametrize("command", ["trace", "app"])
def test_cli_refuses_model(text, command, capsys, no_app):
    """--model refusals on the command line: exit 2, a short message, no traceback, no app."""
    argv = ["trace", "--model", text] if command == "trace" else ["--model", text]
    prog = "bptui trace" if command == "trace" else "bptui"
    err = cli_refuses(argv, capsys, prog=prog)
    assert err.splitlines()[0].startswith(f"{prog}: error: --model: ")
    # The message and the model with a caret under it, then the hint: at most four lines,
    # and no line much longer than the model itself.
    assert len(err.splitlines()) <= 4, err
    assert max(len(line) for line in err.splitlines()) <= max(len(text), MAX_LENGTH) + 120


# ----------------------------------------------------------- lesson file refusals

GOOD = """\
title = "A lesson"
model = "x * w + b"
loss = "squared"
x = [1.0, 2.0, 3.0]
y = [2.0, 4.0, 6.0]
lr = 0.01
epochs = 3

[init]
w = 1.0
b = 0.0
"""


def edit(text: str, key: str, line: str | None) -> str:
    """GOOD with the line that sets ``key`` replaced (or removed when ``line`` is None)."""
    out = []
    for current in text.splitlines():
        if current.startswith(f"{key} = "):
            if line is not None:
                out.append(line)
        else:
            out.append(current)
    return "\n".join(out) + "\n"


# (name, file text, line number or None, words the message must contain)
BAD_FILES = [
    (
        "unknown key",
        GOOD.replace("loss = ", 'colour = "red"\nloss = '),
        3,
        ["unknown key 'colour'"],
    ),
    ("lr string", edit(GOOD, "lr", 'lr = "fast"'), 6, ["lr must be", "'fast'"]),
    (
        "epochs float",
        edit(GOOD, "epochs", "epochs = 1.5"),
        7,
        ["epochs must be a whole number", "1.5"],
    ),
    ("epochs bool", edit(GOOD, "epochs", "epochs = true"), 7, ["epochs must be"]),
    ("x string", edit(GOOD, "x", 'x = "1,2"'), 4, ["x must be a list of numbers", "'1,2'"]),
    ("x item", edit(GOOD, "x", 'x = [1.0, "two", 3.0]'), 4, ["x[1] must be a number"]),
    ("y item bool", edit(GOOD, "y", "y = [1.0, true, 3.0]"), 5, ["y[1] must be a number"]),
    ("title number", edit(GOOD, "title", "title = 3"), 1, ["title must be a string"]),
    ("model number", edit(GOOD, "model", "model = 3"), 2, ["model must be"]),
    (
        "init not a table",
        GOOD.replace("[init]\nw = 1.0\nb = 0.0\n", "init = 3\n"),
        9,
        ["init must be"],
    ),
    ("no model", edit(GOOD, "model", None), None, ["missing model"]),
    ("no x", edit(GOOD, "x", None), None, ["missing x"]),
    ("no lr", edit(GOOD, "lr", None), None, ["missing lr"]),
    ("bad TOML", GOOD.replace("lr = 0.01", "lr = = 0.01"), 6, ["not valid TOML"]),
    (
        "bad TOML string",
        GOOD.replace('title = "A lesson"', 'title = "A lesson'),
        1,
        ["not valid TOML"],
    ),
    (
        "duplicate key",
        GOOD.replace("epochs = 3\n", "epochs = 3\nlr = 0.5\n"),
        8,
        ["not valid TOML"],
    ),
    ("init key named like a top-level key", GOOD + "lr = 0.5\n", 12, ["init.lr", "no parameter"]),
    (
        "unknown key after blank lines",
        GOOD.replace("loss = ", '\n\ncolour = "red"\nloss = '),
        5,
        ["unknown key 'colour'"],
    ),
    ("init for a missing parameter", GOOD + "q = 2.0\n", 12, ["init.q", "no parameter 'q'"]),
    ("init string", GOOD.replace("b = 0.0", 'b = "zero"'), 11, ["init.b must be a number"]),
    ("unknown loss", edit(GOOD, "loss", 'loss = "hinge"'), 3, ["loss must be one of", "'hinge'"]),
    ("bad model", edit(GOOD, "model", 'model = "x.real * w"'), 2, ["model: attributes"]),
    ("lr negative", edit(GOOD, "lr", "lr = -0.5"), 6, ["lr must be", "-0.5"]),
    ("lr nan", edit(GOOD, "lr", "lr = nan"), 6, ["lr must be", "nan"]),
    ("epochs zero", edit(GOOD, "epochs", "epochs = 0"), 7, ["epochs must be at least 1"]),
    ("x inf", edit(GOOD, "x", "x = [1.0, inf, 3.0]"), 4, ["x[1] must be a finite number"]),
    (
        "huge integer",
        edit(GOOD, "y", "y = [1, 2, 1" + "0" * 400 + "]"),
        5,
        ["y[2] must be a finite number"],
    ),
    (
        "huge init",
        GOOD.replace("w = 1.0", "w = 1" + "0" * 400),
        10,
        ["init.w must be a finite number"],
    ),
    ("unknown phase", GOOD + '\n[narration]\nlunch = "eat"\n', 14, ["narration.lunch"]),
    ("also unknown parameter", GOOD + '\n[also]\n"v" = "x * q"\n', 14, ["also.v uses q"]),
    ("upstream missing", edit(GOOD, "loss", 'loss = "upstream"'), None, ["upstream = <number>"]),
    ("x and y lengths", edit(GOOD, "y", "y = [1.0]"), None, ["x has 3 values but y has 1"]),
    ("empty data", edit(edit(GOOD, "x", "x = []"), "y", "y = []"), None, ["the data is empty"]),
]

BAD_IDS = [b[0] for b in BAD_FILES]


@pytest.mark.parametrize(("case", "text", "line", "words"), BAD_FILES, ids=BAD_IDS)
def test_bad_lesson_file_reported_with_file_key_and_line(case, text, line, words, tmp_path):
    """A wrong lesson file: a LessonFileError with ``file:LINE:`` (where there is one), key, why."""
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LessonFileError) as caught:
        load_lesson(str(path))
    message = str(caught.value)
    prefix = f"{path}:{line}: " if line is not None else f"{path}: "
    assert message.startswith(prefix), message
    for word in words:
        assert word in message, message


def test_good_lesson_file_loads(tmp_path):
    """The file the bad ones are made from is fine (so each bad one fails for its own reason)."""
    path = tmp_path / "good.toml"
    path.write_text(GOOD, encoding="utf-8")
    lesson = load_lesson(str(path))
    assert lesson.param_names == ("w", "b") and lesson.epochs == 3


@pytest.mark.parametrize(("case", "text", "line", "words"), BAD_FILES, ids=BAD_IDS)
@pytest.mark.parametrize("command", ["trace", "app"])
def test_cli_refuses_bad_lesson_file(case, text, line, words, command, tmp_path, capsys, no_app):
    """bptui trace FILE and bptui FILE: exit 2, the file:LINE: message, no interface started."""
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    argv = ["trace", str(path)] if command == "trace" else [str(path)]
    prog = "bptui trace" if command == "trace" else "bptui"
    err = cli_refuses(argv, capsys, prog=prog)
    prefix = f"{path}:{line}: " if line is not None else f"{path}: "
    assert err.startswith(f"{prog}: error: {prefix}"), err
    assert len(err.splitlines()) <= 4


def test_cli_refuses_missing_lesson(tmp_path, capsys, no_app):
    """A lesson file that is not there, or an unknown lesson name: exit 2, and what exists."""
    missing = tmp_path / "nope.toml"
    err = cli_refuses(["trace", str(missing)], capsys)
    assert f"{missing}: no such lesson file" in err
    err = cli_refuses(["--lesson", "nonesuch"], capsys, prog="bptui")
    assert "no lesson called 'nonesuch'" in err and "linear" in err


def test_unknown_loss_option_refused(capsys):
    """--loss hinge is refused by the option parser: exit 2, the choices listed."""
    with pytest.raises(SystemExit) as caught:
        main(["trace", "--loss", "hinge"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "hinge" in err and "squared" in err and "Traceback" not in err


def test_init_for_missing_parameter_on_command_line(capsys, no_app):
    """--init q=1 for a model without q: exit 2 naming q and the lesson's parameters."""
    err = cli_refuses(["--lesson", "neuron", "--init", "q=1"], capsys, prog="bptui")
    assert "'q'" in err and "w, b" in err
