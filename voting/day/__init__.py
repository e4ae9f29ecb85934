"""The day itself (contract 5.2): what is on now, stars, check-ins, shared notes, screens, proceedings."""
