"""Serving the debugger in a browser (textual-serve) and over SSH (asyncssh)."""
