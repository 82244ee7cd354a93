from __future__ import annotations

from hypothesis import settings

# Properties assert outcomes, never speed: an example that runs slowly on a busy machine
# must not fail the suite (timing belongs in bench/).
settings.register_profile("hookline", deadline=None)
settings.load_profile("hookline")
