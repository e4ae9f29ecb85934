"""Plumbing every domain shares: errors, HTTP middleware, origins, rate limits, CSV, worker threads."""
