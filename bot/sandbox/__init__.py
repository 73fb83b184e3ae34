"""A local messenger to try the front office without a token: `python -m bot sandbox`.

`fakebotapi` is the fake Telegram / Bale Bot API server the e2e tests use; `run` starts it, the
real bot against it (embedded SQLite, the shipped routing_rules.yaml) and `web`, a Persian
right-to-left page where a person plays a citizen, a unit's staff group and the head's office.
"""
