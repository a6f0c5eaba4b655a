"""kvisa: cited answers about China's K visa and US H-1B policy from a local corpus."""

__version__ = "0.1.0"
