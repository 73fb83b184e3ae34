"""Background work: the outbox delivery loop and the scheduler's jobs."""
