"""Layer 3, model selection: regularization paths, cross-validation, stability selection,
calibration slopes and the L1/L2/elastic-net recommendation. Built on :mod:`regulab.solvers` and
:mod:`regulab.core`; never on the data files, the report or the user faces."""
