"""Data layer: schema, connection, dialect helpers and one query per module. Never imports streamlit."""
