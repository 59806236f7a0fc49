"""The built-in ops, one module per family: arithmetic, shape, elementwise, softmax, minmax
(maximum, minimum, max, min), select (where, clip), split, and no_gradient (argmax, argmin).
"""
