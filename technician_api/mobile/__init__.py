"""What the technician's phone app needs beyond the jobs: its configuration, the day's end, a live stream."""
