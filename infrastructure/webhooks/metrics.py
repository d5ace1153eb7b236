"""What the deliverer reports: deliveries by outcome and their duration, the retry queue, and
the age of the oldest event an enabled endpoint has not been sent yet (docs/monitoring)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_SECONDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class DeliveryMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "webhook_deliveries", "Webhook calls by outcome", ["outcome"], registry=registry
        )
        self.duration = Histogram(
            "webhook_delivery_seconds", "Webhook call duration", buckets=_SECONDS, registry=registry
        )
        self.retry_queue = Gauge(
            "webhook_retry_queue_depth",
            "Enabled endpoints waiting for a retry of a failed delivery",
            registry=registry,
        )
        self.oldest_undelivered = Gauge(
            "webhook_oldest_undelivered_event_age_seconds",
            "Age of the oldest event an enabled endpoint has not been sent yet",
            registry=registry,
        )

    def observe(self, ok: bool, duration_ms: int) -> None:
        self.deliveries.labels("succeeded" if ok else "failed").inc()
        self.duration.observe(duration_ms / 1000)
