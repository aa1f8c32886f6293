"""numba-compiled inner loops: plain arrays in, arrays updated in place."""
