"""The web console: a static single-page app served at `/` (see docs/console.md)."""
