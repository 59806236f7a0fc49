"""PyTorch spellings need not exist, but using one says what to write instead, with our own error.

tg.SpellingError is an AttributeError for a missing name (so hasattr() and getattr with a
default keep working) and a TypeError for a keyword a function does not take.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from expect_error import expect

import tinygraph as tg
from tinygraph.spellings import MODULE_NAMES, TENSOR_NAMES


def x23() -> tg.Tensor:
    return tg.Tensor(np.ones((2, 3)), requires_grad=True, name="x")


@pytest.mark.parametrize("name, fragment", [
    ("cat", "use tg.concat(tensors, axis=0)"), ("clamp", "use tg.clip(x, a_min, a_max)"),
    ("concatenate", "tg.concat"), ("amax", "tg.max(x, axis=None"), ("absolute", "tg.abs(x)"),
    ("unsqueeze", "x[None]"), ("nn", "rnn.Linear"),
])
def test_a_pytorch_name_on_the_package_says_what_to_write(name, fragment):
    expect(tg.SpellingError, lambda: getattr(tg, name), f"tg.{name}: not a tinygraph name", fragment)


@pytest.mark.parametrize("name, fragment", [
    ("view", "use x.reshape(...)"), ("unsqueeze", "x[None]"), ("permute", "x.transpose(*axes)"),
    ("t", "x.T"), ("dim", "x.ndim"), ("numel", "x.size"), ("clamp", "x.clip(a_min, a_max)"),
    ("cuda", "CPU"), ("masked_fill", "tg.where(mask, value, x)"),
])
def test_a_pytorch_name_on_a_tensor_says_what_to_write(name, fragment):
    expect(tg.SpellingError, lambda: getattr(x23(), name), f"x.{name}: not a tinygraph name", fragment)


@pytest.mark.parametrize("table, owner", [(MODULE_NAMES, tg), (TENSOR_NAMES, x23())], ids=["tg", "Tensor"])
def test_every_listed_spelling_is_missing_and_hasattr_is_false(table, owner):
    for name in table:
        assert not hasattr(owner, name), name  # a listed name that exists would never be reached
        assert getattr(owner, name, "default") == "default"
        with pytest.raises(AttributeError):
            getattr(owner, name)


def test_a_typo_gets_the_closest_names_and_anything_else_pythons_wording():
    expect(tg.SpellingError, lambda: tg.tahn, "module 'tinygraph' has no attribute 'tahn'",
           "did you mean tg.tanh?")
    # On a Tensor, a typo is Python's own AttributeError (whose traceback suggests the closest
    # name): a __getattr__ fallback would slow down every attribute access of the engine.
    error = expect(AttributeError, lambda: x23().shpe, "'Tensor' object has no attribute 'shpe'")
    assert error.name == "shpe" and type(error) is AttributeError


@pytest.mark.parametrize("call, fragments", [
    (lambda x: x.sum(dim=1), ("sum: use axis=1", "dim= is PyTorch's")),
    (lambda x: x.mean(dim=0, keepdim=True), ("mean: use axis=0",)),
    (lambda x: x.mean(keepdim=True), ("mean: use keepdims=True",)),
    (lambda x: x.max(dim=1), ("max: use axis=1", "values only", "tg.argmax(x, axis)")),
    (lambda x: tg.min(x, dim=1), ("min: use axis=1", "tg.argmin(x, axis)")),
    (lambda x: x.argmax(dim=1), ("argmax: use axis=1",)),
    (lambda x: tg.argmin(x, keepdim=True), ("argmin: use keepdims=True",)),
    (lambda x: tg.split(x, 3, dim=1), ("split: use axis=1",)),
    (lambda x: tg.clip(x, min=0.0), ("clip: use a_min=0.0",)),
    (lambda x: x.clip(max=1.0), ("clip: use a_max=1.0",)),
    (lambda x: x.sum(axes=1), ("sum() got an unexpected keyword argument 'axes'", "axis, keepdims")),
])
def test_a_pytorch_keyword_says_which_to_use(call, fragments):
    error = expect(tg.SpellingError, lambda: call(x23()), *fragments)
    assert isinstance(error, TypeError)


def test_the_numpy_spellings_work():
    x = x23()
    assert x.sum(axis=1).shape == (2,) and x.mean(axis=0, keepdims=True).shape == (1, 3)
    assert x.max(1).shape == (2,) and tg.concat([x, x], axis=1).shape == (2, 6)


def test_an_attribute_error_inside_a_property_is_not_mistaken_for_a_missing_name():
    empty = tg.Tensor.__new__(tg.Tensor)  # no slot set: .shape reads the missing ._data
    with pytest.raises(AttributeError, match="'_data'"):
        empty.shape  # noqa: B018


def test_copy_and_pickle_still_work():
    x = x23()
    for clone in (copy.copy(x), copy.deepcopy(x), pickle.loads(pickle.dumps(x))):
        np.testing.assert_array_equal(clone.data, x.data)
        assert clone.name == "x" and clone.requires_grad
