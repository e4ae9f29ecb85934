"""The schedule: rooms, slots, hosts and their availability, the builder and its exports."""
