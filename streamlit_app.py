"""Entry point: page config and navigation, nothing else (the pages live in pages/<section>/)."""

import streamlit as st

from ui.site import PAGES, SECTIONS

st.set_page_config(
    page_title="Why are deep networks hard to train?",
    page_icon=":material/neurology:",
    layout="wide",
)

sections = {
    section: [
        st.Page(
            p.path,
            title=p.nav_title,
            icon=p.icon,
            url_path=p.url_path or None,
            default=not p.url_path,
        )
        for p in PAGES
        if p.section == section
    ]
    for section in SECTIONS
}
st.navigation({name: pages for name, pages in sections.items() if pages}).run()
