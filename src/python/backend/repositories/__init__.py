"""Data access: one repository per table, working in the caller's session (the caller commits)."""
