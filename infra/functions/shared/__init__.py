"""What every function shares: the event envelope, the gateway client, idempotency, settings."""
