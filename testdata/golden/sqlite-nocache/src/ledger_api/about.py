"""Project identity, shown on the home page and in logs."""

PROJECT_NAME = "ledger-api"
DESCRIPTION = "Tracks \"ledgers\" \\ {{ totals }} & ${{ secrets }}\n# not a heading: <b>ok</b>"
