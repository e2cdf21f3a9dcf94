"""Modal screens: help and prompts."""
