"""backcheck: a symptom-check bot for back pain with tingling toes."""

__version__ = "0.1.0"
