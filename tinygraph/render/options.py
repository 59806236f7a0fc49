"""The options of a picture (``tg.to_dot(out, view, **options)``), checked before any work.

Every option has a type and a range, and most change only some views (the forward view draws
no gradient, the rolled view neither gradients nor a fold): a value that would be ignored is
an error naming the option and the view, never a silently different picture.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from tinygraph.errors import ConfigError, RenderError

VIEWS = ("forward", "backward", "both", "rolled", "step")
FORWARD_VIEWS = ("forward", "both", "rolled", "step")     # views that show tensors' values
GRADIENT_VIEWS = ("backward", "both", "step")             # views that draw gradients
UNROLLED_VIEWS = ("forward", "backward", "both", "step")  # views with a column per step
FOLDING_VIEWS = ("forward", "backward", "both")           # views with the steps side by side
LEGEND_PLACES = (True, False, "below", "beside")


@dataclass
class Options:
    """What the labels show and how edges are coloured (see :func:`tinygraph.to_dot`)."""

    view: str = "forward"
    show_shapes: bool = False
    show_values: bool = False
    show_grads: bool = False
    show_grad_norms: bool = False
    show_saved: bool = False
    color_by: str | None = None
    max_steps: int | None = None
    max_nodes: int | None = 6000
    legend: bool | str = True
    title: str | None = None
    width: int | None = None
    t: Any = None


# the views in which an option changes the picture (all views for the options not listed)
APPLIES_TO = {
    "show_shapes": FORWARD_VIEWS,
    "show_values": FORWARD_VIEWS,
    "show_grads": GRADIENT_VIEWS,
    "show_grad_norms": GRADIENT_VIEWS,
    "show_saved": ("forward", "both", "step"),
    "color_by": UNROLLED_VIEWS,
    "max_steps": FOLDING_VIEWS,
    "t": ("step",),
}
FLAGS = ("show_shapes", "show_values", "show_grads", "show_grad_norms", "show_saved")
DEFAULTS = Options()


def check_options(view: str, options: dict[str, Any], where: str = "to_dot") -> Options:
    """The options of one picture, each checked: known, of its type and range, and useful in
    ``view`` (a value other than the default in a view it does not change is refused); errors
    name ``where``, the function the user called."""
    if view not in VIEWS:
        raise RenderError(f"{where}: view must be one of {', '.join(VIEWS)}; got {view!r}")
    names = [f.name for f in fields(Options) if f.name != "view"]
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise RenderError(f"{where}: unknown option(s) {', '.join(unknown)}; known: "
                          + ", ".join(names))
    opts = Options(view=view, **options)
    if isinstance(opts.legend, np.bool_):
        opts.legend = bool(opts.legend)
    for name in FLAGS:
        if not isinstance(getattr(opts, name), (bool, np.bool_)):
            raise ConfigError(f"{where}: {name} must be True or False, got {getattr(opts, name)!r}")
    if opts.color_by not in (None, "grad_norm"):
        raise RenderError(f"{where}: color_by must be None or 'grad_norm', got {opts.color_by!r}")
    if not any(opts.legend is place or (opts.legend == place and isinstance(opts.legend, str))
               for place in LEGEND_PLACES):
        raise ConfigError(f"{where}: legend must be True, False, 'below' or 'beside', "
                          f"got {opts.legend!r}")
    _check_count(where, "max_steps", opts.max_steps, 2, "(the first and last step)")
    _check_count(where, "max_nodes", opts.max_nodes, 1, "")
    _check_count(where, "width", opts.width, 100, "(pixels)")
    if view == "step" and opts.t is None:
        raise ConfigError(f"{where}: view='step' draws one step: give it, e.g. t=2")
    if opts.title is not None and not isinstance(opts.title, str):
        raise ConfigError(f"{where}: title must be a str or None, got {type(opts.title).__name__}")
    for name, views in APPLIES_TO.items():
        if view not in views and getattr(opts, name) != getattr(DEFAULTS, name):
            raise ConfigError(f"{where}: {name}={getattr(opts, name)!r} changes nothing in the "
                              f"{view!r} view; it applies to the views {', '.join(views)}")
    return opts


def needs_grads(opts: Options) -> bool:
    """Whether the picture shows gradients (a backward view, or edges coloured by their norm)."""
    return opts.view in GRADIENT_VIEWS or opts.color_by is not None


def _check_count(where: str, name: str, value: Any, least: int, why: str) -> None:
    """``value`` is None or an int >= ``least``; else a ConfigError naming the option."""
    if value is None:
        return
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < least:
        raise ConfigError(f"{where}: {name} must be an int >= {least}{' ' + why if why else ''} or "
                          f"None, got {value!r}")
