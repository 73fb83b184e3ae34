"""The command lines behind `python -m bot …` (drafts, data, outbox, probe)."""
