"""SQLAlchemy models and repositories of the LRS."""
