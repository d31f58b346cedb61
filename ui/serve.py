"""Start the site: ``python -m ui.serve [streamlit options]`` is ``streamlit run
streamlit_app.py [options]`` without one wart of streamlit 1.67.

Streamlit treats a folder named ``pages/`` beside the entry script as its old automatic
multipage mode until the first ``st.navigation`` call of the process. The very first run
of a fresh server therefore goes through that mode, which knows no page but the entry
script, and a visitor who arrives by a deep link (``/learning-slowdown``) is shown a
"Page not found" notice over the right page. Telling Streamlit before it starts that the
app does not use that mode removes the notice; everything else is plain ``streamlit run``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENTRY = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


def streamlit_argv(args: list[str]) -> list[str]:
    """The ``streamlit run`` command line for our options: ``--dev`` shows full tracebacks
    in the page (the hosted default in .streamlit/config.toml shows none)."""
    if "--dev" in args:
        args = [a for a in args if a != "--dev"] + ["--client.showErrorDetails=full"]
    return ["streamlit", "run", ENTRY, *args]


def main(argv: list[str] | None = None) -> None:
    """Run the site with ``argv`` as extra ``streamlit run`` options (and ``--dev``)."""
    # One BLAS thread per process: sessions already run in parallel threads, and OpenBLAS's
    # own threads busy-wait and fight them for the two cores (a 300-epoch run measured 5x
    # slower with two BLAS threads on a loaded server). Must be set before numpy loads.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    # The flag is read once per process, when the first session starts; st.navigation
    # sets it to False anyway, this only does so before the first run rather than after.
    PagesManager.uses_pages_directory = False
    sys.argv = streamlit_argv(list(sys.argv[1:] if argv is None else argv))
    cli.main()


if __name__ == "__main__":
    main()
