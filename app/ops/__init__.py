"""Operational endpoints: liveness, readiness, metrics and the API document."""
