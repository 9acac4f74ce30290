"""sales-insights: Shopify orders and GA4 events turned into funnel, CLV and experiment marts."""

__version__ = "0.1.0"
