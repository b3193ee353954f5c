"""The driver: operations and their gates, the Automation API (engine, events, signals) and the
preflight. It reaches live AWS through `automation.live`, and the offline rules only through the
gate it owns (`Preflight.rules`, a callable the CLI hands in)."""
