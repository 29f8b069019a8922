"""What leaves the dashboard as a text or a file: the press release (and its chart)."""
