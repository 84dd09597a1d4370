"""Project identity, shown on the home page and in logs."""

PROJECT_NAME = "staff-portal"
DESCRIPTION = "A secure-by-default Flask application"
