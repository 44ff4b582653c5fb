"""The technician's phone app, served by the API process at `/app` (built from `app/` by npm + Vite)."""
