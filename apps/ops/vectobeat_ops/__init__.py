"""The VectoBeat ops shell."""
