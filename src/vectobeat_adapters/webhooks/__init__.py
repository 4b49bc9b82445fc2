"""Webhook exports over HTTP: resolve and check a receiver's addresses (`resolve`), then send
signed events in order per guild (`sender`). The rules are in `vectobeat_core.webhooks` and
`vectobeat_core.webhook_targets`."""
