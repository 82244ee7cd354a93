"""HTTP transport: translate requests into service calls and errors into responses."""
