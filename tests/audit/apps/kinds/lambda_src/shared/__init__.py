"""Helpers of the kinds app."""
