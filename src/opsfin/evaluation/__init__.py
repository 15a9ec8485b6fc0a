"""Measuring engines against the demo company's ground truth (`truth/`), which only evaluation reads."""
