"""The site map: every page once, with its section, so navigation and links agree."""

from __future__ import annotations

from typing import NamedTuple


class PageInfo(NamedTuple):
    path: str  # script, relative to the repository root
    title: str  # the page's heading
    section: str
    url_path: str  # "" for the home page
    icon: str
    short_title: str = ""  # the sidebar's name for the page, if the title is too long for it

    @property
    def nav_title(self) -> str:
        """The page's name in the sidebar: its short title, or else its title."""
        return self.short_title or self.title


SECTIONS = ("Start", "One neuron", "Deep networks", "Training better")

PAGES: tuple[PageInfo, ...] = (
    PageInfo("pages/start/home.py", "Home", "Start", "", ":material/home:"),
    PageInfo(
        "pages/one_neuron/learning_slowdown.py",
        "Learning slowdown",
        "One neuron",
        "learning-slowdown",
        ":material/hourglass_bottom:",
    ),
    PageInfo(
        "pages/one_neuron/cross_entropy.py",
        "The cross-entropy fix",
        "One neuron",
        "cross-entropy",
        ":material/bolt:",
    ),
    PageInfo(
        "pages/deep_networks/vanishing_gradients.py",
        "Vanishing and exploding gradients",
        "Deep networks",
        "vanishing-gradients",
        ":material/trending_down:",
        short_title="Vanishing & exploding",
    ),
    PageInfo(
        "pages/deep_networks/activations.py",
        "Activation functions",
        "Deep networks",
        "activations",
        ":material/show_chart:",
    ),
    PageInfo(
        "pages/deep_networks/weight_init.py",
        "Weight initialization",
        "Deep networks",
        "weight-initialization",
        ":material/tune:",
    ),
    PageInfo(
        "pages/training_better/optimizers.py",
        "Optimizers",
        "Training better",
        "optimizers",
        ":material/speed:",
    ),
    PageInfo(
        "pages/training_better/batch_norm.py",
        "Batch normalization, and layer and group norm",
        "Training better",
        "batch-norm",
        ":material/equalizer:",
        short_title="Batch, layer & group norm",
    ),
    PageInfo(
        "pages/training_better/learning_rate.py",
        "The learning rate and its schedule",
        "Training better",
        "learning-rate",
        ":material/timeline:",
        short_title="Learning rate & schedules",
    ),
    PageInfo(
        "pages/training_better/regularization.py",
        "Overfitting and regularization",
        "Training better",
        "regularization",
        ":material/filter_alt:",
        short_title="Overfitting & regularization",
    ),
    PageInfo(
        "pages/training_better/lab.py",
        "The training lab",
        "Training better",
        "training-lab",
        ":material/science:",
    ),
)


def page_url(url_path: str) -> str:
    """The relative link to a page, e.g. '/vanishing-gradients'."""
    return "/" + url_path


def page_by_url(url_path: str) -> PageInfo | None:
    """The page served at ``url_path``, if the site has it yet."""
    return next((p for p in PAGES if p.url_path == url_path), None)


def link(url_path: str, text: str) -> str:
    """A Markdown link to a page if the site has it, else the plain text."""
    return f"[{text}]({page_url(url_path)})" if page_by_url(url_path) else text
