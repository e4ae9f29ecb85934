"""The live feed: versioned snapshots and tallies, coalesced and fanned out to every socket."""
