"""Project identity, shown on the home page and in logs."""

PROJECT_NAME = "status-page"
DESCRIPTION = "A secure-by-default Flask application"
