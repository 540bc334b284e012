"""Stonkmarket: finds stocks trading well below their recent peak."""
