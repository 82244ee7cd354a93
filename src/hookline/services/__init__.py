"""Use cases. Routers and the CLI call these; these call repositories and the domain."""
