"""A matrix's chain rule per element, numbers that never lose digits silently, and the
lessons a student reads: matrix, layer (the note's 5 → 6), node and collapse."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from test_app import make_app, message, press, shown
from test_verified import backward_passes

from bptui.app.panels.chain import ChainPanel
from bptui.app.panels.status import StatusBar
from bptui.app.panels.tensor import TensorPanel, rows
from bptui.cli import main
from bptui.lesson import Phase, Stepper
from bptui.lesson.files import load_lesson
from bptui.lesson.program import build_program
from bptui.lesson.values import format_plain, format_value, short

SMALL, LARGE = (80, 24), (120, 40)


# ------------------------------------------------------------------ numbers


@pytest.mark.parametrize("digits", [2, 3, 4, 5, 7])
def test_a_non_zero_value_never_reads_as_zero(digits):
    """Significant digits, not decimal places: every non-zero magnitude keeps a digit that
    is not 0, and the text read back is within its digits of the value."""
    for exponent in range(-45, 39):
        for mantissa in (1.0, 3.6875, -9.99, 5.5):
            value = float(torch.tensor(mantissa * 10.0**exponent, dtype=torch.float32))
            if value == 0 or not math.isfinite(value):
                continue
            text = short(value, digits)
            assert float(text) != 0, (value, text)
            assert math.isclose(float(text), value, rel_tol=10.0 ** (1 - digits)), (value, text)


def test_the_engines_sentences_keep_float32s_digits():
    """The message line and the trace (values.format_value): 7 significant digits, so a
    tiny non-zero value is never written 0."""
    for exponent in range(-45, 39):
        value = float(torch.tensor(3.6875 * 10.0**exponent, dtype=torch.float32))
        if value == 0 or not math.isfinite(value):
            continue
        assert float(format_value(value)) == pytest.approx(value, rel=1e-6)
        assert format_plain([value, -value]) == f"[{format_value(value)}, {format_value(-value)}]"


def test_the_two_layer_loss_is_short_enough_to_read():
    """two-layer's tiny loss (0.0003687521) is written 3.6875e-4: shorter than
    0.00036875, whose first four characters read as 0.0."""
    assert short(0.0003687521) == "3.6875e-4"
    assert short(0.0077356) == "0.0077356"  # plain where that is no longer
    assert short(120000.0) == "1.2e5"
    assert short(-0.0) == "0" and short(0.0) == "0"
    assert rows([[0.0003687521, 1.0]]) == ["[3.688e-4        1]"]


# ---------------------------------------------------- per-element chain rule


def torch_layer(lesson):
    """W.grad and ∂loss/∂(W·x) of the first sample, by plain torch."""
    (_, w_init), (_, b_init) = lesson.params
    W = torch.tensor(w_init, requires_grad=True)
    b = torch.tensor(b_init, requires_grad=True)
    x, y = torch.tensor(lesson.x[0]), torch.tensor(lesson.y[0])
    z = W @ x
    z.retain_grad()
    loss = torch.sum((z + b - y) ** 2)
    loss.backward()
    return W.grad, z.grad, x


@pytest.mark.parametrize("name", ["matrix", "layer"])
def test_each_element_chain_is_torchs_w_grad_and_the_finite_difference_agrees(name):
    """∂loss/∂W[i,j] = ∂loss/∂z1[i] · x[j]: the first factor is torch's gradient at z1[i],
    the second x[j], their product and the shown W.grad[i,j] equal plain torch's W.grad
    element, and a finite difference of that one element agrees."""
    lesson = load_lesson(name)
    (snap,) = backward_passes(Stepper(lesson), 1)
    w_grad, z_grad, x = torch_layer(lesson)
    chain = snap.chains[0]
    rows_, cols = w_grad.shape
    assert len(chain.elements) == rows_ * cols
    w = lesson.params[0][0]
    for element in chain.elements:
        i, j = divmod(chain.elements.index(element), cols)
        assert element.label == f"{w}[{i},{j}]"
        (up, local) = element.paths[0]
        assert (up.name, up.formula) == (f"∂loss/∂z1[{i}]", f"2r[{i}]")
        assert (local.name, local.formula) == (f"∂z1[{i}]/∂{w}[{i},{j}]", f"x[{j}]")
        assert up.value == z_grad[i].item() and local.value == x[j].item()
        assert element.torch_grad == w_grad[i, j].item() == snap.param(w).grad[i][j]
        assert element.product == pytest.approx(w_grad[i, j].item(), rel=1e-6)
        assert element.finite_diff == pytest.approx(w_grad[i, j].item(), rel=1e-4, abs=1e-5)
        assert up.agrees and local.agrees and element.verified
    assert chain.form == f"∂loss/∂{w} = (∂loss/∂z1) xᵀ: an outer product"
    bias = snap.chains[1]
    assert [e.label for e in bias.elements] == [f"{bias.label}[{i}]" for i in range(rows_)]
    assert all(e.verified for e in bias.elements)


def test_a_wrong_element_is_caught():
    """Every element's check is a real one: a finite difference that disagrees fails it."""
    (snap,) = backward_passes(Stepper(load_lesson("matrix")), 1)
    element = snap.chains[0].elements[4]
    assert element.verified
    off = dataclasses.replace(element, finite_diff=element.finite_diff + 0.01)
    assert not off.verified


