"""Uniform's use cases (writes): ``gifts`` (items, packs, the intake's gifts), ``requests`` (coats, shoes
and uniform for need) and ``stock``."""
