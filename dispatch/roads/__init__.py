"""Road networks (issue 20): imported OpenStreetMap roads, snapping, road travel times and map geometry."""
