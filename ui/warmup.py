"""Fill the disk cache for every page at its default settings: ``python -m ui.warmup``.

Run it once after deploying (or after changing ``explain/``): it opens every page, and each
tab that computes something only when opened, headless in this process, so every long MNIST
result a default page shows is trained once and written to Streamlit's disk cache. Servers
started afterwards, and every server process behind the proxy, read those results instead
of making their first visitors wait. Prints how long each page took.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Tabs whose content is computed only when the tab is open, per page URL.
LAZY_TABS: dict[str, list[dict[str, str]]] = {
    "vanishing-gradients": [
        {"mnist_tab": "Speed of learning"},
        {"mnist_tab": "Accuracy against depth"},
    ],
    "batch-norm": [{"buys_tab": "Depth"}, {"buys_tab": "Mini-batch size"}],
    "regularization": [{"remedy_tab": "Summary"}],
}


def visits() -> list[tuple[str, str, dict[str, str]]]:
    """(url path, script path, query) for every page at its defaults and every lazy tab."""
    from ui.site import PAGES

    out = []
    for p in PAGES:
        for query in [{}, *LAZY_TABS.get(p.url_path, [])]:
            out.append((p.url_path or "home", p.path, query))
    return out


def main() -> int:
    from streamlit.testing.v1 import AppTest

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    failed = 0
    for name, path, query in visits():
        start = time.perf_counter()
        at = AppTest.from_file(str(ROOT / path), default_timeout=600)
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
        took = time.perf_counter() - start
        where = name + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        status = "error" if at.exception else "ok"
        failed += status == "error"
        print(f"{where:<50} {took:7.1f} s  {status}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
