"""``bptui trace``: run a lesson headless and write one record per training step.

The records are the engine's, written as JSON lines, CSV or a Markdown table.
Floats are written exactly (``repr`` of ``tensor.item()``), so the default run's
``params.w`` and ``loss`` columns equal the note's recorded numbers.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO

from .i18n import N_, _, ngettext
from .i18n import _ as translate
from .lesson import words
from .lesson.narration import epochs_trained
from .lesson.spec import Lesson
from .lesson.timeline import StepRecord
from .lesson.values import all_finite, format_plain, format_value

if TYPE_CHECKING:
    from .lesson.engine import Stepper

FORMATS = ("jsonl", "csv", "md")


def _json_number(value: float | None) -> float | str | None:
    """JSON has no inf or NaN: write them as the strings "inf", "-inf", "nan"."""
    if value is None or math.isfinite(value):
        return value
    return format_value(value)


def _diverged(record: StepRecord) -> bool:
    return not all_finite([record.loss, *record.params_after.values()])


def _json_ready(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _json_ready(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_json_ready(value) for value in data]
    if isinstance(data, float):
        return _json_number(data)
    return data


def write_jsonl(records: Iterable[StepRecord], out: TextIO) -> None:
    for record in records:
        row = _json_ready(record.to_dict())
        row["diverged"] = _diverged(record)
        out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _flat(record: StepRecord) -> dict[str, Any]:
    row: dict[str, Any] = {
        "step": record.step,
        "epoch": record.epoch,
        "sample": record.sample,
        "x": record.x,
        "y": record.y,
        "loss": record.loss,
    }
    for prefix, values in (
        ("param", record.params),
        ("grad", record.grads),
        ("param_after", record.params_after),
        ("node", record.nodes),
        ("factor", record.factors),
    ):
        for name, value in values.items():
            row[f"{prefix}_{name}"] = value
    row["diverged"] = _diverged(record)
    return row


def _cell(value: Any) -> Any:
    """A CSV cell: floats exactly; a vector or matrix as JSON ([[1.0, 2.0], …])."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return json.dumps(_json_ready(value))
    return value


def write_csv(records: Iterable[StepRecord], out: TextIO) -> None:
    writer = None
    for record in records:
        row = _flat(record)
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(row), lineterminator="\n")
            writer.writeheader()
        writer.writerow({k: _cell(v) for k, v in row.items()})


#: The phases of a training step, as the Markdown trace names them.
_PHASE_NAMES = {
    "forward": N_("forward"),
    "backward": N_("backward"),
    "update": N_("update"),
    "zero": N_("zero"),
}


def write_markdown(
    records: Iterable[StepRecord], out: TextIO, lesson: Lesson, empty: str | None = None
) -> None:
    """A Markdown table of the run, its headings and prose in the language spoken;
    ``empty``: what to write instead of a table without a row, if anything."""
    names = lesson.param_names
    nodes = [node for node in lesson.nodes if node.name != lesson.loss.name]
    head = [_("step"), _("epoch"), _("sample"), "x", "y", *names, *(n.label for n in nodes)]
    head += [_("loss"), *(f"{n}.grad" for n in names)]
    head += [_("{name} after").format(name=n) for n in names]
    out.write(f"# {words.title(lesson)}\n\n")
    epochs = epochs_trained(lesson.epochs)()
    samples = ngettext("{n} sample per epoch", "{n} samples per epoch", lesson.n_samples)
    out.write(
        _("lr = {lr}, {epochs}, {samples}; loss = {loss}").format(
            lr=f"{lesson.lr:g}",
            epochs=epochs,
            samples=samples.format(n=lesson.n_samples),
            loss=lesson.expression(),
        )
        + "\n\n"
    )
    # The lesson file's [narration]: one line for each phase of a training step.
    said = [(p, words.narration(lesson, p)) for p in _PHASE_NAMES]
    if any(text for _phase, text in said):
        for phase, text in said:
            if text:
                out.write(f"- **{translate(_PHASE_NAMES[phase])}**: {text}\n")
        out.write("\n")
    diverged = _(" (diverged)")
    records = list(records)
    if not records and empty is not None:
        out.write(empty + "\n")
        return
    out.write("| " + " | ".join(head) + " |\n")
    out.write("|" + "---:|" * len(head) + "\n")
    for r in records:
        cells = [str(r.step), str(r.epoch), str(r.sample), format_plain(r.x), format_plain(r.y)]
        cells += [format_plain(r.params[n]) for n in names]
        cells += [format_plain(r.nodes[n.name]) for n in nodes]
        cells.append(format_plain(r.loss))
        cells += [format_plain(r.grads[n]) for n in names]
        cells += [format_plain(r.params_after[n]) for n in names]
        if _diverged(r):
            cells[-1] += diverged
        out.write("| " + " | ".join(cells) + " |\n")


def run_trace(lesson: Lesson, out: TextIO, fmt: str = "jsonl") -> Stepper:
    """Run ``lesson`` to its end and write its records to ``out``."""
    from .lesson.engine import Stepper  # torch is imported here, when the run starts

    stepper = Stepper(lesson)
    # Each record is written as soon as its step is done, and then forgotten:
    # memory stays flat however many steps the run has.
    records = stepper.stream_records()
    if fmt == "jsonl":
        write_jsonl(records, out)
    elif fmt == "csv":
        write_csv(records, out)
    elif fmt == "md":
        write_markdown(records, out, lesson)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return stepper
