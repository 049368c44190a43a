"""The case loop (一网统管): lifecycle, deadlines, reference data. Pure cores first."""
