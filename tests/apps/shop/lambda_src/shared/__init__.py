"""Helpers every function of the shop app shares."""
