"""The MCP connectors: calling the GA4 and Shopify servers and landing their extracts."""
