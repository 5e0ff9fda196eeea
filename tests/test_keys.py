"""Every key of the keymap has a Pilot test that checks what the key does.

``KEY_TESTS`` names, for each key bound in :attr:`BptuiApp.BINDINGS`, the test that
presses it and asserts its effect on the engine and on the screen (not only that
it runs). A key added to the keymap without such a test fails here. The keys
with no test elsewhere are tested in this file, together with the multi-parameter
panels they drive.
"""

from __future__ import annotations

import importlib

from test_app import make_app, press, shown, wait_for

from bptui.app.main import BptuiApp
from bptui.app.panels.chain import ChainPanel
from bptui.app.panels.plot import LossPlot
from bptui.app.panels.tensor import TensorPanel
from bptui.lesson.files import load_lesson
from bptui.lesson.values import short

#: key → "module::test" that presses it and checks its effect.
KEY_TESTS = {
    "space": "test_app::test_next_keys_take_one_micro_step",
    "right": "test_app::test_next_keys_take_one_micro_step",
    "n": "test_app::test_next_keys_take_one_micro_step",
    "left": "test_app::test_undo_keys_take_back_one_micro_step",
    "backspace": "test_app::test_undo_keys_take_back_one_micro_step",
    "f": "test_app::test_f_steps_forward_and_F_finishes_the_forward_pass",
    "F": "test_app::test_f_steps_forward_and_F_finishes_the_forward_pass",
    "b": "test_app::test_b_steps_backward_and_B_finishes_the_backward_pass",
    "B": "test_app::test_b_steps_backward_and_B_finishes_the_backward_pass",
    "u": "test_app::test_u_updates_and_z_zeroes_the_gradient",
    "z": "test_app::test_u_updates_and_z_zeroes_the_gradient",
    "s": "test_app::test_s_runs_one_whole_training_step",
    "e": "test_app::test_e_finishes_the_epoch",
    "p": "test_app::test_p_autoplays_and_plus_minus_change_the_speed",
    "plus": "test_app::test_p_autoplays_and_plus_minus_change_the_speed",
    "minus": "test_app::test_p_autoplays_and_plus_minus_change_the_speed",
    "r": "test_app::test_r_resets_and_undo_brings_the_state_back",
    "g": "test_app::test_g_cycles_the_plot_view",
    "v": "test_plot::test_v_enlarges_the_plot_then_the_graph_then_goes_back",
    "c": "test_keys::test_c_writes_out_the_next_parameters_chain",
    "left_square_bracket": "test_app::test_brackets_scroll_a_wide_graph",
    "right_square_bracket": "test_app::test_brackets_scroll_a_wide_graph",
    "left_curly_bracket": "test_graph_view::test_curly_brackets_scroll_the_graph_up_and_down",
    "right_curly_bracket": "test_graph_view::test_curly_brackets_scroll_the_graph_up_and_down",
    "y": "test_graph_view::test_y_shows_and_hides_torch_backward_nodes",
    "P": "test_truthful_2::test_p_shows_every_digit_torch_holds_at_the_end_of_the_lesson",
    "C": "test_class_view::test_the_class_view_lists_students_and_b_calls_explorers_back",
    "E": "test_modes::test_edit_form_in_the_app",
    "Z": "test_modes::test_mode_keys_in_the_app",
    "m": "test_modes::test_mode_keys_in_the_app",
    "l": "test_modes::test_mode_keys_in_the_app",
    "question_mark": "test_app::test_help_opens_and_escape_closes_it",
    "f1": "test_app::test_help_opens_and_escape_closes_it",
    "q": "test_app::test_q_quits_with_exit_code_0",
    "t": "test_app_classroom::test_a_student_follows_explores_and_rejoins",
    "o": "test_lesson_picker::test_o_lists_the_lessons_and_opens_the_one_chosen_from_its_start",
    "L": "test_i18n_app::test_L_switches_every_panel_footer_and_status_and_back",
    "U": "test_jump_app::test_U_undoes_a_whole_training_step_and_left_brings_it_back",
    "colon": "test_jump_app::test_colon_asks_for_a_step_and_goes_there",
    "home": "test_jump_app::test_home_goes_to_the_start_and_end_to_the_end_of_the_epoch",
    "end": "test_jump_app::test_home_goes_to_the_start_and_end_to_the_end_of_the_epoch",
    "Q": "test_quiz::test_Q_turns_the_quiz_on_and_off",
    "x": "test_handouts::test_x_writes_the_session_so_far_as_markdown",
    "X": "test_handouts::test_x_never_overwrites_and_X_saves_an_svg",
    "T": "test_rooms::test_T_cycles_the_themes_and_the_rendered_styles_follow",
}

