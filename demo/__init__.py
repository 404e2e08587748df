"""The demo: seed_demo and generate_traffic. The top app: it imports the others, none imports it."""
