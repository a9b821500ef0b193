"""Comply or explain: an organization's stated reason and target date beside a level."""
