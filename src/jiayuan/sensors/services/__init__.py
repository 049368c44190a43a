"""Every write of the sensors app goes through these services."""
