"""One colour-blind-safe palette (Okabe and Ito) with fixed meanings across the site."""

from __future__ import annotations

OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}

# A series name always gets the same colour, whichever page draws it.
SERIES_COLOURS: dict[str, str] = {
    "σ(z)": OKABE_ITO["blue"],
    "σ′(z)": OKABE_ITO["orange"],
    "quadratic": OKABE_ITO["vermillion"],
    "cross-entropy": OKABE_ITO["blue"],
    "softmax + log-likelihood": OKABE_ITO["green"],
    "sigmoid": OKABE_ITO["vermillion"],
    "tanh": OKABE_ITO["blue"],
    "ReLU": OKABE_ITO["green"],
    "leaky ReLU": OKABE_ITO["purple"],
    "ELU": OKABE_ITO["orange"],
    "linear": OKABE_ITO["black"],
    "starts close": OKABE_ITO["sky"],
    "starts badly wrong": OKABE_ITO["purple"],
    "your start": OKABE_ITO["black"],
    "|a − y|": OKABE_ITO["black"],
    "|∂C/∂w|": OKABE_ITO["vermillion"],
    "|∂C/∂b|": "#8C8C8C",
    "your chain": OKABE_ITO["blue"],
    "exploding: w = 100, z = 0": OKABE_ITO["vermillion"],
    "this site": OKABE_ITO["blue"],
    "Nielsen's book": "#8C8C8C",
    "2σ(2z) − 1": OKABE_ITO["sky"],
    "f(z)": OKABE_ITO["blue"],
    "f′(z)": OKABE_ITO["orange"],
    "positive inputs": OKABE_ITO["vermillion"],
    "zero-centred inputs": OKABE_ITO["blue"],
    "raw pixels": OKABE_ITO["vermillion"],
    "mean-subtracted pixels": OKABE_ITO["blue"],
    "training": OKABE_ITO["blue"],
    "validation": OKABE_ITO["orange"],
    "SGD": OKABE_ITO["vermillion"],
    "gradient descent": OKABE_ITO["vermillion"],  # full-batch SGD
    "momentum": OKABE_ITO["blue"],
    "Nesterov": OKABE_ITO["sky"],
    "Adagrad": OKABE_ITO["green"],
    "RMSProp": OKABE_ITO["purple"],
    "Adam": OKABE_ITO["orange"],
    "AdamW": OKABE_ITO["black"],
    "constant": OKABE_ITO["black"],  # the constant learning rate, against every schedule
}

# Hidden layer k (1-based) is always LAYER_COLOURS[k - 1]: first layers dark, later ones light.
LAYER_COLOURS: tuple[str, ...] = (
    "#0072B2",
    "#009E73",
    "#E69F00",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#000000",
    "#999999",
)


def layer_name(k: int) -> str:
    """The legend label of hidden layer k (1-based), the same on every page."""
    return f"hidden layer {k}"


def colours_for(names: list[str]) -> list[str]:
    """Colours for legend entries: fixed ones where known, layer colours otherwise."""
    out = []
    for i, name in enumerate(names):
        if name in SERIES_COLOURS:
            out.append(SERIES_COLOURS[name])
        elif name.startswith("hidden layer "):
            k = int(name.rsplit(" ", 1)[1])
            out.append(LAYER_COLOURS[(k - 1) % len(LAYER_COLOURS)])
        else:
            out.append(LAYER_COLOURS[i % len(LAYER_COLOURS)])
    return out
