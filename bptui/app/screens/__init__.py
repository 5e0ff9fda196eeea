"""What opens over the lesson and takes the keys for a while: help, the jump and
edit forms, the quiz's prompt."""
