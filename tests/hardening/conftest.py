from hardening_helpers import small_catalogue  # noqa: F401  (fixture)
