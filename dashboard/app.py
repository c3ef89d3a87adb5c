"""Entry point: `streamlit run dashboard/app.py [-- --published-dir DIR]` (or `make dashboard`).

Pages live in dashboard/views/ (not pages/: that name switches Streamlit to its legacy
multi-page mode) and are wired here with st.navigation; the sidebar names the
release being shown. Every page reads the published marts through dashboard.data_access."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `import dashboard` from any working dir

from dashboard import data_access as da  # noqa: E402

PAGES = [
    st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("views/cohorts.py", title="Cohorts", icon=":material/grid_on:"),
    st.Page("views/segments.py", title="Segments and tiers", icon=":material/groups:"),
    st.Page("views/customer.py", title="Customer", icon=":material/person_search:"),
    st.Page("views/model_quality.py", title="Model quality", icon=":material/monitoring:"),
    st.Page("views/campaigns.py", title="Campaigns", icon=":material/campaign:"),
]


def release_sidebar() -> bool:
    """Name the release in the sidebar; False (with a note) when nothing is published yet."""
    try:
        info = da.release_info()
    except da.NoRelease as exc:
        st.info(f"{exc}.")
        return False
    st.sidebar.caption(
        f"Dataset **{info.dataset or 'unknown'}** · release `{info.release_id}`  \n"
        f"published {info.published_at:%Y-%m-%d %H:%M} UTC",
        help=f"Release folder: {info.folder}",
    )
    return True


st.set_page_config(page_title="Loyalty analytics", page_icon=":material/loyalty:", layout="wide")
page = st.navigation(PAGES)
if release_sidebar():
    page.run()
