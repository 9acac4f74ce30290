"""`python -m sales_insights.cli`: the same as the `sales-insights` command."""

from sales_insights.cli import main

main()
