"""The command line's words: descriptions, examples and option help of ``bptui``.

Each is English marked with :func:`~bptui.i18n.N_`; :func:`bptui.cli.build_parser`
translates it when it builds the parser, in the language the command line speaks.
"""

from __future__ import annotations

from .i18n import N_

DESCRIPTION = N_(
    """\
Step through backpropagation live, on a real PyTorch tensor.

Without a command, bptui opens the stepper: the computational graph, the chain
rule, the tensor, the PyTorch code and a plot of loss against w, all updated one
micro-step at a time from the keyboard (press ? inside for help).
The default lesson is the note's: y_hat = x*w, loss = (x*w - y)^2, x = 1,2,3,
y = 2,4,6, w = 1.0, learning rate 0.01, 100 epochs."""
)

EPILOG = N_(
    """\
examples:
  bptui                          open the stepper on the default lesson
  bptui --lr 0.25                watch a learning rate that is too large diverge
  bptui --x -1,2,4 --y 3,0,-6 --init w=0.5
  bptui lessons                  list the built-in lessons
  bptui --lesson neuron --loss bce
  bptui my-lesson.toml           a lesson file (copy one from 'bptui lessons')
  bptui --model "tanh(x*w + b)" --init w=0.5,b=0
  bptui trace > trace.jsonl      every training step as JSON lines
  bptui trace --format md -o handout.md
  bptui serve --host 0.0.0.0     a whole class over SSH (ssh -p 2222 HOST)
  bptui --lang zh                the stepper in Chinese (default: the locale's)
"""
)

TRACE_DESCRIPTION = N_(
    """\
Run the lesson without the interface and write one record per training step:
the step, epoch and sample (1-based), x and y, the parameters before the update,
every node's value, the loss, each local derivative, the gradients, and the
parameters after the update. Numbers are torch's float32 values, written exactly."""
)


LESSON_OPTIONS = (
    (
        "--lesson",
        "NAME|FILE",
        N_(
            "a built-in lesson (see 'bptui lessons') or a lesson file "
            "(.toml); default: linear, the note's lesson"
        ),
    ),
    (
        "--model",
        "EXPR",
        N_(
            'your own model over x and parameters, e.g. "sigmoid(x*w + b)"; '
            "functions: {functions}; operators + - * / **. Parameters not in --init "
            "start at 1.0"
        ),
    ),
    ("--x", "LIST", N_("inputs, comma-separated (default: 1,2,3)")),
    ("--y", "LIST", N_("targets, one per input (default: 2,4,6)")),
    ("--init", "NAME=VALUE,...", N_("initial parameter values (default: w=1.0)")),
    ("--lr", "RATE", N_("learning rate, greater than 0 (default: 0.01)")),
    ("--epochs", "N", N_("passes over the data (default: 100)")),
)


SERVE_DESCRIPTION = N_(
    """\
Serve the lesson to a whole class over SSH. Students need nothing installed:
each types  ssh -p 2222 HOST  and gets the stepper in their own terminal, their
own lesson computed by torch on this machine. With --teacher-password, the
user name 'teacher' logs in with that password and every student follows the
teacher's steps live; a student presses t to explore alone and t again to
rejoin. Ctrl+C ends the class."""
)

SERVE_EPILOG = N_(
    """\
examples:
  bptui serve --host 0.0.0.0                     an open class on port 2222
  bptui serve --host 0.0.0.0 --teacher-password s3cret --lesson affine
  bptui serve --host 0.0.0.0 --password backprop --max-sessions 40
then students type:  ssh -p 2222 HOST   (HOST: this machine's name or address)
"""
)

SERVE_OPTIONS = (
    (
        "--host",
        "ADDR",
        N_(
            "address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 lets the class in)"
        ),
    ),
    ("--port", "N", N_("port to listen on (default 2222; 0 picks a free one)")),
    (
        "--host-key",
        "FILE",
        N_("the server's private host key (default: made once and kept in ~/.local/share/bptui/)"),
    ),
    (
        "--max-sessions",
        "N",
        N_("students at once (default 100); one more is told the class is full"),
    ),
    (
        "--per-address",
        "N",
        N_(
            "sessions from one address (default: as many as --max-sessions, since a "
            "class behind NAT shares one address; lower it when each student has their own)"
        ),
    ),
    (
        "--max-connecting",
        "N",
        N_(
            "connections without a session running (logging in, or asking for "
            "nothing), at most N at once (default 100); past it the oldest from "
            "the busiest address is closed"
        ),
    ),
    (
        "--idle-timeout",
        "MIN",
        N_(
            "close a session after this many minutes without a key press "
            "(default 60; following the teacher counts as active)"
        ),
    ),
    ("--password", "PW", N_("one shared class password (default: no password)")),
    (
        "--authorized-keys",
        "FILE",
        N_("admit only these public keys (an authorized_keys file)"),
    ),
    (
        "--teacher-password",
        "PW",
        N_("enable follow mode: user 'teacher' with this password drives every student's lesson"),
    ),
    (
        "--web",
        "PORT",
        N_(
            "also serve the class to browsers on this port: a page with the terminal "
            "(for students without ssh; 0 picks a free port)"
        ),
    ),
    ("--web-cert", "FILE", N_("the page over HTTPS: the certificate (PEM), with --web-key")),
    ("--web-key", "FILE", N_("the page over HTTPS: the certificate's private key (PEM)")),
)
