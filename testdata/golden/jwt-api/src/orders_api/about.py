"""Project identity, shown on the home page and in logs."""

PROJECT_NAME = "orders-api"
DESCRIPTION = "A secure-by-default Flask application"
