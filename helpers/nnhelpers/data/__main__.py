"""`python -m nnhelpers.data`: fetch MNIST (or Fashion-MNIST) into the user cache."""

from nnhelpers.data import main

main()
