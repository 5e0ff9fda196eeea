"""The bptui application: the panels, the keys, and the engine behind them.

The app owns the :class:`~bptui.lesson.engine.Stepper` (the only object that
holds tensors) and hands the panels frozen snapshots. torch is imported in a
worker thread after the first frame, so the window appears at once; keys
pressed while it loads are kept and run when it is ready. Keys change the
engine immediately, while drawing is throttled to about 30 frames a second, so
key repeat and fast autoplay never leave the screen behind.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Static

from .. import glyphs
from ..classroom.protocol import Edit, Step
from ..i18n import N_, _, set_language
from ..lesson.snapshot import Kind, Message, PlotCurve, Snapshot
from ..lesson.spec import Lesson, LessonError
from . import startup
from .autoplay import FRAME, AutoplayKeys
from .chain import ChainPanel
from .code import CodePanel
from .follow import LESSON_KEYS
from .footer import KeyFooter
from .graph import GraphBox, GraphKeys, GraphPanel
from .handout import HandoutKeys
from .keymap import BINDINGS, BY_ACTION, ENGINE_ACTIONS, ENGINE_LABELS, STEPPING
from .language import LanguageKeys
from .message import MessageBar
from .plainterm import PlainTerminal
from .plot import LossPlot, Reference
from .quiz import QuizKeys, QuizPrompt
from .rooms import NarratedApp, ThemeKeys
from .settings import Settings
from .signals import exit_on_signals
from .sizes import MIN_HEIGHT, MIN_WIDTH, screen_classes
from .status import StatusBar
from .tensor import TensorPanel
from .zoom import cycle_zoom

if TYPE_CHECKING:
    from ..lesson.engine import Stepper
    from .classlink import ClassLink
    from .edit import Edits

#: Idle time after a key's frame, for the terminal writer, before the plot is drawn.
AFTER_FRAME = 0.003
#: Allocations between automatic young collections once torch is loaded.
GC_THRESHOLD = 50_000
#: Frames between full collections (a few ms each, after a frame, torch frozen).
FULL_GC_EVERY = 20

TextPanels = tuple[StatusBar, GraphPanel, ChainPanel, TensorPanel, CodePanel, MessageBar]


class BptuiApp(
    LanguageKeys,
    QuizKeys,
    HandoutKeys,
    ThemeKeys,
    GraphKeys,
    AutoplayKeys,
    PlainTerminal,
    NarratedApp,
):
    """Step through one lesson's training loop, every number from torch."""

    CSS_PATH = "app.tcss"
    TITLE = "bptui"
    ENABLE_COMMAND_PALETTE = False

    BINDINGS = list(BINDINGS)
    """Every key; the footer shows the common ones and `?` explains all."""

    def __init__(
        self,
        lesson: Lesson,
        stepper: Stepper | None = None,
        settings: Settings | None = None,
        link: ClassLink | None = None,
    ):
        super().__init__()
        self.lesson = lesson
        self.stepper: Stepper | None = stepper
        #: In a classroom (``bptui serve`` with a teacher): the line to the server.
        self.link = link
        #: A classroom note shown until the next step replaces it.
        self._note: Message | None = None
        self.snapshot: Snapshot | None = None
        #: How this session looks and speaks (--ascii, …; see settings.py).
        self.settings = settings or Settings()
        set_language(self.settings.language)  # L switches it (see language.py)
        self.plain_terminal()
        self._pending: list[str] = []
        # Keys pressed before the lesson is first drawn run once it is (see keyhold.py).
        self.hold_keys("lesson")
        self._render_timer: Any = None
        self._last_render = 0.0
        self._keys_state: tuple[bool, bool, bool, bool] | None = None
        self._plot_due = False
        self._text_panels: TextPanels | None = None
        self._gc_threshold: tuple[int, int, int] | None = None

    # ------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield StatusBar(N_("Loading PyTorch…"), id="status")
            with GraphBox(id="graph-box") as box:
                box.border_title = _("Graph")
                yield GraphPanel(id="graph", ascii_only=self.settings.ascii_only)
            with Horizontal(id="middle"):
                yield ChainPanel(id="chain")
                yield TensorPanel(id="tensor")
            with Horizontal(id="bottom"):
                yield CodePanel(id="code")
                yield LossPlot(id="plot")
            yield MessageBar(id="message")
            yield QuizPrompt(id="quiz")
        yield Static(id="too-small")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._check_size()
        self._join_class()
        if self.stepper is None:
            # After the first paint: the import holds the GIL and would delay it.
            self.call_after_refresh(self._load_engine)
        else:
            self._engine_ready(self.stepper)

    def on_unmount(self) -> None:
        if self._gc_threshold is not None:
            gc.set_threshold(*self._gc_threshold)  # the process may outlive the app

    def on_resize(self, event: events.Resize) -> None:
        # This handler runs before App's own, so self.size is still the old size.
        self._check_size(event.size.width, event.size.height)

    def get_default_screen(self) -> Screen[Any]:
        classes = screen_classes(*self.size)  # before the first layout (see sizes.py)
        return Screen(id="_default", classes=" ".join(n for n, on in classes.items() if on))

    def _check_size(self, width: int | None = None, height: int | None = None) -> None:
        if width is None or height is None:
            width, height = self.size
        self.screen.update_classes(screen_classes(width, height))
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        if small:
            self.query_one("#too-small", Static).update(
                _(
                    "Enlarge the terminal to at least {min_width}×{min_height} "
                    "(it is {width}×{height}).\n\nq quits."
                ).format(min_width=MIN_WIDTH, min_height=MIN_HEIGHT, width=width, height=height)
            )

    # ------------------------------------------------------------- engine

    @work(thread=True, exclusive=True, group="engine")
    def _load_engine(self) -> None:
        """Import torch off the event loop: the first frame does not wait for it."""
        from ..lesson.engine import Stepper

        try:
            stepper = Stepper(self.lesson, labels=ENGINE_LABELS)
        except LessonError as error:  # found once torch runs the model (shapes)
            self.call_from_thread(self.exit, None, 2, f"bptui: error: {error}")
            return
        self.call_from_thread(self._engine_ready, stepper)

    def _engine_ready(self, stepper: Stepper) -> None:
        self.stepper = stepper
        self._narrate(stepper)
        # torch brings ~170,000 long-lived objects; without this, a full garbage
        # collection over them (0.1–0.2 s) lands on every tenth key or so.
        gc.freeze()
        # A key allocates a few thousand objects, so young collections (and now
        # and then an older one, ~1.5 ms) fell in the middle of drawing a key's
        # frame. Collect in the pause after each frame instead; the high
        # threshold only stops collections that would interrupt one.
        if self._gc_threshold is None:
            self._gc_threshold = gc.get_threshold()
            gc.set_threshold(GC_THRESHOLD, *self._gc_threshold[1:])
        pending, self._pending = self._pending, []
        for action in pending:
            self._step(action)
        self._render_now()

    def _step(self, action: str) -> None:
        if self._refused_while_following():
            return
        if self.stepper is None:
            self._pending.append(action)
            return
        if self.quiz_step(action):  # quiz mode: asks before the step is shown
            return
        self.run_command(Step(action))

    def _schedule_render(self) -> None:
        if self._render_timer is not None:
            return
        wait = self._last_render + FRAME - time.monotonic()
        if wait <= 0:
            self._render_now()
        else:
            self._render_timer = self.set_timer(wait, self._render_now)

    def _render_now(self) -> None:
        self._render_timer = None
        self._last_render = time.monotonic()
        if self.stepper is None or self.quiz_holds():
            return
        if self._text_panels is None and not self._find_panels():
            # Not all mounted yet (a loaded machine can run this from on_mount
            # before the nested panels are in the DOM): draw after the next refresh.
            self.call_after_refresh(self._schedule_render)
            return
        self.stepper.watching = self._following()
        snap = glyphs.plain(self.stepper.snapshot())  # in ASCII mode, its text in ASCII
        self.snapshot = snap
        # Stop autoplay before drawing, so the status bar no longer shows it playing.
        if (
            self._autoplay is not None
            and snap.message is not None
            and (snap.finished or snap.message.kind in (Kind.DIVERGED, Kind.REFUSED))
        ):
            self._stop_autoplay()
        status, graph, chain, tensor, code, message = self._panels()
        status.show(snap, self._autoplay_label(), self._class_badge(), self.quiz_score())
        graph.show(snap)
        chain.show(snap)
        tensor.show(snap)
        code.show(snap)
        message.show(self._note or snap.message, None if self._note else snap.narration)
        if not self._plot_due:
            # The plot goes in the next frame: the figure takes a few ms and the
            # loss curve runs the model 61 times, and the numbers should not
            # wait for either before they appear.
            self._plot_due = True
            self.call_after_refresh(self._after_frame)
        keys_state = (snap.can_undo, snap.finished, self._autoplay is not None, self._following())
        if keys_state != self._keys_state:
            # The footer rebuilds itself on every refresh_bindings(): only when it changes.
            self._keys_state = keys_state
            self.refresh_bindings()

    def _panels(self) -> TextPanels:
        """The text panels, looked up once (a DOM query on every key adds up)."""
        if self._text_panels is None and not self._find_panels():
            raise RuntimeError("the panels are not mounted yet")
        assert self._text_panels is not None
        return self._text_panels

    def _find_panels(self) -> bool:
        """Look the text panels up; False while some are not mounted yet."""
        try:
            self._text_panels = (
                self.query_one(StatusBar),
                self.query_one(GraphPanel),
                self.query_one(ChainPanel),
                self.query_one(TensorPanel),
                self.query_one(CodePanel),
                self.query_one(MessageBar),
            )
        except NoMatches:
            return False
        return True

    def _after_frame(self) -> None:
        # The frame has been handed to the driver's writer thread, which needs
        # the GIL to write it: the event loop idles for a moment first, or the
        # work below would hold the frame back by up to the interpreter's
        # 5 ms switch interval.
        startup.first_frame_out()
        if self.snapshot is not None:
            self.release_keys("lesson")  # `:299` or `?` typed while PyTorch loaded
        self.set_timer(AFTER_FRAME, self._show_plot)

    def _show_plot(self) -> None:
        plot = next(iter(self.query(LossPlot)), None)
        if plot is None:  # the app is closing (a test's short run, a session's end)
            self._plot_due = False
            return
        if not plot.plotted and startup.put_off(self, self._show_plot):
            return  # a class joining at once: every student's numbers before any plot
        self._plot_due = False
        # After the key's frame is out (see _engine_ready): the young generations
        # each time, and every so often all of them, since the frame's own timers
        # and messages are still alive here and die in the oldest generation
        # (~200 objects in cycles per key: without this, memory grew 3 MB/s in
        # autoplay until Python's own rule for a full collection caught up).
        if plot.plotted:  # not on the first plot, while a session starts: ~5 ms, little to free
            gc.collect(2 if gc.get_count()[2] >= FULL_GC_EVERY else 1)
        snap = self.snapshot
        if snap is not None:
            plot.show(snap, self._loss_curve(snap), self._reference(snap))

    def _reference(self, snap: Snapshot) -> Reference | None:
        """In skip-zero or batch mode: the plain per-sample run, as far as this one got."""
        assert self.stepper is not None
        return self.stepper.comparison(snap)

    def _loss_curve(self, snap: Snapshot) -> PlotCurve:
        """This sample's loss as a function of the first parameter, computed by torch."""
        assert self.stepper is not None
        return self.stepper.plot_curve(snap)

    # ------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out keys that cannot do anything now (the footer follows)."""
        if action in LESSON_KEYS and self._following():
            return False  # the teacher's lesson: hidden, and on_key says why
        snap = self.snapshot
        if action == "undo" and snap is not None and not snap.can_undo:
            return None
        if action in ("faster", "slower") and self._autoplay is None:
            return None
        if action == "toggle_follow":
            # Only a student in a classroom with a teacher has anyone to follow.
            return self.link is not None and not self.link.is_teacher
        if snap is not None and snap.finished and action in STEPPING:
            return None
        return True

    def action_cycle_plot(self) -> None:
        self.query_one(LossPlot).cycle()

    def action_cycle_zoom(self) -> None:
        cycle_zoom(self.screen)

    def action_edit(self) -> None:
        """Open the form for lr, parameters and data (at the start of a training step)."""
        snap = self.snapshot
        if self.stepper is None or snap is None:
            return
        if self._refused_while_following():
            return
        if snap.finished:
            self.query_one(MessageBar).show(
                Message(
                    Kind.REFUSED,
                    _(
                        "The lesson is finished: there is no next step to change. "
                        "r starts it again (and ← undoes that)."
                    ),
                )
            )
            return
        if not self.stepper.can_edit():
            self.query_one(MessageBar).show(
                Message(
                    Kind.REFUSED,
                    _(
                        "Values can change at the start of a training step: finish this one "
                        "first (s), then press E."
                    ),
                )
            )
            return
        from .edit import EditScreen  # loaded when first used: not on the first frame's path

        lesson = self.stepper.lesson
        self.open_screen(EditScreen(snap, lesson), self._apply_edits)

    def _apply_edits(self, edits: Edits | None) -> None:
        if edits is None or self.stepper is None:
            return
        command = Edit(
            lr=edits.lr,
            params=edits.params,
            x=list(edits.x) if edits.x else None,
            y=list(edits.y) if edits.y else None,
        )
        try:
            self.apply_command(command)
        except LessonError as error:
            self.query_one(MessageBar).show(
                Message(Kind.REFUSED, _("Not changed: {error}").format(error=error))
            )
            return
        self.send_command(command)
        self._schedule_render()

    def action_cycle_chain(self) -> None:
        """c: write out the next parameter's chain (or say why there is no other)."""
        snap = self.snapshot
        if snap is not None and len(snap.chains) < 2 and not any(c.elements for c in snap.chains):
            text = (
                _("This lesson has one parameter: its chain rule is the one shown.")
                if snap.chains
                else _("The chain rule appears once the backward pass reaches a parameter (b).")
            )
            self.query_one(MessageBar).show(Message(Kind.STEP, text))
            return
        self.query_one(ChainPanel).cycle()
        self.query_one(TensorPanel).point_at(*self.query_one(ChainPanel).selection())

    def action_help(self) -> None:
        from .help import HelpScreen  # Markdown is slow to import: not on the first frame's path

        # The lesson as it is now: an edit changes its learning rate or data.
        lesson = self.stepper.lesson if self.stepper else self.lesson
        self.open_screen(HelpScreen(lesson, self.snapshot))


def _engine_action(action: str) -> Callable[[BptuiApp], None]:
    """The action of a key that steps the engine (``next``, ``undo``, ``reset``, …)."""

    def run(self: BptuiApp) -> None:
        self._step(action)

    run.__name__ = run.__qualname__ = f"action_{action}"
    run.__doc__ = f"{' '.join(BY_ACTION[action].labels)}: {BY_ACTION[action].description}."
    return run


# Textual finds a key's action by its method's name: one for each engine action in keymap.
for _action in ENGINE_ACTIONS:
    setattr(BptuiApp, f"action_{_action}", _engine_action(_action))


def run_app(lesson: Lesson, settings: Settings | None = None) -> int:
    """Run the stepper on ``lesson`` until the user quits; returns the exit code."""
    app = BptuiApp(lesson, settings=settings)
    exit_on_signals(app)
    app.run()
    return app.return_code or 0
