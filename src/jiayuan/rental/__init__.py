"""Rental-housing oversight (issue #17). This slice: the pure rules engine (:mod:`.engine`),
spreadsheet reading and writing (:mod:`.io`) and ``jiayuan rental check``. See
docs/rental-rules.md."""
