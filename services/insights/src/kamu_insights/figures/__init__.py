"""Programme figures: facts joined when asked for, small groups withheld."""
