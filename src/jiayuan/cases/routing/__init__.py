"""Case routing: where a case is, what it is about, and who should take it.

Pure engines, no Django: ``classifier`` (text → category, scikit-learn), ``keywords`` (the
editable fallback), ``suggest`` (model + keywords + threshold → a suggestion or manual triage),
``address`` (address text → compound, rapidfuzz), ``table`` (category + place → responsible
unit), ``synthetic`` (deterministic work-order texts for tests, demo and bench), ``io`` and
``cli`` (training and evaluating from an imported history). See docs/case-routing.md.
"""
