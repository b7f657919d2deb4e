"""The demo organisation (:mod:`.story`), loaded over the services' APIs (:mod:`.load`)."""
