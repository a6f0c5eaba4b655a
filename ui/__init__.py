"""The web chat: a Gradio app over the Assistant and the ingest pipeline."""
