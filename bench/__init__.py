"""Benchmarks that print figures (`make bench`); see bench/__main__.py for the conventions."""
