"""Regression tests for the trust issue (#12): each holds a hole a probe found closed."""
