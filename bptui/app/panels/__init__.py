"""The panels: each draws a part of the lesson's snapshot, and nothing else."""