#: key → the action it must run (a key bound to another action fails here).
KEY_ACTIONS = {
    "space": "next",
    "right": "next",
    "n": "next",
    "left": "undo",
    "backspace": "undo",
    "f": "forward",
    "F": "finish_forward",
    "b": "backward",
    "B": "finish_backward",
    "u": "update",
    "z": "zero",
    "s": "train_step",
    "e": "finish_epoch",
    "p": "autoplay",
    "plus": "faster",
    "minus": "slower",
    "r": "reset",
    "g": "cycle_plot",
    "v": "cycle_zoom",
    "c": "cycle_chain",
    "t": "toggle_follow",
    "L": "switch_language",
    "left_square_bracket": "scroll_graph(-12)",
    "right_square_bracket": "scroll_graph(12)",
    "left_curly_bracket": "scroll_graph(0,-3)",
    "right_curly_bracket": "scroll_graph(0,3)",
    "y": "graph_names",
    "P": "precise",
    "C": "class_view",
    "o": "pick_lesson",
    "E": "edit",
    "Z": "skip_zero_mode",
    "m": "batch_mode",
    "l": "sum_loss_mode",
    "question_mark": "help",
    "f1": "help",
    "q": "quit",
    "U": "undo_step",
    "colon": "jump",
    "home": "jump_start",
    "end": "jump_end",
    "Q": "toggle_quiz",
    "x": "handout",
    "X": "svg_screenshot",
    "T": "cycle_theme",
}

SIZE = (120, 40)


def bound_keys() -> dict[str, str]:
    keys = {}
    for binding in BptuiApp.BINDINGS:
        for key in binding.key.split(","):
            assert key not in keys, f"{key} is bound twice"
            keys[key] = binding.action
    return keys


def test_every_key_has_a_test_of_its_effect():
    """Each bound key runs its action and is named with a test that exists."""
    assert bound_keys() == KEY_ACTIONS
    assert set(KEY_TESTS) == set(KEY_ACTIONS)
    for key, where in KEY_TESTS.items():
        module, name = where.split("::")
        assert callable(getattr(importlib.import_module(module), name, None)), (key, where)


def panel_lines(app: BptuiApp, cls: type) -> list[str]:
    """The panel's text lines without its box."""
    lines = [line.strip(" │╭╮╰╯─") for line in shown(app, cls).splitlines()]
    return [line for line in lines if line and not line.startswith("Chain rule")]


def written_out(app: BptuiApp) -> str:
    """The first line of the chain panel: the parameter whose chain is written in full."""
    return panel_lines(app, ChainPanel)[0]


async def test_c_writes_out_the_next_parameters_chain():
    """Two-layer lesson after a backward pass: the chain of w1 is written out and the others
    get a line each; c writes out b1's, then w2's, b2's, and w1's again. The plot is untouched."""
    app = make_app(load_lesson("two-layer"))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "F", "B")
        chain = app.query_one(ChainPanel)
        plot = app.query_one(LossPlot)
        view, steps = plot.view, app.stepper.micro_steps
        assert written_out(app).startswith("∂loss/∂w1 = ∂loss/∂r")
        for name in ("b1", "w2", "b2", "w1"):
            await pilot.press("c")
            await wait_for(pilot, lambda n=name: f"∂loss/∂{n} = " in written_out(app))
            others = [p for p in ("w1", "b1", "w2", "b2") if p != name]
            summary = panel_lines(app, ChainPanel)[-1]
            assert all(f"∂loss/∂{p} " in summary for p in others), summary
            assert f"∂loss/∂{name} " not in summary, summary
        assert chain.selected == 0 and plot.view == view
        assert app.stepper.micro_steps == steps  # c takes no step


async def test_c_with_one_parameter_keeps_its_chain():
    """The note's lesson has one chain: c leaves it written out, with no other-parameter line."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "F", "B")
        before = shown(app, ChainPanel)
        await pilot.press("c")
        await pilot.pause(0.1)
        assert shown(app, ChainPanel) == before and "(c: next)" not in before


async def test_tensor_panel_shows_each_parameters_own_gradient():
    """Several parameters: a row each, with that parameter's .data and .grad as torch holds
    them (None before the first backward pass, then each one's own number)."""
    app = make_app(load_lesson("two-layer"))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "F")
        rows = shown(app, TensorPanel).splitlines()
        for param in app.snapshot.params:
            (row,) = [r for r in rows if r.strip(" │").startswith(f"{param.name} ")]
            assert row.strip(" │").split()[1:3] == [short(param.data, 6), "None"], row
        await press(pilot, "B")
        params = app.snapshot.params
        assert len({p.grad for p in params}) == len(params)  # all different: a real check
        rows = shown(app, TensorPanel).splitlines()
        for param in params:
            (row,) = [r for r in rows if r.strip(" │").startswith(f"{param.name} ")]
            assert row.strip(" │").split()[1:3] == [short(param.data, 6), short(param.grad, 6)], row
        await press(pilot, "u")
        rows = shown(app, TensorPanel).splitlines()
        for param in app.snapshot.params:
            (row,) = [r for r in rows if r.strip(" │").startswith(f"{param.name} ")]
            assert row.strip(" │").split()[1:3] == [short(param.data, 6), short(param.grad, 6)], row
