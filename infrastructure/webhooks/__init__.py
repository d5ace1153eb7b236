"""Webhook delivery: sealed secrets, address checks, Standard Webhooks signatures, the deliverer."""
