"""The evaluation harness of kvisa: gold Q&A files, metrics, reports with plots, and a naive baseline."""
