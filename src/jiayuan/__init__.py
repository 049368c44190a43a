"""家园 Jiayuan: an open platform for grassroots community governance."""

__version__ = "0.1.0"
