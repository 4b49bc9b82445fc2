"""The VectoBeat panel shell."""
