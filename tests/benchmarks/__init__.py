"""Benchmarks that print figures (`make bench`). Not collected by pytest."""
