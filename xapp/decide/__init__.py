"""Decisions: the micro-batcher and the predictors behind one interface."""
