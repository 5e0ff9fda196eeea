"""The bptui application: the panels, the keys, and the lesson session behind them.

torch loads in a worker thread after the first frame (the window appears at
once; keys pressed meanwhile are kept). Keys change the engine at once; drawing
is throttled to ~30 frames a second, so key repeat and autoplay never lag (see
frames.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from .. import glyphs
from ..classroom.commands import Jump, Step
from ..i18n import _, next_language, set_language
from ..lesson.snapshot import Kind, Message, Snapshot
from ..lesson.spec import Lesson, LessonError
from . import keymap, palette
from .autoplay import Autoplay
from .frames import Frames
from .keyhold import KeyHold
from .panels.footer import KeyFooter
from .panels.graph import GraphPanel
from .panels.lesson import LessonView
from .panels.message import MessageBar
from .plainterm import plain_terminal
from .prompting import Prompting
from .quiz import Question
from .screens.quiz_prompt import QuizPrompt
from .session import FOLLOWING, LessonSession
from .settings import Settings
from .signals import exit_on_signals
from .sizes import screen_classes, too_small
from .themes import Themes, refuse_colour
from .zoom import cycle_zoom

if TYPE_CHECKING:
    from ..lesson.engine import Stepper
    from .classlink import ClassLink
    from .screens.edit import Edits


class BptuiApp(App[int]):
    """Step through one lesson's training loop, every number from torch.

    The app shows a :class:`~bptui.app.session.LessonSession` and holds its
    collaborators: the session (the engine, the commands, the class), the
    autoplay timer, the theme and the keys held while something opens. A key's
    action here is a line or two that hands it to one of them and draws.
    """

    CSS_PATH = "app.tcss"
    TITLE = "bptui"
    ENABLE_COMMAND_PALETTE = False

    BINDINGS = [
        Binding(key.keys, key.action, key.description, show=key.show, tooltip=key.tooltip or "")
        for key in keymap.KEYS
    ]
    """Every key; the footer shows the common ones and `?` explains all."""

    #: Set by ``bptui serve`` for each session: a file would be the server's, not the student's.
    served = False

    def __init__(
        self,
        lesson: Lesson,
        stepper: Stepper | None = None,
        settings: Settings | None = None,
        link: ClassLink | None = None,
    ):
        super().__init__()
        self.session = LessonSession(lesson, stepper, settings, link, self._schedule)
        self.snapshot: Snapshot | None = None
        #: How this session looks and speaks (--ascii, …; see settings.py).
        self.settings = self.session.settings
        set_language(self.settings.language)  # L switches it (see language.py)
        self.keys = KeyHold(self)
        #: When the lesson is drawn (the throttle, the plot, the pause after a frame).
        self.frames = Frames(self, self.session, self.keys, self._draw)
        self.themes = Themes(self)
        self.autoplay = Autoplay(self, self.session, self.frames.schedule)
        self.prompting = Prompting(
            self, self.session, self.keys, self.autoplay.stop, self.frames.schedule
        )
        self.session.note = plain_terminal(self, self.settings)  # a note in ASCII mode
        self._pending: list[str] = []
        # Keys pressed before the lesson is first drawn run once it is (see keyhold.py).
        self.keys.hold("lesson")
        self._keys_state: tuple[bool, bool, bool, bool] | None = None
        self._lesson_view: LessonView | None = None

    @property
    def stepper(self) -> Stepper | None:
        """The session's engine (None while PyTorch loads)."""
        return self.session.stepper

    @property
    def link(self) -> ClassLink | None:
        """In a classroom: the session's line to the server."""
        return self.session.link

    # ------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        prompt = QuizPrompt(self.prompting.answer, id="quiz")
        yield LessonView(self.settings.ascii_only, prompt, id="main")
        yield Static(id="too-small")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._check_size()
        self.session.join_class()
        if self.stepper is None:
            # After the first paint: the import holds the GIL and would delay it.
            self.call_after_refresh(self._load_engine)
        else:
            self._engine_ready(self.stepper)
        if self.no_color:
            refuse_colour(self._filters)
        self.themes.apply(self.settings.theme)

    def on_unmount(self) -> None:
        self.frames.collector.app_ended()
        self.session.close()

    def on_resize(self, event: events.Resize) -> None:
        # This handler runs before App's own, so self.size is still the old size.
        self._check_size(event.size.width, event.size.height)
        # The graph's room (its box's max-height) follows the screen's size class.
        for panel in self.query(GraphPanel):
            self.call_after_refresh(panel.refit)

    async def on_event(self, event: events.Event) -> None:
        if self.keys.held(event):  # typed while the lesson loads or a screen opens
            return
        await super().on_event(event)

    async def _on_key(self, event: events.Key) -> None:
        if self.keys.came_back(event):
            return
        # A key that is off (its binding does not run) says why instead of doing
        # nothing: a follower's lesson key, or a stepping key once the lesson is done
        # (the engine says it is finished and how to go on).
        if self.session.following():
            if self._actions_of(event) & keymap.LESSON_KEYS:
                self._refused_while_following()
        elif (
            self.snapshot is not None
            and self.snapshot.finished
            and len(self.screen_stack) == 1  # not a key some screen above the lesson left
            and self._actions_of(event) & keymap.STEPPING
        ):
            self.step("next")

    def _actions_of(self, event: events.Key) -> set[str]:
        """The actions bound to a key (looked up only for a key that may be off)."""
        return {b.action for b in self._bindings.key_to_bindings.get(event.key, [])}

    def get_default_screen(self) -> Screen[Any]:
        classes = screen_classes(*self.size)  # before the first layout (see sizes.py)
        return Screen(id="_default", classes=" ".join(n for n, on in classes.items() if on))

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """app.tcss's own variables (``$panel-border``), as the dark theme has them."""
        return dict(palette.VARIABLES)

    def get_key_display(self, binding: Binding) -> str:
        """A key's name in the footer: ``←`` is ``<-`` in ASCII mode."""
        return glyphs.shown(super().get_key_display(binding))

    def footer_extra(self) -> tuple[str, ...]:
        """Actions the footer shows besides its usual keys: a follower's view keys."""
        return keymap.FOLLOWER_FOOTER if self.session.following() else ()

    def _check_size(self, width: int | None = None, height: int | None = None) -> None:
        if width is None or height is None:
            width, height = self.size
        self.screen.update_classes(screen_classes(width, height))
        notice = too_small(width, height)
        if notice is not None:
            self.query_one("#too-small", Static).update(notice)

    # ------------------------------------------------------------- engine

    @work(thread=True, exclusive=True, group="engine")
    def _load_engine(self) -> None:
        """Import torch off the event loop: the first frame does not wait for it."""
        from ..lesson.engine import Stepper

        try:
            stepper = Stepper(self.session.lesson, labels=keymap.ENGINE_LABELS)
        except LessonError as error:  # found once torch runs the model (shapes)
            self.call_from_thread(self.exit, None, 2, f"bptui: error: {error}")
            return
        self.call_from_thread(self._engine_ready, stepper)

    def _engine_ready(self, stepper: Stepper) -> None:
        self.session.engine_ready(stepper)
        self.frames.collector.engine_loaded()  # collections between frames (see collect.py)
        pending, self._pending = self._pending, []
        for action in pending:
            self.step(action)
        self.frames.now()

    def step(self, action: str) -> None:
        """A key that steps the engine (``next``, ``undo``, …; see keymap.py)."""
        if self._refused_while_following():
            return
        if self.stepper is None:
            self._pending.append(action)
            return
        # Quiz mode: the step is taken, and asks before it is shown.
        asked = self.session.quiz.take(action, drawn=self.snapshot is not None)
        if isinstance(asked, Question):
            self.prompting.ask(asked)
            return
        if asked is False:  # a key while a question is open: the class's is revealed
            self.prompting.reveal()
            return
        if asked is None:
            self.session.run_command(Step(action))
        self.frames.schedule()

    def _schedule(self) -> None:
        """A frame, asked for by the session (made before the frames, which need it)."""
        self.frames.schedule()

    def _draw(self) -> None:
        """The engine's current snapshot on every panel (see frames.py for when)."""
        if self.stepper is None or self.session.quiz.holds():
            return
        view = self._view()
        if view is None or not view.ready():
            # Not all mounted yet (a loaded machine can run this from on_mount
            # before the nested panels are in the DOM): draw after the next refresh.
            self.call_after_refresh(self.frames.schedule)
            return
        self.stepper.watching = self.session.following()
        snap = glyphs.plain(self.stepper.snapshot())  # in ASCII mode, its text in ASCII
        self.snapshot = snap
        # Stop autoplay before drawing, so the status bar no longer shows it playing.
        if (
            self.autoplay.playing
            and snap.message is not None
            and (snap.finished or snap.message.kind in (Kind.DIVERGED, Kind.REFUSED))
        ):
            self.autoplay.stop()
        session = self.session
        view.show(
            snap, self.autoplay.label(), session.class_badge(), session.quiz.score(), session.note
        )
        self.frames.drawn(snap)  # the plot in the same frame, the pause after it
        keys_state = (snap.can_undo, snap.finished, self.autoplay.playing, session.following())
        if keys_state != self._keys_state:
            # The footer rebuilds itself on every refresh_bindings(): only when it changes.
            self._keys_state = keys_state
            self.refresh_bindings()

    def _view(self) -> LessonView | None:
        if self._lesson_view is None:
            self._lesson_view = next(iter(self.query(LessonView)), None)
        return self._lesson_view

    # ------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out keys that do nothing now (the footer follows): see keymap.available."""
        if action in ("toggle_follow", "class_view"):
            # A student in a class has a teacher to follow; the teacher has a class.
            return self.link is not None and self.link.is_teacher == (action == "class_view")
        return keymap.available(
            action, self.snapshot, self.autoplay.playing, self.session.following()
        )

    def action_cycle_plot(self) -> None:
        self.query_one(LessonView).cycle_plot()

    def action_cycle_zoom(self) -> None:
        cycle_zoom(self.screen)

    def action_edit(self) -> None:
        """Open the form for lr, parameters and data (at the start of a training step)."""
        snap = self.snapshot
        if self.stepper is None or snap is None or self._refused_while_following():
            return
        from .screens.edit import EditScreen, refusal  # loaded when first used, not at start

        refused = refusal(snap, self.stepper.can_edit())
        if refused is not None:
            self._say(refused)
            return
        self.prompting.settle()  # the held step reaches the class before the edit
        self.keys.open_screen(EditScreen(snap, self.stepper.lesson), self._apply_edits)

    def _apply_edits(self, edits: Edits | None) -> None:
        if edits is None or self.stepper is None:
            return
        command = edits.command()
        try:
            self.session.apply_command(command)
        except LessonError as error:
            self._say(Message(Kind.REFUSED, _("Not changed: {error}").format(error=error)))
            return
        self.session.send_command(command)
        self.frames.schedule()

    def action_cycle_chain(self) -> None:
        """c: write out the next parameter's chain (or say why there is no other)."""
        refused = self.query_one(LessonView).cycle_chain(self.snapshot)
        if refused is not None:
            self._say(refused)

    def action_help(self) -> None:
        # Markdown is slow to import: not on the first frame's path.
        from .screens.help import HelpScreen

        # The lesson as it is now: an edit changes its learning rate or data.
        lesson = self.stepper.lesson if self.stepper else self.session.lesson
        self.keys.open_screen(HelpScreen(lesson, self.snapshot))

    def action_class_view(self) -> None:
        from .screens.classview import ClassView  # a DataTable: not on the first frame's path

        if self.link is not None and self.link.is_teacher:
            self.keys.open_screen(ClassView(self.link))

    def action_pick_lesson(self) -> None:
        """o: another lesson, from its start (off for a follower: see keymap)."""
        from .screens.lessons import LessonPicker  # not on the first frame's path

        if self.stepper is not None:
            self.autoplay.stop()  # the next lesson starts paused
            self.prompting.settle()  # the held step belongs to this lesson
            session = self.session
            self.keys.open_screen(LessonPicker(session.shelf, session.lesson), session.open_picked)

    def _refused_while_following(self) -> bool:
        """A key that would change a following student's lesson: say so, change nothing."""
        if not self.session.following():
            return False
        self.query_one(MessageBar).show(Message(Kind.REFUSED, _(FOLLOWING)))
        return True

    def _say(self, message: Message) -> None:
        self.query_one(MessageBar).show(message)

    # ------------------------------------------------------------- the other keys

    def action_autoplay(self) -> None:
        """p: autoplay on or off."""
        if not self._refused_while_following():
            self.autoplay.toggle()

    def action_faster(self) -> None:
        self.autoplay.faster()

    def action_slower(self) -> None:
        self.autoplay.slower()

    def action_jump(self) -> None:
        """`:`: ask for a step number, then go there."""
        snap = self.snapshot
        if self.stepper is None or snap is None or self._refused_while_following():
            return
        from .screens.jump import JumpScreen  # loaded when first used, not at start

        self.prompting.settle()  # the held step reaches the class before the jump
        self.keys.open_screen(JumpScreen(snap), self._jump_to)

    def _jump_to(self, step: int | None) -> None:
        if step is None or self.stepper is None:
            if step is None:
                self._say(Message(Kind.STEP, _("No jump (cancelled).")))
            return
        self.session.run_command(Jump(step))
        self.frames.schedule()

    def action_toggle_follow(self) -> None:
        """t: explore alone from the teacher's step, or rejoin the teacher."""
        link = self.link
        if link is not None and link.following and not link.is_teacher:
            self.autoplay.stop()
        if self.session.toggle_follow():
            self.frames.schedule()

    def action_toggle_quiz(self) -> None:
        """Q: the quiz on or off (an open question is skipped, a class's revealed)."""
        self.prompting.toggle()

    def action_handout(self) -> None:
        """x: the session so far as a Markdown handout in the current directory."""
        if self.stepper is None or self.snapshot is None:
            return
        from . import handout  # loaded when first used, not at start

        tally = self.session.quiz.tally() if not self.served else None
        results = self.link.results if self.link is not None and self.link.is_teacher else None
        self._say(handout.write_handout(self.stepper, self.snapshot, tally, self.served, results))

    def action_svg_screenshot(self) -> None:
        """X: what the screen shows now, as an SVG file in the current directory."""
        from . import handout

        lesson = self.snapshot.lesson if self.snapshot is not None else "bptui"
        self._say(handout.write_screenshot(lesson, self.export_screenshot, self.served))

    def action_cycle_theme(self) -> None:
        """T: the next theme, said in the message line."""
        self._say(self.themes.cycle())

    def action_switch_language(self) -> None:
        """L: speak the next language (personal: nothing is sent to a class)."""
        set_language(next_language())
        self.retranslate()

    def retranslate(self) -> None:
        """Show every panel, the footer and any open help in the language spoken now."""
        from . import language  # loaded when first used, not at start

        # A note until the next step replaces it, as the classroom's are.
        note = self.session.note = language.switched_message()
        language.retranslate(self, note)
        self._check_size()  # the too-small notice
        self.refresh_bindings()  # the footer's words
        self.frames.schedule()

    def action_scroll_graph(self, columns: int, rows: int = 0) -> None:
        self.query_one(LessonView).scroll_graph(columns, rows)

    # The view's own keys (y, P): see LessonView.
    def action_graph_names(self) -> None:
        self.query_one(LessonView).toggle_names()

    def action_precise(self) -> None:
        self._say(self.query_one(LessonView).toggle_precise())


# Textual finds a key's action by its method's name: one for each engine action in keymap.
for _action in keymap.ENGINE_ACTIONS:
    setattr(BptuiApp, f"action_{_action}", keymap.engine_action(_action))


def run_app(lesson: Lesson, settings: Settings | None = None) -> int:
    """Run the stepper on ``lesson`` until the user quits; returns the exit code."""
    app = BptuiApp(lesson, settings=settings)
    exit_on_signals(app)
    app.run()
    return app.return_code or 0
