"""The VectoBeat bot shell."""
