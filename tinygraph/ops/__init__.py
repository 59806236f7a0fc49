"""The built-in ops, one module per family: arithmetic, shape, elementwise, softmax, minmax
(maximum, minimum, max, min), select (where, clip), split, setitem (``x[index] = v`` on a
tensor) and no_gradient (argmax, argmin).
"""
