"""The built-in ops, one module per family: arithmetic, shape, elementwise, softmax."""
