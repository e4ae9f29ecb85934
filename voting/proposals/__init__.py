"""Proposals: submitting, editing, moderating, merging, and the one ranking rule."""
