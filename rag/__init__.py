"""Retrieve, answer, cite: the public entry point is `rag.assistant.get_assistant(settings)`."""
