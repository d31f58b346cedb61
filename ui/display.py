"""How a chart meets the reader: full width, with a sentence saying what to look at."""

from __future__ import annotations

import altair as alt
import streamlit as st


def show_chart(chart: alt.TopLevelMixin, look_at: str) -> None:
    """Draw ``chart`` across the column, then one sentence telling the reader what to see."""
    st.altair_chart(chart, width="stretch")
    st.caption(look_at)
