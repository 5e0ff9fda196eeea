"""The classroom's shared language: what a session's app and the server say to each other."""
