"""Pure builders: typed config in, troposphere objects out."""
