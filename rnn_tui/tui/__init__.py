"""The Textual app: the debugger screen, its widgets and screens."""
