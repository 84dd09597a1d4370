"""Project identity, shown on the home page and in logs."""

PROJECT_NAME = "demo"
DESCRIPTION = "A secure-by-default Flask application"
