"""UI logic shared by the pages: message catalog, formatting, filters in the URL, cached data."""
