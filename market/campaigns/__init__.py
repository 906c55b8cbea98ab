"""Blueprint: campaigns (a city's go-digital drive), their progress and the city's report."""
