"""Events and who takes part: organizers, attendees and badges, rounds, the organizer console and the stage."""
