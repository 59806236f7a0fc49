"""numpy's own functions on tensors: ``np.tanh(np.dot(W, x) + b)`` records the same graph as
``tg.tanh(tg.matmul(W, x) + b)``.

numpy hands a call to the objects it is given when they ask for it: a ufunc (``np.tanh``,
``np.add``, ``ndarray + x``) calls ``Tensor.__array_ufunc__`` (NEP 13), any other numpy function
(``np.dot``, ``np.sum``, ``np.concatenate``) calls ``Tensor.__array_function__`` (NEP 18). Each
looks the numpy callable up in a table and applies the tg op it stands for: the same Op class,
so the same node, name, picture, trace and gradient as the tg spelling.

Modules: :mod:`~tinygraph.numpy_protocols.ufuncs` (the ufunc table),
:mod:`~tinygraph.numpy_protocols.functions` (the function table) and
:mod:`~tinygraph.numpy_protocols.refusals` (the messages for everything else: a call that is
not in a table, ``out=`` and ``where=``, and numpy turning a tensor into an ndarray).
"""
