"""The AWS adapters (one per service), the client factory and the Protocols the jobs depend on (ports)."""
