"""Hostile-input tests: damaged and oversized inputs return or raise GosymError, within time and memory bounds."""
