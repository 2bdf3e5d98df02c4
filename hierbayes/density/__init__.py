"""The model's log-density compiled once per machine (numba), and sampling it with nutpie."""
