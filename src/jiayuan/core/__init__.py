"""Small shared pieces every domain app uses: domain errors and personal-data masking."""
