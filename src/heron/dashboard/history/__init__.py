"""The dashboard's History page: trends, capacity forecasts, cost, optimization advice, export."""
