"""vectobeat_testkit: protocol-faithful fakes (Lavalink v4, Discord, Stripe) as real loopback servers.

Used by VectoBeat's own tests and by anyone developing on VectoBeat without Discord or Lavalink.
"""
