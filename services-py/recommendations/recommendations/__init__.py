"""recommendations: products bought together, counted from confirmed orders."""
