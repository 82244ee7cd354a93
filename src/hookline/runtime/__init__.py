"""Long-running parts: the delivery worker, its sender, wake-ups and metrics."""