def test_elements_appear_after_forward_and_numbers_as_backward_reaches_them():
    stepper = Stepper(load_lesson("matrix"))
    stepper.finish_forward()
    element = stepper.snapshot().chains[0].elements[0]
    assert element.torch_grad is None and element.product is None
    assert all(f.value is None for f in element.paths[0])
    stepper.backward()
    stepper.backward()
    stepper.finish_backward()
    element = stepper.snapshot().chains[0].elements[0]
    assert element.verified


async def test_c_steps_through_the_elements_then_the_next_parameter():
    """matrix: c writes out W[0,0], W[0,1], … W[1,2], then b[0], b[1], then W again; each
    with its numbers and a ✓ from the finite difference."""
    app = make_app(load_lesson("matrix"))
    async with app.run_test(size=SMALL) as pilot:
        await press(pilot, "F", "B")
        steps = app.stepper.micro_steps
        seen = []
        for _ in range(9):
            text = shown(app, ChainPanel)
            seen.append(text.split("=")[0].split("∂loss/∂")[1].strip(" │\n"))
            assert "✓" in text and "✗" not in text, text
            await press(pilot, "c")
        assert seen == [
            "W[0,0]",
            "W[0,1]",
            "W[0,2]",
            "W[1,0]",
            "W[1,1]",
            "W[1,2]",
            "b[0]",
            "b[1]",
            "W[0,0]",
        ]
        assert app.stepper.micro_steps == steps  # c takes no step


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_matrix_chain_panel_shows_the_product_and_its_check(size):
    app = make_app(load_lesson("matrix"))
    async with app.run_test(size=size) as pilot:
        await press(pilot, "F", "B", "c", "c", "c", "c", "c")
        text = shown(app, ChainPanel)
        assert "∂loss/∂W[1,2] = ∂loss/∂z1[1] · ∂z1[1]/∂W[1,2]" in text, text
        assert "2r[1]" in text and "x[2]" in text and "0.8" in text
        assert "W.grad[1,2] 2.4 · finite diff 2.4 · ✓" in text, text
        assert "∂loss/∂W = (∂loss/∂z1) xᵀ" in text
        assert "Tensor panel" not in text


# --------------------------------------------------------- the Tensor panel


@pytest.mark.parametrize("name", ["matrix", "layer"])
async def test_a_cut_tensor_says_so_and_its_elements_are_reachable(name):
    """At 80×24 a matrix too wide for the Tensor panel is cut with … and says "cut"; the
    element the chain panel writes out is shown whole, and c reaches every element."""
    app = make_app(load_lesson(name))
    async with app.run_test(size=SMALL) as pilot:
        await press(pilot, "F", "B")
        param = app.snapshot.params[0]
        grad = param.grad
        cols = len(grad[0])
        seen = set()
        for k in range(len(grad) * cols):
            text = shown(app, TensorPanel)
            assert "…" in text and "cut · " in text, text
            i, j = divmod(k, cols)
            whole = (
                f"{param.name}[{i},{j}]={short(param.data[i][j], 7)}  grad {short(grad[i][j], 7)}"
            )
            assert whole in text, (whole, text)
            seen.add((i, j))
            await press(pilot, "c")
        assert len(seen) == len(grad) * cols


async def test_a_tensor_that_fits_is_not_cut():
    """At 120×40 the matrix lesson's 2×3 W fits beside its gradient: nothing cut."""
    app = make_app(load_lesson("matrix"))
    async with app.run_test(size=LARGE) as pilot:
        await press(pilot, "F", "B")
        text = shown(app, TensorPanel)
        assert "…" not in text and "cut" not in text
        assert "[-2.4 -4.8 -7.2]" in text


# ---------------------------------------------------------------- lessons


def test_node_lesson_has_no_target_and_its_code_wants_dx():
    lesson = load_lesson("node")
    code = build_program(lesson).lines
    assert any("requires_grad=True" in line and "x_val" in line for line in code)
    assert not any("y_data" in line or "y_val" in line for line in code)
    assert "stands for the layers above" in lesson.description
    stepper = Stepper(lesson)
    stepper.finish_forward()
    snap = stepper.snapshot()
    assert not snap.has_target and snap.loss_label == "L"
    assert "L = 5·z stands for the layers above" in snap.message.text


async def test_node_lesson_shows_no_y_and_names_l():
    app = make_app(load_lesson("node"))
    async with app.run_test(size=SMALL) as pilot:
        await press(pilot, "F")
        assert " x=2 " in shown(app, StatusBar) and "y=" not in shown(app, StatusBar)
        tensor = shown(app, TensorPanel)
        assert "L 30" in tensor and "loss" not in tensor
        assert "stands for the layers above" in message(app)


