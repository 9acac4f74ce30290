"""What the marts become for people: CSV exports, the HTML report, the shortlist, SQL access."""
