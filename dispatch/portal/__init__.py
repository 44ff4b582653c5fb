"""The customer portal: sign-in by one-time link, home, web complaints, ticket pages, tracking links, settings."""
