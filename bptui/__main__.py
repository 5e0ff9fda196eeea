"""``python -m bptui`` runs the same command as ``bptui``."""

from bptui.cli import main

raise SystemExit(main())
