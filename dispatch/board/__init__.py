"""The dispatcher board: live event stream, read models for queue/schedule/map, reports, and the static page."""
