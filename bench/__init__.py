"""Benchmarks: scripts anyone can run; they report numbers and never pass or fail."""
