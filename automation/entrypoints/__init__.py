"""Ways to run the features: the GitHub App webhook server (webhook.py)."""
