"""Kamu's common library: mechanisms every service shares, never business nouns."""
