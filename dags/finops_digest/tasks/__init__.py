"""The DAGs' task bodies, one module per stage; each task calls one function here by name."""
