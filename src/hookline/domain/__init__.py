"""Pure domain code: no framework, no driver, no clock that is not handed in."""
