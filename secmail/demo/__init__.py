"""Demo and benchmark data, kept out of the product: the demo industry and a synthetic one."""
