"""Local mode only: embedded AWS stand-ins on loopback. Never imported in production."""
