"""Expose the product as a WSGI app for gunicorn (`gunicorn lti_tool.wsgi:app`)."""

from lti_tool import create_app

app = create_app()
