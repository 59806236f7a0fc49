"""detect_anomaly names the first op whose forward or backward produced NaN or Inf."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg


def test_forward_anomaly_names_the_op_scope_and_input_ranges():
    x = tg.Tensor(np.array([1.0, -1.0, 0.0]), requires_grad=True)
    with tg.detect_anomaly(), tg.scope(t=3, layer=1), np.errstate(all="ignore"):
        with pytest.raises(tg.NumericsError) as info:
            tg.log(x)
    message = str(info.value)
    assert message.startswith("log (t=3, layer=1): forward produced non-finite values")
    assert "1 NaN and 1 Inf" in message and "range [-1, 1]" in message


def test_backward_anomaly_names_the_op():
    x = tg.Tensor(np.array([0.0, 4.0]), requires_grad=True)
    y = x**0.5  # finite forward, infinite derivative at 0
    with tg.detect_anomaly(), np.errstate(all="ignore"):
        loss = y.sum()
        with pytest.raises(tg.NumericsError, match=r"backward of pow produced non-finite.*input 0"):
            loss.backward()


def test_without_detect_anomaly_nans_pass_silently_as_in_numpy():
    with np.errstate(all="ignore"):
        y = tg.log(tg.Tensor([-1.0], requires_grad=True))
    assert np.isnan(y.data).all()


def test_detect_anomaly_restores_the_previous_state():
    with tg.detect_anomaly():
        pass
    with np.errstate(all="ignore"):
        tg.log(tg.Tensor([-1.0]))  # no error outside the block
