"""Helpers the test modules share (imported as ``support.<module>``)."""
