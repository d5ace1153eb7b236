"""Reads on hot standbys: which replicas are healthy (health.py, state.py, probe.py), where a
read goes (routing.py), and the Consistency-Token positions that give read-your-writes
(consistency.py)."""
