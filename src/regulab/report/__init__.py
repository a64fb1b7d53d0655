"""Layer 5, report: the claims (each an experiment: measure -> predictions -> words), their
figures (:mod:`~regulab.report.plots`, pure functions of the results) and the report writer
(:mod:`~regulab.report.writer`); :mod:`~regulab.report.explain` runs them all."""
