"""Votes: the dots, the ledger that records every change, and the fast vote path."""
