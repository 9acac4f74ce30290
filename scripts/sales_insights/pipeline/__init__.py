"""Loading the raw data, building and publishing the warehouse, and the state of those jobs."""
