"""The public pages shoppers see."""
