"""Services: the ingest cycle, the publisher/outbox loop and subscription fan-out."""