def test_collapse_explains_each_primed_value():
    """The forward pass says what z1'…z4' and ŷ' are as it computes them."""
    stepper = Stepper(load_lesson("collapse"))
    said = {}
    while stepper.phase is Phase.FORWARD:
        stepper.forward()
        snap = stepper.snapshot()
        node = next(n for n in snap.nodes if n.current)
        said[node.label] = snap.message.text
    assert "W, the slope" in said["z1'"] and "W·x" in said["z2'"]
    assert "w2·b1" in said["z3'"] and "B = w2·b1 + b2" in said["z4'"]
    assert "equals ŷ" in said["ŷ'"]
    assert "z1' = w2·w1 is the slope W" in load_lesson("collapse").description


def test_notes_name_real_values(tmp_path, capsys):
    """A note for a value the lesson does not have is refused with its line."""
    path = tmp_path / "bad.toml"
    path.write_text(
        'model = "x * w"\nx = [1.0]\ny = [2.0]\nlr = 0.1\nepochs = 1\n[notes]\nq = "hi"\n'
    )
    assert main(["trace", str(path)]) == 2
    assert "bad.toml:7: notes.q: no value is labelled 'q'" in capsys.readouterr().err


def test_layer_lesson_is_the_notes_5_to_6():
    lesson = load_lesson("layer")
    (w, w_init), (b, b_init) = lesson.params
    assert (w, b) == ("W1", "b1")
    assert (len(w_init), len(w_init[0]), len(b_init)) == (6, 5, 6)  # 30 weights
    assert all(len(x) == 5 for x in lesson.x) and all(len(y) == 6 for y in lesson.y)
    stepper = Stepper(lesson)
    stepper.run_to_end()
    assert stepper.records[-1].loss < 1e-6 < stepper.records[0].loss


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_layer_lesson_steps_in_the_app(size):
    app = make_app(load_lesson("layer"))
    async with app.run_test(size=size) as pilot:
        await press(pilot, "space")
        assert "Matrix multiply" in message(app)
        await press(pilot, "F", "B")
        assert "W1.grad[0,0]" in shown(app, ChainPanel)
        assert "✓" in shown(app, ChainPanel)
        await press(pilot, "u", "z", "space")
        assert app.snapshot.sample == 2


async def test_a_long_element_is_shown_whole_on_two_lines():
    """Later in training the element does not fit one line of the Tensor panel at 80×24:
    its value and its gradient take a line each, still whole (float32's 7 digits)."""
    app = make_app(load_lesson("matrix"))
    async with app.run_test(size=SMALL) as pilot:
        await press(pilot, "F", "B", "u", "z", "s", "s", "s", "F", "B")
        param = app.snapshot.param("W")
        text = shown(app, TensorPanel)
        assert f"cut · W[0,0]={short(param.data[0][0], 7)}" in text, text
        assert f"W.grad[0,0] {short(param.grad[0][0], 7)}" in text, text
        assert len(short(param.grad[0][0], 7)) > 8  # long enough to need the two lines


async def test_the_layer_element_chain_fits_the_small_screen():
    """layer at 80×24: "∂loss/∂W1[0,0] =" takes a row of its own so the two factors, their
    formulas, numbers, the check and the outer product all fit the chain panel."""
    app = make_app(load_lesson("layer"))
    async with app.run_test(size=SMALL) as pilot:
        await press(pilot, "F", "B")
        lines = [line.strip(" │") for line in shown(app, ChainPanel).splitlines()[1:]]
        assert lines[0] == "∂loss/∂W1[0,0] ="
        assert lines[1].startswith("∂loss/∂z1[0] · ∂z1[0]/∂W1[0,0]")
        assert "✓" in lines[4] and "(∂loss/∂z1) xᵀ" in lines[5], lines


def test_two_matrix_layers(tmp_path):
    """W2 @ σ(W1 @ x + b1) + b2: the last layer's elements are checked one by one (b2, a
    one-element vector, too); W1 reaches the loss through W2, a sum over outputs, and keeps
    the vector form rather than a per-element product that would be wrong."""
    path = tmp_path / "two.toml"
    path.write_text(
        'model = "W2 @ sigmoid(W1 @ x + b1) + b2"\n'
        "x = [[1.0, 2.0], [0.5, -1.0]]\ny = [[1.0], [0.0]]\nlr = 0.1\nepochs = 2\n"
        "[init]\nW1 = [[0.1, 0.2], [0.3, -0.1], [0.0, 0.5]]\nb1 = [0.0, 0.0, 0.0]\n"
        "W2 = [[0.2, -0.3, 0.1]]\nb2 = [0.0]\n"
    )
    (snap,) = backward_passes(Stepper(load_lesson(str(path))), 1)
    chains = {c.param: c for c in snap.chains}
    assert [len(chains[p].elements) for p in ("W1", "b1", "W2", "b2")] == [0, 0, 3, 1]
    assert all(e.verified for p in ("W2", "b2") for e in chains[p].elements)
    assert chains["W2"].form == "∂loss/∂W2 = (∂loss/∂z4) z3ᵀ: an outer product"
