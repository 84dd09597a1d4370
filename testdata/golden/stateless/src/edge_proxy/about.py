"""Project identity, shown on the home page and in logs."""

PROJECT_NAME = "edge-proxy"
DESCRIPTION = "A secure-by-default Flask application"
