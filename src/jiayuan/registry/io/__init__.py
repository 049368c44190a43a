"""Import and export of the registry (底数) as spreadsheets.

``spec`` declares the sheets and columns, ``parse`` validates tables into records and lists
every problem, ``files`` reads and writes .xlsx/.csv — those three are pure. ``service`` is the
Django side: ``import_file``/``import_registry`` and ``export_file``/``export_registry``.
"""
